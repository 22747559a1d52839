/**
 * UI: `orbit ui`'s runs page over many runs (issue 21: "the runs page over one million runs answers
 * in under 200 ms"). Seeds N `runs` rows straight into a scratch schema (the page reads the
 * projection, not the journal), starts the dashboard in-process and times whole HTTP requests: the
 * first page (with the per-status counts), one status, one pipeline, a deep page by keyset cursor,
 * and searches (a value ten runs have, a number, key=value, a value a fifth of the runs have, a
 * value no run has, a run id), each request of a search case a different value. The figure is the
 * slowest case's median.
 */
import { request } from 'node:http';
import * as E from 'fp-ts/Either';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { startUiServer } from '../../src/cli/ui/server';
import type { BenchContext } from './context';
import type { ScenarioResult } from './report';
import { median, nowMs } from './stats';

const get = (url: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

/** Makes `runs` hold exactly `n` seeded rows (kept when it already does: a --keep'd schema is reused). */
export const seedRuns = async (client: OrbitClient, n: number, log: (l: string) => void): Promise<void> => {
  // Rows of an older seed (metadata without `order`) are not reused.
  const have = await client.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${client.db.qs}.runs WHERE metadata ? 'order'`);
  if ((have.rows[0]?.n ?? 0) === n) return;
  const t0 = nowMs();
  await client.db.pool.query(`TRUNCATE ${client.db.qs}.runs CASCADE`);
  await client.db.pool.query(
    `INSERT INTO ${client.db.qs}.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names, started_at,
            finished_at, owner, error, recovery_count, last_seq, last_event_at)
     SELECT 'run_' || lpad(i::text, 8, '0'), 'p' || (i % 5),
            CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 997 = 0 THEN 'running' ELSE 'success' END, null,
            jsonb_build_object('customer', 'c-' || (i % 100000), 'order', i, 'region', 'r' || (i % 5), 'vip', i % 100 = 0), 'h', '["a","b","c"]', now() - make_interval(secs => i),
            now() - make_interval(secs => i) + interval '2 seconds', null, null, 0, 5, now()
       FROM generate_series(1, $1::int) i`,
    [n],
  );
  await client.db.pool.query(`VACUUM ANALYZE ${client.db.qs}.runs`);
  log(`UI: seeded ${n.toLocaleString('en')} runs in ${Math.round(nowMs() - t0)} ms`);
};

export interface RunsPageTimes {
  readonly cases: readonly { readonly label: string; readonly medianMs: number; readonly p95Ms: number }[];
}

/** Times the runs page's requests (`samples` each, after 3 warm-ups) on a dashboard started in-process. */
export const timeRunsPage = async (client: OrbitClient, n: number, samples: number): Promise<RunsPageTimes> => {
  const ui = await startUiServer({ client, port: 0 });
  if (E.isLeft(ui)) throw new Error(ui.left._tag);
  try {
    const older = (body: string) => /id="older" href="\/\?after=([^"]+)"/.exec(body)?.[1] ?? '';
    let deep = older((await get(ui.right.url)).body);
    for (let i = 0; i < 20 && deep !== ''; i++) deep = older((await get(`${ui.right.url}?after=${deep}`)).body);
    // A search case asks for a different value at each request (the i-th of `samples + 3`), so that
    // its figure is over distinct queries, not one query's cached plan and pages.
    const pick = (i: number, mod: number) => 1 + ((i * 7919) % Math.min(n, mod));
    const q = (v: string) => `?q=${encodeURIComponent(v)}`;
    const cases: [string, (i: number) => string][] = [
      ['first page + counts', () => ''],
      ['status=failed', () => '?status=failed'],
      ['pipeline=p3 (+ its counts)', () => '?pipeline=p3'],
      ['page 22 by keyset cursor', () => `?after=${deep}`],
      ['search: a value 10 runs have', (i) => q(`c-${pick(i, 99_999)}`)],
      ['search: a number 1 run has', (i) => q(String(pick(i, n)))],
      ['search: key=value, 1 run', (i) => q(`order=${pick(i, n)}`)],
      ['search: a value 1/5 of runs have', (i) => q(`r${i % 5}`)],
      ['search: a value no run has', (i) => q(`c-x${i}`)],
      ['search: a run id', (i) => q(`run_${String(pick(i, n)).padStart(8, '0')}`)],
    ];
    const out: { label: string; medianMs: number; p95Ms: number }[] = [];
    for (const [label, path] of cases) {
      const times: number[] = [];
      const warm = 3;
      for (let i = 0; i < samples + warm; i++) {
        const t = nowMs();
        const r = await get(`${ui.right.url}${path(i)}`);
        if (r.status !== 200) throw new Error(`${label}: HTTP ${r.status}`);
        if (label.startsWith('search') && !label.includes('no run') && !r.body.includes('href="/runs/run_')) {
          throw new Error(`${label}: ${path(i)} found no run`);
        }
        if (i >= warm) times.push(nowMs() - t);
      }
      times.sort((a, b) => a - b);
      out.push({ label, medianMs: median(times), p95Ms: times[Math.floor(times.length * 0.95)] ?? 0 });
    }
    return { cases: out };
  } finally {
    await ui.right.close();
  }
};

export const runUi = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const n = ctx.size(1_000_000, 1000);
  const client = await ctx.client('ui');
  await seedRuns(client, n, ctx.log);
  const times = await timeRunsPage(client, n, ctx.opts.quick ? 8 : 25);
  for (const c of times.cases) ctx.log(`UI: ${c.label.padEnd(30)} median ${c.medianMs.toFixed(1)} ms  p95 ${c.p95Ms.toFixed(1)} ms`);
  const worst = Math.max(...times.cases.map((c) => c.medianMs));
  return {
    id: 'UI',
    title: `runs page over ${n.toLocaleString('en')} runs`,
    figure: 'ms per request (slowest case, median)',
    value: worst,
    ratio: null,
    goal: '< 200 ms at 1M runs',
    met: worst < 200,
    details: { runs: n, cases: times.cases },
  };
};
