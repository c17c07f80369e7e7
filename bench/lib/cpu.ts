import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in seconds; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
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

export interface CpuTime {
  /** Wall time since the start of the measurement, ms. */
  readonly elapsedMs: number;
  /** CPU time (user + system) each process used since then, ms; `machine`: every process on the machine. Gone processes are left out. */
  readonly cpuMs: Record<string, number>;
}

/** Starts measuring; the returned function gives each process's CPU time since then (ms, 10 ms resolution) and the wall time. */
export function measureCpuTime(pids: Record<string, number>): () => CpuTime {
  const started = performance.now();
  const all = { ...pids, machine: 0 };
  const seconds = (name: string, pid: number) => (name === 'machine' ? machineCpuSeconds() : cpuSeconds(pid));
  const before = Object.fromEntries(Object.entries(all).map(([name, pid]) => [name, seconds(name, pid)]));
  return () => {
    const elapsedMs = performance.now() - started;
    const cpuMs = Object.fromEntries(
      Object.entries(all)
        .map(([name, pid]): [string, number] => [name, Math.round(1000 * (seconds(name, pid) - before[name]))])
        .filter(([, ms]) => Number.isFinite(ms)),
    );
    return { elapsedMs, cpuMs };
  };
}

/** CPU time as % of one core over the wall time, rounded. */
export function cpuPercent({ elapsedMs, cpuMs }: CpuTime): Record<string, number> {
  return Object.fromEntries(Object.entries(cpuMs).map(([name, ms]) => [name, Math.round((100 * ms) / elapsedMs)]));
}

/**
 * Starts measuring; the returned function gives each process's CPU use since then, in % of one
 * core, and `machine`: every process on the machine (others' work included), same unit.
 */
export function measureCpu(pids: Record<string, number>): () => Record<string, number> {
  const time = measureCpuTime(pids);
  return () => cpuPercent(time());
}

/** CPU ms per item of each process in `names` (those measured), and their sum (`all`). */
export function cpuMsPer(cpuMs: Record<string, number>, names: readonly string[], items: number): { perProcess: Record<string, number>; all: number } {
  const measured = names.filter((name) => cpuMs[name] !== undefined);
  const per = (ms: number) => (items > 0 ? Math.round((1000 * ms) / items) / 1000 : NaN);
  return { perProcess: Object.fromEntries(measured.map((name) => [name, per(cpuMs[name])])), all: per(measured.reduce((sum, name) => sum + cpuMs[name], 0)) };
}
