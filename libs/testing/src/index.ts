export { GiveUp, waitFor, WaitForTimeoutError } from './wait-for';
export { uniqueName } from './unique-name';
export { freePort } from './free-port';
export { buildApps, REPO_ROOT, startBuiltApp } from './built-apps';
