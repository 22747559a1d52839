import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from 'pg';
import { sig } from './stats';

/** One row of the table and of results.json. `details` holds the secondary figures. */
export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly figure: string;
  readonly value: number;
  /** Against the matching baseline (S1, S2), or 1M/100k (S3); null where there is none. */
  readonly ratio: number | null;
  readonly goal: string;
  readonly met: boolean;
  /** A correctness failure (not a missed goal): printed as FAIL, and the bench exits non-zero. */
  readonly fail?: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface Baseline {
  readonly insert_tps_1: number;
  readonly insert_tps_16: number;
  /** Every window measured (they are interleaved with S1/S2). */
  readonly samples_1: readonly number[];
  readonly samples_16: readonly number[];
  /** CPU per insert (this process / the server backends), ms. */
  readonly cpu_1: { readonly node_ms_per_insert: number; readonly server_ms_per_insert: number | null };
  readonly cpu_16: { readonly node_ms_per_insert: number; readonly server_ms_per_insert: number | null };
}

export interface Machine {
  readonly cpus: number;
  readonly cpu_model: string;
  readonly memory_gb: number;
  readonly node: string;
  readonly platform: string;
  readonly postgres: string;
  readonly synchronous_commit: string;
  readonly fsync: string;
  readonly wal_sync_method: string;
  readonly shared_buffers: string;
  readonly database: string;
}

export const describeMachine = async (pg: Client, database: string): Promise<Machine> => {
  const show = async (name: string): Promise<string> =>
    ((await pg.query<Record<string, string>>(`SHOW ${name}`)).rows[0] as Record<string, string>)[name] ?? '?';
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    memory_gb: sig(os.totalmem() / 2 ** 30, 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    postgres: await show('server_version'),
    synchronous_commit: await show('synchronous_commit'),
    fsync: await show('fsync'),
    wal_sync_method: await show('wal_sync_method'),
    shared_buffers: await show('shared_buffers'),
    database,
  };
};

export const printMachine = (m: Machine): void => {
  console.log('');
  console.log(`Machine: ${m.cpus} CPU(s) (${m.cpu_model}), ${m.memory_gb} GB, Node ${m.node}, ${m.platform}`);
  console.log(
    `PostgreSQL ${m.postgres}: synchronous_commit=${m.synchronous_commit}, fsync=${m.fsync}, wal_sync_method=${m.wal_sync_method}, shared_buffers=${m.shared_buffers}`,
  );
  console.log(`Database: ${m.database}`);
};

const fmt = (n: number | null): string => {
  if (n === null) return '-';
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  return a >= 1000 ? Math.round(n).toLocaleString('en-US') : a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : a >= 1 ? n.toFixed(2) : n.toFixed(3);
};

const table = (header: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
};

export const printResults = (baseline: Baseline | null, results: readonly ScenarioResult[], scale: number): void => {
  console.log('');
  if (baseline) {
    console.log(
      `Baseline (single-row durable INSERT transactions/s): 1 client ${fmt(baseline.insert_tps_1)}  [${baseline.samples_1.map(fmt).join(', ')}]; ` +
        `16 clients ${fmt(baseline.insert_tps_16)}  [${baseline.samples_16.map(fmt).join(', ')}]`,
    );
    const cpu = (c: Baseline['cpu_1']) => `node ${fmt(c.node_ms_per_insert)} ms, server ${fmt(c.server_ms_per_insert)} ms`;
    console.log(`  CPU per insert: 1 client ${cpu(baseline.cpu_1)}; 16 clients ${cpu(baseline.cpu_16)}`);
  }
  console.log(`Scale ${scale}${scale !== 1 ? ' (goals are judged at the scaled sizes; only a full run checks them)' : ''}`);
  console.log('');
  console.log(
    table(
      ['id', 'scenario', 'figure', 'value', 'ratio', 'goal', 'met'],
      results.map((r) => [r.id, r.title, r.figure, fmt(r.value), fmt(r.ratio), r.goal, r.met ? 'yes' : 'NO']),
    ),
  );
  for (const r of results) {
    const extra = Object.entries(r.details)
      .filter(([, v]) => typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean')
      .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : String(v)}`);
    if (extra.length > 0) console.log(`  ${r.id}: ${extra.join(', ')}`);
  }
};

/** The peers' ratios beside Orbit's: one row per scenario, one column per system. */
export const printPeers = (
  results: readonly ScenarioResult[],
  peers: Readonly<Record<string, { readonly name: string; readonly version: string; readonly error: string | null } & Record<'S1' | 'S2', { readonly value: number; readonly ratio: number } | null>>>,
): void => {
  const list = Object.values(peers);
  const cell = (f: { readonly value: number; readonly ratio: number | null } | null | undefined) =>
    f ? `${fmt(f.ratio)}x (${fmt(f.value)} steps/s)` : '-';
  console.log('');
  console.log('Peers, in the same baseline windows (ratio to the baseline, median of the repetitions):');
  console.log(
    table(
      ['id', 'Orbit', ...list.map((p) => `${p.name} ${p.version}`)],
      (['S1', 'S2'] as const)
        .filter((id) => results.some((r) => r.id === id))
        .map((id) => [id, cell(results.find((r) => r.id === id)), ...list.map((p) => cell(p[id]))]),
    ),
  );
  for (const p of list) if (p.error !== null) console.log(`  ${p.name}: ${p.error}`);
};

export const writeResults = async (
  file: string,
  doc: { machine: Machine; baseline: Baseline | null; scenarios: readonly ScenarioResult[]; [k: string]: unknown },
): Promise<void> => {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const round = (_k: string, v: unknown) => (typeof v === 'number' ? sig(v, 4) : v);
  const baseline = doc.baseline ?? { insert_tps_1: null, insert_tps_16: null };
  await fs.writeFile(file, `${JSON.stringify({ ...doc, baseline }, round, 2)}\n`);
};
