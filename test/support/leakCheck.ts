/**
 * What a test file left behind: PostgreSQL connections this jest process still holds to the
 * suite's server (and any other TCP socket it still has open or listening: a throwaway cluster,
 * a proxy), and processes it spawned that are still alive. Run by leakCheckEnvironment.ts
 * after every test file (after its afterAll hooks), so a leak fails the file that made it.
 *
 * Connections are identified by socket ownership, not by name: every TCP socket in this process's
 * fd table whose peer is the server's port is a connection the file opened (earlier files were
 * checked when they ended), whatever application_name the pool chose. pg_stat_activity then says
 * what each one is doing. Processes are the live children of this process plus every process whose
 * environment carries this file's token (grandchildren re-parented to init after their parent was
 * killed still carry it). The shared embedded server of `.orbit-test` is never one of them,
 * whichever file happened to start it.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';

/** Environment variable carrying the running test file's token into every process it spawns. */
export const LEAK_TOKEN_VAR = 'TEST_FILE_LEAK_TOKEN';

export interface LeakedConnection {
  readonly localPort: number;
  /** Filled from pg_stat_activity when the server still lists the backend. */
  readonly backendPid?: number;
  readonly applicationName?: string;
  readonly state?: string;
  readonly query?: string;
}

export interface LeakedProcess {
  readonly pid: number;
  readonly cmdline: string;
}

export interface Leaks {
  readonly connections: readonly LeakedConnection[];
  /** Other TCP sockets still open: connections to other servers (throwaway clusters, proxies), listeners. */
  readonly sockets: readonly OwnSocket[];
  readonly processes: readonly LeakedProcess[];
}

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** Inodes of the sockets open in this process (`/proc/self/fd/N -> socket:[inode]`). */
const ownSocketInodes = (): Set<string> => {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // The fd closed while we listed them.
    }
  }
  return inodes;
};

/** A TCP socket in this process's fd table, connected or listening. */
export interface OwnSocket {
  readonly state: 'ESTABLISHED' | 'LISTEN';
  readonly local: string;
  readonly localPort: number;
  readonly remote: string;
  readonly remotePort: number;
}

const STATES: Readonly<Record<string, OwnSocket['state']>> = { '01': 'ESTABLISHED', '0A': 'LISTEN' };

/** `0100007F:1F90` (little-endian IPv4) or a 32-digit IPv6 as printed by /proc/net/tcp6. */
const address = (hex: string): { host: string; port: number } => {
  const [ip = '', port = ''] = hex.split(':');
  const host =
    ip.length === 8
      ? [6, 4, 2, 0].map((i) => parseInt(ip.slice(i, i + 2), 16)).join('.')
      : ip === '0000000000000000FFFF00000100007F'
        ? '127.0.0.1'
        : `[${ip}]`;
  return { host, port: parseInt(port, 16) };
};

/** This process's established and listening TCP sockets (IPv4 and IPv6). */
export const ownTcpSockets = (): OwnSocket[] => {
  const inodes = ownSocketInodes();
  const sockets: OwnSocket[] = [];
  for (const table of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    const lines = (readText(table) ?? '').split('\n').slice(1);
    for (const line of lines) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      const [localHex, remoteHex, st, inode] = [f[1], f[2], f[3], f[9]];
      const state = st === undefined ? undefined : STATES[st];
      if (!localHex || !remoteHex || !inode || !state || !inodes.has(inode)) continue;
      const local = address(localHex);
      const remote = address(remoteHex);
      sockets.push({ state, local: local.host, localPort: local.port, remote: remote.host, remotePort: remote.port });
    }
  }
  return sockets.sort((a, b) => a.localPort - b.localPort);
};

/** The server's TCP port from a connection URL, or undefined for a socket directory / no port. */
export const tcpPortOf = (url: string): number | undefined => {
  try {
    const u = new URL(url);
    if (u.hostname === '' || u.searchParams.get('host')?.startsWith('/')) return undefined;
    return u.port === '' ? 5432 : Number(u.port);
  } catch {
    return undefined;
  }
};

/**
 * The shared embedded server of `.orbit-test` (started by globalSetup, or by a test through
 * ensureEmbeddedServer, and left running on purpose for the next run): its postmaster's pid.
 */
export const sharedServerPid = (repoRoot: string): number | undefined => {
  const first = (readText(path.join(repoRoot, '.orbit-test', 'pg', 'postmaster.pid')) ?? '').split('\n')[0];
  return first && /^\d+$/.test(first) ? Number(first) : undefined;
};

/**
 * Live processes (zombies excluded) that are this process's children or carry `token`, except
 * `excluded` pids and their descendants.
 */
