export { GiveUp, waitFor, WaitForTimeoutError } from './wait-for';
export { uniqueName } from './unique-name';
export { freePort } from './free-port';
