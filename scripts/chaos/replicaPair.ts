/**
 * A throwaway primary and its streaming replica (made with pg_basebackup), from the embedded
 * server's binaries, for failover tests and chaos R10: the primary can be killed with kill -9
 * and the replica promoted. The shared server is never touched.
 *
 *   const p = await startReplicaPair({ synchronous: true });
 *   p.url                    // postgres://postgres@127.0.0.1:P,127.0.0.1:R/postgres?target_session_attrs=read-write
 *   await p.killPrimary();   // SIGKILL to the postmaster and every backend
 *   await p.promote();       // pg_ctl promote on the replica, waits until it takes writes
 *   await p.dispose();
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { Client } from 'pg';
import { formatError } from '../../src/errors';
import { locateBinaries } from '../../src/server/embedded/binaries';
import { pickFreePort } from '../../src/server/embedded/cluster';
import { run, type RunAs } from '../../src/server/embedded/proc';
import { chownTo, resolveRunAs } from '../../src/server/embedded/user';
import { sleep } from '../../src/util/sleep';

export interface ReplicaPair {
  /** Both hosts, primary first, asking for a read-write session. */
  readonly url: string;
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  readonly primaryPort: number;
  readonly replicaPort: number;
  /**
   * kill -9 of the primary's postmaster and all its processes (a machine dying, not a shutdown).
   * Resolves, once it is dead, with the time (Date.now()) the signals were sent.
   */
  killPrimary(): Promise<number>;
  /** `pg_ctl promote -w` on the replica: resolves once it takes writes. */
  promote(): Promise<void>;
  /** Waits until the replica has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  /**
   * With `relay`: stop passing the primary's WAL to the replica (a replica falling behind); what the
   * primary commits from now on reaches the replica only if released. killPrimary drops it.
   */
  holdReplication(): void;
  /**
   * Starts the killed primary's data directory again on a port of its own (crash recovery, no
   * replica): what it had committed, to compare with the promoted replica. Its URL.
   */
  startOldPrimary(): Promise<string>;
  dispose(): Promise<void>;
}

/** A TCP relay between the replica's WAL receiver and the primary that can hold the primary's bytes. */
interface Relay {
  readonly port: number;
  hold(): void;
  close(): void;
}

const startRelay = async (target: number): Promise<Relay> => {
  const upstreams = new Set<net.Socket>();
  const sockets = new Set<net.Socket>();
  let held = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    for (const sock of [client, upstream]) {
      sockets.add(sock);
      sock.on('error', () => undefined);
      sock.on('close', () => {
        sockets.delete(sock);
        client.destroy();
        upstream.destroy();
      });
    }
    upstreams.add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => client.write(d));
    if (held) upstream.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    hold: () => {
      held = true;
      for (const u of upstreams) u.pause();
    },
    close: () => {
      server.close();
      for (const sock of sockets) sock.destroy();
    },
  };
};

const TIMEOUT_MS = 120_000;
const TOOLS = ['initdb', 'pg_ctl', 'postgres'];

/** Where the PostgreSQL programs come from, and whether they include pg_basebackup. */
interface BinDir {
  readonly dir: string;
  readonly basebackup: boolean;
}

const exists = (file: string): Promise<boolean> =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/**
 * initdb, pg_ctl and postgres of one version: `PG_BINDIR`, else the newest /usr/lib/postgresql/N/bin
 * (which has pg_basebackup), else the embedded package's (which has not: the replica is then a cold
 * copy of the cleanly stopped primary, so a machine without a system PostgreSQL still runs this).
 */
