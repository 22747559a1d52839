/**
 * The runs-page bench (scenario UI of `npm run bench`) on its own, on a schema it can keep between
 * runs (seeding a million runs takes a while): node dist-scripts/scripts/bench/uiRunsPage.js
 * [runs=1000000] [--keep]; BENCH_UI_SCHEMA names the schema (default bench_ui_<runs>).
 */
import * as E from 'fp-ts/Either';
import { connect } from '../../src/runtime/orbitClient';
import { seedRuns, timeRunsPage } from './ui';

const main = async (): Promise<void> => {
  const n = Number(process.argv[2] ?? 1_000_000);
  const keep = process.argv.includes('--keep');
  const schema = process.env.BENCH_UI_SCHEMA ?? `bench_ui_${n}`;
  const c = await connect({ schema, migrate: true });
  if (E.isLeft(c)) throw new Error(c.left._tag);
  const client = c.right;
  await seedRuns(client, n, console.log);
  const times = await timeRunsPage(client, n, 25);
  console.log(`runs page over ${n.toLocaleString('en')} runs, 25 requests each after 3 warm-ups (a search case: a different value each request):`);
  for (const t of times.cases) console.log(`  ${t.label.padEnd(40)} median ${t.medianMs.toFixed(1)} ms  p95 ${t.p95Ms.toFixed(1)} ms`);
  if (!keep) await client.db.pool.query(`DROP SCHEMA ${client.db.qs} CASCADE`);
  await client.close();
};

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
