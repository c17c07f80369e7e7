import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in seconds; NaN once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** CPU time every process of the machine has used (all cores, seconds): /proc/stat, idle and iowait left out. */
function machineCpuSeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/**
 * Starts measuring; the returned function gives each process's CPU use since then, in % of one
 * core, and `machine`: every process on the machine (others' work included), same unit.
 */
export function measureCpu(pids: Record<string, number>): () => Record<string, number> {
  const started = performance.now();
  const all = { ...pids, machine: 0 };
  const seconds = (name: string, pid: number) => (name === 'machine' ? machineCpuSeconds() : cpuSeconds(pid));
  const before = Object.fromEntries(Object.entries(all).map(([name, pid]) => [name, seconds(name, pid)]));
  return () => {
    const elapsed = (performance.now() - started) / 1000;
    return Object.fromEntries(
      Object.entries(all)
        .map(([name, pid]): [string, number] => [name, Math.round((100 * (seconds(name, pid) - before[name])) / elapsed)])
        .filter(([, percent]) => Number.isFinite(percent)),
    );
  };
}