const findBinDir = async (): Promise<BinDir> => {
  const has = async (dir: string) => (await Promise.all(TOOLS.map((t) => exists(path.join(dir, t))))).every(Boolean);
  const withBasebackup = async (dir: string): Promise<BinDir> => ({
    dir,
    basebackup: await exists(path.join(dir, 'pg_basebackup')),
  });
  const given = process.env.PG_BINDIR;
  if (given !== undefined && given !== '') {
    if (await has(given)) return withBasebackup(given);
    throw new Error(`PG_BINDIR=${given} lacks one of ${TOOLS.join(', ')}`);
  }
  const versions = (await fs.readdir('/usr/lib/postgresql').catch(() => [] as string[])).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = path.join('/usr/lib/postgresql', v, 'bin');
    if ((await has(dir)) && (await exists(path.join(dir, 'pg_basebackup')))) return withBasebackup(dir);
  }
  const embedded = locateBinaries();
  if (E.isRight(embedded)) return withBasebackup(path.dirname(embedded.right.pgCtl));
  throw new Error(`no PostgreSQL with ${TOOLS.join(', ')} found: install postgresql (Debian) or set PG_BINDIR`);
};

const urlAt = (port: number): string => `postgres://postgres@127.0.0.1:${port}/postgres`;

/** The processes whose parent is `pid` (the postmaster's backends), from /proc. */
const childrenOf = async (pid: number): Promise<number[]> => {
  const out: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 is the parent pid; the command (field 2) may hold spaces, so count from its ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(entry));
  }
  return out;
};

const query = async <R>(url: string, sql: string): Promise<R | undefined> => {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const r = await c.query(sql);
    return r.rows[0] as R | undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
};

const waitFor = async (what: string, check: () => Promise<boolean>): Promise<void> => {
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`replica pair: ${what} did not happen within ${TIMEOUT_MS / 1000} s`);
};

