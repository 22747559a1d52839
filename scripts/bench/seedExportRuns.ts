import { Client } from 'pg';
import { installSeedFunctions, seedJournal, withIndexesDeferred } from './seed';

/**
 * Seeds N finished linear runs of 11 events (as A1 does) into an already migrated schema, for
 * measuring `orbit export --all` / `orbit import` by hand (docs/PERFORMANCE.md, "Export and
 * import memory"): `node dist-scripts/scripts/bench/seedExportRuns.js <schema> <runs>` with
 * DATABASE_URL set.
 */
const main = async (): Promise<void> => {
  const [schema, n] = process.argv.slice(2);
  const runs = Number(n);
  if (schema === undefined || !Number.isInteger(runs) || runs <= 0) throw new Error('usage: seedExportRuns <schema> <runs>');
  const pg = new Client({ connectionString: process.env.DATABASE_URL });
  await pg.connect();
  try {
    await installSeedFunctions(pg, schema);
    const shape = { mode: 'linear' as const, pipeline: 'bench-e1', steps: 4 };
    const spec = { lastSeqSql: '11', doneSql: 'true', ownerSql: `'bench-worker'`, spacingMs: 1, shape };
    const events = await withIndexesDeferred(pg, schema, ['run_events', 'runs', 'steps'], async () => {
      let total = 0;
      for (let from = 0; from < runs; from += 20_000) {
        total += await seedJournal(pg, schema, {
          ...spec,
          from,
          to: Math.min(runs, from + 20_000),
          prefix: 'export',
          baseSql: `'2025-05-10T00:00:00Z'::timestamptz`,
        });
      }
      return total;
    });
    await pg.query(`VACUUM ANALYZE "${schema}".run_events, "${schema}".runs, "${schema}".steps`);
    process.stdout.write(`seeded ${runs} runs, ${events} events into ${schema}\n`);
  } finally {
    await pg.end();
  }
};

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