export const leftoverProcesses = (token: string, excluded: readonly number[] = []): LeakedProcess[] => {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const parent = new Map<number, number>();
  const candidates: LeakedProcess[] = [];
  for (const p of pids) {
    const pid = Number(p);
    const stat = readText(`/proc/${p}/stat`);
    if (!stat) continue;
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parent.set(pid, Number(ppid));
    if (pid === process.pid || state === 'Z' || state === 'X') continue;
    const child = Number(ppid) === process.pid;
    const marked = (readText(`/proc/${p}/environ`) ?? '').split('\0').includes(`${LEAK_TOKEN_VAR}=${token}`);
    if (!child && !marked) continue;
    const cmdline = (readText(`/proc/${p}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
    candidates.push({ pid, cmdline: cmdline.slice(0, 300) });
  }
  const underExcluded = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) {
      if (excluded.includes(p)) return true;
    }
    return false;
  };
  return candidates.filter((c) => !underExcluded(c.pid));
};

/** Asks the server what the backends behind these local ports are doing. */
const describeConnections = async (url: string, ports: readonly number[]): Promise<LeakedConnection[]> => {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000, application_name: 'orbit-leak-check' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const res = await client.query<{
      pid: number;
      application_name: string;
      state: string | null;
      query: string;
      client_port: number;
    }>(
      `SELECT pid, application_name, state, left(query, 200) AS query, client_port
         FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND pid <> pg_backend_pid()`,
      [ports],
    );
    return ports.map((localPort) => {
      const row = res.rows.find((r) => r.client_port === localPort);
      return row
        ? {
            localPort,
            backendPid: row.pid,
            applicationName: row.application_name,
            state: row.state ?? 'unknown',
            query: row.query,
          }
        : { localPort };
    });
  } catch {
    return ports.map((localPort) => ({ localPort }));
  } finally {
    await client.end().catch(() => undefined);
  }
};

/**
 * Polls for up to `graceMs` (pools and killed children go away asynchronously) and returns what
 * is still there at the end; empty lists when nothing leaked.
 */
export const findLeaks = async (opts: {
  url: string | undefined;
  token: string;
  /** Processes (with their descendants) that are never a leak: the shared embedded server. */
  excludedPids?: () => readonly number[];
  graceMs?: number;
}): Promise<Leaks> => {
  const serverPort = opts.url === undefined ? undefined : tcpPortOf(opts.url);
  const deadline = Date.now() + (opts.graceMs ?? 5_000);
  for (;;) {
    const sockets = ownTcpSockets();
    const isDb = (s: OwnSocket) => s.state === 'ESTABLISHED' && s.remotePort === serverPort;
    const ports = sockets.filter(isDb).map((s) => s.localPort);
    const others = sockets.filter((s) => !isDb(s));
    const processes = leftoverProcesses(opts.token, opts.excludedPids?.() ?? []);
    if (sockets.length === 0 && processes.length === 0) return { connections: [], sockets: [], processes: [] };
    if (Date.now() >= deadline) {
      const described = ports.length > 0 && opts.url !== undefined ? await describeConnections(opts.url, ports) : [];
      // A pool closing as the deadline passed can be gone by now (under load, seconds late):
      // only a connection still open after it was described is a leak.
      const stillOpen = new Set(
        ownTcpSockets()
          .filter(isDb)
          .map((s) => s.localPort),
      );
      const connections = described.filter((c) => stillOpen.has(c.localPort));
      if (connections.length === 0 && others.length === 0 && processes.length === 0)
        return { connections: [], sockets: [], processes: [] };
      return { connections, sockets: others, processes };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** The failure message for a file's leaks. */
export const formatLeaks = (testPath: string, leaks: Leaks): string => {
  const lines = [`leak check: ${testPath} left behind:`];
  for (const c of leaks.connections) {
    lines.push(
      c.backendPid === undefined
        ? `  open PostgreSQL connection from local port ${c.localPort} (not in pg_stat_activity)`
        : `  open PostgreSQL connection: application_name=${JSON.stringify(c.applicationName)} state=${c.state} ` +
            `backend pid ${c.backendPid}, local port ${c.localPort}, last query: ${JSON.stringify(c.query)}`,
    );
  }
  for (const s of leaks.sockets) {
    lines.push(
      s.state === 'LISTEN'
        ? `  listening TCP socket on ${s.local}:${s.localPort}`
        : `  open TCP connection ${s.local}:${s.localPort} -> ${s.remote}:${s.remotePort}`,
    );
  }
  for (const p of leaks.processes) lines.push(`  live child process: pid ${p.pid}: ${p.cmdline}`);
  lines.push('Close every pool, client and server and stop every process the file started (afterAll) before it ends.');
  return lines.join('\n');
};