export const startReplicaPair = async (opts: {
  readonly synchronous: boolean;
  readonly label?: string;
  /** Stream the WAL through a relay in this process, so holdReplication can make the replica lag. */
  readonly relay?: boolean;
}): Promise<ReplicaPair> => {
  const { dir: binDir, basebackup } = await findBinDir();
  const runAsE = await resolveRunAs(os.tmpdir(), process.env);
  if (E.isLeft(runAsE)) throw new Error(formatError(runAsE.left));
  const runAs: RunAs | undefined = runAsE.right;
  const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), `${opts.label ?? 'orbit-pair'}-`));
  await chownTo(baseDir, runAs);
  const primaryDir = path.join(baseDir, 'primary');
  const replicaDir = path.join(baseDir, 'replica');
  const [primaryPort, replicaPort] = [await pickFreePort(), await pickFreePort()];
  const tool = async (name: string, args: readonly string[]): Promise<void> => {
    const r = await run(path.join(binDir, name), args, { runAs, cwd: baseDir, env: process.env, timeoutMs: TIMEOUT_MS });
    if (r.code !== 0) throw new Error(`${name} ${args.join(' ')}: ${r.output.trim() || r.spawnError || `exit ${r.code}`}`);
  };
  const startServer = (dir: string, port: number, log: string): Promise<void> =>
    tool('pg_ctl', ['start', '-w', '-D', dir, '-l', path.join(baseDir, log), '-o', `-p ${port} -h 127.0.0.1 -k '${baseDir}'`]);

  let relay: Relay | undefined;
  const stopAll = async (): Promise<void> => {
    relay?.close();
    for (const dir of [replicaDir, primaryDir]) {
      await run(path.join(binDir, 'pg_ctl'), ['stop', '-m', 'immediate', '-D', dir], {
        runAs,
        cwd: baseDir,
        env: process.env,
        timeoutMs: 30_000,
      });
    }
    await fs.rm(baseDir, { recursive: true, force: true });
  };
  try {
    return await setUp();
  } catch (err) {
    await stopAll();
    throw err;
  }

  async function setUp(): Promise<ReplicaPair> {
    await tool('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
    const conf = ['wal_level = replica', 'max_wal_senders = 4', 'hot_standby = on', 'max_connections = 200', 'fsync = on'];
    await fs.appendFile(path.join(primaryDir, 'postgresql.conf'), `\n${conf.join('\n')}\n`);
    await startServer(primaryDir, primaryPort, 'primary.log');
    if (basebackup) {
      await tool('pg_basebackup', [
        '-h',
        '127.0.0.1',
        '-p',
        String(primaryPort),
        '-U',
        'postgres',
        '-D',
        replicaDir,
        '-R',
        '-X',
        'stream',
      ]);
    } else {
      // A cold base backup: a copy of a cleanly stopped primary is a valid start for a streaming
      // replica (same system identifier and timeline); standby.signal makes it one.
      await tool('pg_ctl', ['stop', '-m', 'fast', '-w', '-D', primaryDir]);
      await fs.cp(primaryDir, replicaDir, { recursive: true });
      await fs.rm(path.join(replicaDir, 'postmaster.pid'), { force: true });
      await fs.writeFile(path.join(replicaDir, 'standby.signal'), '');
      await chownTo(replicaDir, runAs, true);
      await startServer(primaryDir, primaryPort, 'primary.log');
    }
    // The name the primary's synchronous_standby_names waits for (later lines of the file win).
    if (opts.relay === true) relay = await startRelay(primaryPort);
    await fs.appendFile(
      path.join(replicaDir, 'postgresql.auto.conf'),
      `\nprimary_conninfo = 'host=127.0.0.1 port=${relay?.port ?? primaryPort} user=postgres application_name=replica'\n`,
    );
    await startServer(replicaDir, replicaPort, 'replica.log');
    const primaryUrl = urlAt(primaryPort);
    const replicaUrl = urlAt(replicaPort);
    await waitFor('streaming replication', async () => {
      const r = await query<{ n: string }>(primaryUrl, "SELECT count(*) AS n FROM pg_stat_replication WHERE state = 'streaming'");
      return Number(r?.n) > 0;
    });

    if (opts.synchronous) {
      // A synchronous pair: a commit returns once the replica has flushed it, so nothing a client saw
      // committed is lost. Set on the primary only after the base backup: a promoted replica that
      // inherited it would wait forever for a standby of its own.
      await query(primaryUrl, "ALTER SYSTEM SET synchronous_standby_names = 'replica'");
      await query(primaryUrl, 'ALTER SYSTEM SET synchronous_commit = on');
      await query(primaryUrl, 'SELECT pg_reload_conf()');
      await waitFor('synchronous replication', async () => {
        const r = await query<{ n: string }>(
          primaryUrl,
          "SELECT count(*) AS n FROM pg_stat_replication WHERE sync_state = 'sync'",
        );
        return Number(r?.n) > 0;
      });
    }

    const primaryPid = async (): Promise<number | undefined> => {
      const text = await fs.readFile(path.join(primaryDir, 'postmaster.pid'), 'utf8').catch(() => '');
      const pid = Number(text.split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    };

    return {
      url: `postgres://postgres@127.0.0.1:${primaryPort},127.0.0.1:${replicaPort}/postgres?target_session_attrs=read-write`,
      primaryUrl,
      replicaUrl,
      primaryPort,
      replicaPort,
      killPrimary: async () => {
        const pid = await primaryPid();
        if (pid === undefined) return Date.now();
        const all = [pid, ...(await childrenOf(pid))];
        const at = Date.now();
        for (const p of all) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await waitFor('the primary to die', async () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        });
        // Whatever the relay still held never reached the replica.
        relay?.close();
        return at;
      },
      holdReplication: () => {
        if (relay === undefined) throw new Error('replica pair: holdReplication needs { relay: true }');
        relay.hold();
      },
      startOldPrimary: async () => {
        const port = await pickFreePort();
        await startServer(primaryDir, port, 'old-primary.log');
        return urlAt(port);
      },
      promote: async () => {
        await tool('pg_ctl', ['promote', '-w', '-D', replicaDir]);
        await waitFor('the promoted replica to take writes', async () => {
          const r = await query<{ rec: boolean }>(replicaUrl, 'SELECT pg_is_in_recovery() AS rec');
          return r?.rec === false;
        });
      },
      caughtUp: async () => {
        const p = await query<{ lsn: string }>(primaryUrl, 'SELECT pg_current_wal_lsn()::text AS lsn');
        await waitFor('the replica to catch up', async () => {
          const r = await query<{ ok: boolean }>(
            replicaUrl,
            `SELECT pg_last_wal_replay_lsn() >= '${p?.lsn ?? '0/0'}'::pg_lsn AS ok`,
          );
          return r?.ok === true;
        });
      },
      dispose: stopAll,
    };
  }
};
