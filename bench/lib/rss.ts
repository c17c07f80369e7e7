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

export interface MemoryStatus {
  /** VmRSS: resident now, bytes. */
  readonly rssBytes: number;
  /** VmHWM: the highest RSS the process has had, bytes. */
  readonly hwmBytes: number;
}

/** VmRSS and VmHWM of a process (Linux /proc/<pid>/status). */
export async function memoryStatus(pid: number): Promise<MemoryStatus> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
    if (!match) throw new Error(`No ${name} for process ${pid}`);
    return Number(match[1]) * 1024;
  };
  return { rssBytes: field('VmRSS'), hwmBytes: field('VmHWM') };
}
