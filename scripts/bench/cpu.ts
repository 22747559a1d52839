import { readFileSync } from 'node:fs';
import { Client } from 'pg';

/**
 * Where CPU goes: this process (process.cpuUsage) and, when PostgreSQL runs on this machine and
 * /proc is readable, the server backends this process talks to. On a 2-core box every figure is
 * a share of the same two cores, so CPU per operation explains throughput better than latency.
 */

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of a process in ms, or null when not readable (not Linux, remote server). */
const procCpuMs = (pid: number): number | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
};

/** Remembers the backend pid of every pg Client that sends a statement while tracking. */
const seenPids = new Set<number>();
let tracking = false;
let installed = false;
const install = () => {
  if (installed) return;
  installed = true;
  const proto = Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: { processID?: number }, ...args: unknown[]) {
    if (tracking && typeof this.processID === 'number') seenPids.add(this.processID);
    return original.apply(this, args);
  };
};

export interface CpuReading {
  /** CPU of this Node process, ms. */
  readonly nodeMs: number;
  /** CPU of the PostgreSQL backends used in the window, ms (null when unreadable). */
  readonly serverMs: number | null;
}

/** Starts learning which backends are in use (call before a warm-up that opens them all). */
export const trackBackends = (): void => {
  install();
  tracking = true;
};

/** CPU of these backends now, ms, keyed by pid (unreadable ones left out). */
export const backendCpu = (pids: Iterable<number>): Map<number, number> => {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const ms = procCpuMs(pid);
    if (ms !== null) out.set(pid, ms);
  }
  return out;
};

/** Sum of the CPU the backends spent between two readings (backends new in `after` count in full). */
export const backendDelta = (before: Map<number, number>, after: Map<number, number>): number | null => {
  if (after.size === 0) return null;
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
};

/**
 * Measures CPU over `work`: this process, and the PostgreSQL backends it used (those seen before
 * and during `work`; a backend opened during `work` counts in full, connection start included).
 */
export const measureCpu = async <A>(work: () => Promise<A>): Promise<{ value: A; cpu: CpuReading }> => {
  trackBackends();
  const before = backendCpu(seenPids);
  const n0 = process.cpuUsage();
  const value = await work();
  const n1 = process.cpuUsage(n0);
  const after = backendCpu(seenPids);
  return { value, cpu: { nodeMs: (n1.user + n1.system) / 1000, serverMs: backendDelta(before, after) } };
};
