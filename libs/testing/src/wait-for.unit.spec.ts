import { GiveUp, waitFor, WaitForTimeoutError } from './wait-for';
import { uniqueName } from './unique-name';

describe('waitFor', () => {
  it('resolves with the first truthy value the probe returns', async () => {
    let calls = 0;
    const value = await waitFor('the third call', () => (++calls === 3 ? 'ready' : undefined), { intervalMs: 1 });
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('fails with the description and the last error once the deadline passes', async () => {
    const attempt = waitFor(
      'a condition that never holds',
      () => {
        throw new Error('still broken');
      },
      { timeoutMs: 30, intervalMs: 5 },
    );
    await expect(attempt).rejects.toThrow(WaitForTimeoutError);
    await expect(attempt).rejects.toThrow(/a condition that never holds.*still broken/);
  });

  it('stops at once when the probe gives up', async () => {
    let calls = 0;
    const attempt = waitFor('a process that exited', () => {
      calls++;
      throw new GiveUp('it exited with 1');
    }, { timeoutMs: 10_000, intervalMs: 5 });
    await expect(attempt).rejects.toThrow(new GiveUp('it exited with 1'));
    expect(calls).toBe(1);
  });
});

describe('uniqueName', () => {
  it('gives distinct, identifier-safe names', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName('Topic')));
    expect(names.size).toBe(100);
    for (const name of names) expect(name).toMatch(/^topic_[a-z0-9_]+$/);
  });
});
