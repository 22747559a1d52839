import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** `/proc/<pid>/stat`: state and start time (clock ticks after boot), or null if there is no such process. */
const procStat = (pid: number | 'self'): { state: string; start: string } | null => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19];
    return state === undefined || start === undefined ? null : { state, start };
  } catch {
    return null;
  }
};

const machine = (): { boot: string; ns: string } | null => {
  try {
    return {
      boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      ns: readlinkSync('/proc/self/ns/pid'),
    };
  } catch {
    return null;
  }
};

/**
 * This process, as another process on the same machine can check it: boot id, pid namespace,
 * start time. Null where /proc is not available (then only the lease and threshold apply).
 */
export const processIdentity = (): string | null => {
  const m = machine();
  const self = procStat('self');
  return m === null || self === null ? null : `${m.boot} ${m.ns} ${self.start}`;
};

/**
 * Is the process that registered `identity` with `pid` provably gone? Only answerable for a
 * process of this machine, this boot and this pid namespace; anything else is "not provably".
 * A pid that exists but started at another time was reused: the owner is gone.
 */
export const provablyGone = (host: string, pid: number, identity: string | null): boolean => {
  if (identity === null || host !== hostname()) return false;
  const [boot, ns, start] = identity.split(' ');
  const m = machine();
  if (m === null || boot !== m.boot || ns !== m.ns) return false;
  const now = procStat(pid);
  return now === null || now.start !== start || now.state === 'Z' || now.state === 'X';
};
