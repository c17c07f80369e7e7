import { readFile } from 'node:fs/promises';

/** Resident set size of a process in bytes (Linux /proc). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`No VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export async function totalRssBytes(pids: readonly number[]): Promise<number> {
  const values = await Promise.all(pids.map(rssBytes));
  return values.reduce((a, b) => a + b, 0);
}
