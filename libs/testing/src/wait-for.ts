export class WaitForTimeoutError extends Error {
  constructor(
    readonly description: string,
    readonly timeoutMs: number,
    readonly lastError?: unknown,
  ) {
    super(
      `Timed out after ${timeoutMs} ms waiting for ${description}` +
        (lastError instanceof Error ? `; last error: ${lastError.message}` : ''),
    );
  }
}

/** Thrown by a probe when waiting longer is pointless (the process it waits for has exited): waitFor rethrows it at once. */
export class GiveUp extends Error {}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns a value other than undefined/false, or the deadline passes.
 * Tests wait for conditions, never for fixed amounts of time. A probe throwing GiveUp ends the wait at once.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 25 }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) throw new WaitForTimeoutError(description, timeoutMs, lastError);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
