import { execFile, fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchContext } from './context';
import { median } from './stats';

/** The peers' folder: its own package.json and lockfile, never Orbit's dependencies. */
export const PEERS_DIR = path.resolve(__dirname, '..', '..', '..', 'scripts', 'bench', 'peers');

interface PeerSpec {
  readonly key: string;
  readonly name: string;
  readonly pkg: string;
  readonly runner: string;
}

const SPECS: readonly PeerSpec[] = [
  { key: 'dbos', name: 'DBOS Transact', pkg: '@dbos-inc/dbos-sdk', runner: 'dbos.mjs' },
  { key: 'graphile_worker', name: 'graphile-worker', pkg: 'graphile-worker', runner: 'graphile.mjs' },
];

const installedVersion = (pkg: string): string | null => {
  const file = path.join(PEERS_DIR, 'node_modules', pkg, 'package.json');
  if (!existsSync(file)) return null;
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : null;
};

/**
 * `npm ci` in the peers' folder, once (when a peer's package is missing). False, with one line
 * on stdout, when it fails (no network): the bench then runs without peers.
 */
const ensureInstalled = async (log: (line: string) => void): Promise<boolean> => {
  if (SPECS.every((s) => installedVersion(s.pkg) !== null)) return true;
  log(`peers: installing DBOS Transact and graphile-worker into ${path.relative(process.cwd(), PEERS_DIR)} (npm ci, once)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const error = await new Promise<string | null>((resolve) =>
    execFile(npm, ['ci', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', '--loglevel=error'], { timeout: 300_000 }, (err, _out, stderr) =>
      resolve(err ? (stderr.split('\n').find((l) => /error/i.test(l) && !/complete log/i.test(l))?.trim() ?? err.message) : null),
    ),
  );
  if (error === null && SPECS.every((s) => installedVersion(s.pkg) !== null)) return true;
  log(`peers: install failed (${error ?? 'packages missing after npm ci'}); running without peers`);
  return false;
};

interface Reply {
  readonly ok: boolean;
  readonly error?: string;
  readonly ms?: number;
  readonly steps?: number;
  /** S9's graphile-worker drain: jobs completed. */
  readonly jobs?: number;
  readonly node_cpu_ms?: number;
}

/** One peer's long-lived runner process (set up once, measured in each window). */
export class PeerProcess {
  private readonly replies: Reply[] = [];
  private waiting: ((r: Reply) => void) | undefined;
  private exited: string | undefined;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: Reply) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else this.replies.push(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = `exited (${code ?? signal})`;
      this.waiting?.({ ok: false, error: this.exited });
    });
  }

  next(): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.exited !== undefined) return Promise.resolve({ ok: false, error: this.exited });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async ask(msg: Record<string, unknown>): Promise<Reply> {
    if (this.exited !== undefined) return { ok: false, error: this.exited };
    this.child.send(msg);
    return this.next();
  }

  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const stopped = this.ask({ cmd: 'stop' });
    const timeout = new Promise<void>((r) => setTimeout(r, 10_000).unref());
    await Promise.race([stopped, timeout]);
    if (this.exited === undefined) this.child.kill('SIGKILL');
  }
}

interface PeerState {
  readonly spec: PeerSpec;
  readonly version: string;
  readonly proc: PeerProcess;
  readonly s1: Sample[];
  readonly s2: Sample[];
  error: string | null;
}

interface Sample {
  /** Which baseline window (repetition) it belongs to. */
  readonly window: number;
  readonly sps: number;
  readonly nodeCpuMsPerStep: number;
}

export interface PeerScenario {
  readonly value: number;
  readonly ratio: number;
  readonly samples: readonly number[];
  readonly ratios: readonly number[];
  readonly node_cpu_ms_per_step: number;
}

/** A peer's figures for results.json: steps/s and ratios to the same baseline windows as Orbit's. */
export interface PeerResult {
  readonly name: string;
  readonly version: string;
  readonly S1: PeerScenario | null;
  readonly S2: PeerScenario | null;
  readonly error: string | null;
}

/**
 * DBOS Transact and graphile-worker, each in a runner process of its own (their module systems
 * differ from Orbit's) on its own schema of the bench's database, measured right after Orbit's
 * S1/S2 in each repetition, so that all three are judged against the same baseline windows.
 */
export class Peers {
  private constructor(
    private readonly ctx: BenchContext,
    private readonly peers: PeerState[],
  ) {}

  /** Installs (once) and starts the runners; null when they cannot be installed. */
  static async start(ctx: BenchContext, url: string): Promise<Peers | null> {
    if (!(await ensureInstalled((l) => console.log(l)))) return null;
    const peers: PeerState[] = [];
    for (const spec of SPECS) {
      const schema = `${ctx.prefix}_${spec.key}`;
      ctx.track(schema);
      const child = fork(path.join(PEERS_DIR, spec.runner), [url, schema], {
        cwd: PEERS_DIR,
        execArgv: ['--no-deprecation'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const proc = new PeerProcess(child);
      const ready = await proc.next();
      const version = installedVersion(spec.pkg) ?? '?';
      if (!ready.ok) {
        console.log(`peers: ${spec.name} did not start: ${firstLine(ready.error)}`);
        await proc.stop();
        continue;
      }
      ctx.log(`peers: ${spec.name} ${version} ready (schema ${schema})`);
      peers.push({ spec, version, proc, s1: [], s2: [], error: null });
    }
    return new Peers(ctx, peers);
  }

  /** How many peers started (each measured by its index). */
  get count(): number {
    return this.peers.length;
  }

  private async measure(peer: number, kind: 's1' | 's2', window: number, msg: Record<string, unknown>): Promise<void> {
    const p = this.peers[peer];
    if (p === undefined || p.error !== null) return;
    const r = await p.proc.ask({ cmd: kind, ...msg });
    if (!r.ok || r.ms === undefined || r.steps === undefined) {
      p.error = firstLine(r.error);
      this.ctx.log(`peers: ${p.spec.name} ${kind.toUpperCase()} failed: ${p.error}`);
      return;
    }
    const sample = { window, sps: (r.steps / r.ms) * 1000, nodeCpuMsPerStep: (r.node_cpu_ms ?? Number.NaN) / r.steps };
    p[kind].push(sample);
    this.ctx.log(`${kind.toUpperCase()} ${p.spec.name}: ${sample.sps.toFixed(0)} steps/s`);
  }

  /** A peer's S1: one workflow (chain) of `steps` no-op steps, sequential. */
  s1(peer: number, window: number, steps: number): Promise<void> {
    return this.measure(peer, 's1', window, { steps });
  }

  /** A peer's S2: `runs` workflows of `steps` steps, 16 at a time. */
  s2(peer: number, window: number, runs: number, steps: number, concurrency: number): Promise<void> {
    return this.measure(peer, 's2', window, { runs, steps, concurrency });
  }

  results(baseline1: readonly number[], baseline16: readonly number[]): Record<string, PeerResult> {
    const scenario = (samples: readonly Sample[], baseline: readonly number[]): PeerScenario | null => {
      if (samples.length === 0) return null;
      const ratios = samples.map((s) => s.sps / (baseline[s.window] ?? Number.NaN));
      return {
        value: median(samples.map((s) => s.sps)),
        ratio: median(ratios),
        samples: samples.map((s) => s.sps),
        ratios,
        node_cpu_ms_per_step: median(samples.map((s) => s.nodeCpuMsPerStep)),
      };
    };
    return Object.fromEntries(
      this.peers.map((p) => [
        p.spec.key,
        { name: p.spec.name, version: p.version, S1: scenario(p.s1, baseline1), S2: scenario(p.s2, baseline16), error: p.error },
      ]),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.proc.stop()));
  }
}

const firstLine = (s: string | undefined): string => (s ?? 'unknown error').split('\n')[0] ?? '';
