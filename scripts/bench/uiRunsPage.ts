/**
 * `orbit ui`'s runs page over many runs (issue 21: "the runs page over one million runs answers in
 * under 200 ms"). Seeds N `runs` rows straight into a scratch schema (the page reads the
 * projection, not the journal), starts the dashboard in-process and times whole HTTP requests:
 * the first page (with the per-status counts), one status, a metadata search, and a deep page by
 * keyset cursor. Usage: node dist-scripts/scripts/bench/uiRunsPage.js [runs=1000000] [--keep]
 */
import { request } from 'node:http';
import * as E from 'fp-ts/Either';
import { connect } from '../../src/runtime/orbitClient';
import { startUiServer } from '../../src/cli/ui/server';
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

const main = async (): Promise<void> => {
  const n = Number(process.argv[2] ?? 1_000_000);
  const keep = process.argv.includes('--keep');
  const schema = process.env.BENCH_UI_SCHEMA ?? `bench_ui_${n}`;
  const c = await connect({ schema, migrate: true });
  if (E.isLeft(c)) throw new Error(c.left._tag);
  const client = c.right;
  const have = await client.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${client.db.qs}.runs`);
  if ((have.rows[0]?.n ?? 0) !== n) {
    const t0 = nowMs();
    await client.db.pool.query(`TRUNCATE ${client.db.qs}.runs CASCADE`);
    await client.db.pool.query(
      `INSERT INTO ${client.db.qs}.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names, started_at,
              finished_at, owner, error, recovery_count, last_seq, last_event_at)
       SELECT 'run_' || lpad(i::text, 8, '0'), 'p' || (i % 5),
              CASE WHEN i % 50 = 0 THEN 'failed' WHEN i % 997 = 0 THEN 'running' ELSE 'success' END, null,
              jsonb_build_object('customer', 'c-' || (i % 100000)), 'h', '["a","b","c"]', now() - make_interval(secs => i),
              now() - make_interval(secs => i) + interval '2 seconds', null, null, 0, 5, now()
         FROM generate_series(1, $1::int) i`,
      [n],
    );
    await client.db.pool.query(`VACUUM ANALYZE ${client.db.qs}.runs`);
    console.log(`seeded ${n} runs in ${Math.round(nowMs() - t0)} ms`);
  }
  const ui = await startUiServer({ client, port: 0 });
  if (E.isLeft(ui)) throw new Error(ui.left._tag);
  const first = await get(ui.right.url);
  const cursor = /id="older" href="\/\?after=([^"]+)"/.exec(first.body)?.[1] ?? '';
  let deep = cursor;
  for (let i = 0; i < 20 && deep !== ''; i++) deep = /id="older" href="\/\?after=([^"]+)"/.exec((await get(`${ui.right.url}?after=${deep}`)).body)?.[1] ?? '';
  const cases: [string, string][] = [
    ['first page + counts', ''],
    ['status=failed', '?status=failed'],
    ['pipeline=p3', '?pipeline=p3'],
    ['search metadata value (recent match)', `?q=c-${Math.min(n, 99999)}`],
    ['page 22 by keyset cursor', `?after=${deep}`],
  ];
  console.log(`runs page over ${n.toLocaleString('en')} runs (${ui.right.url}), 25 requests each after 3 warm-ups:`);
  for (const [label, q] of cases) {
    const times: number[] = [];
    for (let i = 0; i < 28; i++) {
      const t = nowMs();
      const r = await get(`${ui.right.url}${q}`);
      if (r.status !== 200) throw new Error(`${label}: HTTP ${r.status}`);
      if (i >= 3) times.push(nowMs() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`  ${label.padEnd(40)} median ${median(times).toFixed(1)} ms  p95 ${(times[Math.floor(times.length * 0.95)] ?? 0).toFixed(1)} ms`);
  }
  await ui.right.close();
  if (!keep) await client.db.pool.query(`DROP SCHEMA ${client.db.qs} CASCADE`);
  await client.close();
};

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
