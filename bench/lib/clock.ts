/**
 * Wall-clock milliseconds with sub-millisecond resolution. Every bench process on this machine
 * reads the same system clock, so times taken in different processes can be subtracted
 * (send in the generator, receive in a subscriber process, sentAt in the command service).
 */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
