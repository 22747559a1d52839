import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import type { Client } from 'pg';
import { archiveRuns } from '../../src/archive/archiveRuns';
import { formatError } from '../../src/errors';
import { SQL_DIR } from '../../src/migrations/migrate';
import { BaselineTable, type BaselineWindow } from './baseline';
import { checkSeededRuns } from './check';
import type { BenchContext } from './context';
import type { ScenarioResult } from './report';
import { installSeedFunctions, seedJournal, withIndexesDeferred } from './seed';
import { nowMs } from './stats';

const PARTITION = 'run_events_2025_06';
const JUNE = `run_${Date.parse('2025-06-10T00:00:00Z').toString(36)}`;
/** Runs per seeding statement; two connections take turns (the seed is CPU-bound: both cores). */
const SEED_BATCH = 20_000;

/**
 * A1: `orbit archive` of a month of finished runs on the partitioned journal (issue 22 items 4–5).
 * 100k runs of 11 events (1.1M events; `--scale 10`: 1M runs, 11M events; `--quick`: 1,000) created
 * in June 2025 sit in their month's partition, seeded in SQL with chained hashes (the archive's
 * read-back verification checks every chain; sample runs also go through the fold and projection
 * check). A tenth as many (at most 10,000), with ids outside every month (the DEFAULT partition),
 * are archived first, row by row, for comparison. Each archive is timed whole (export, read-back
 * verification, removal) and the partition archive also in its two phases (the removal starts
 * when its ledger rows were written, on the same machine's clock). Before the real archive, the
 * removal function alone is timed twice on the same month in transactions rolled back: as
 * migration 020 has it (projection rows by the month's run-id range) and as 015 had it (by id).
 * Sizes of the journal, `runs`, `steps` and the ledger before and after; the single-row insert
 * baseline (1 and 16 clients) before the seed and after the archive, as every bench prints.
 */
export const runArchive = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const runs = ctx.opts.quick ? 1_000 : ctx.size(100_000, 2_000);
  const rowRuns = ctx.opts.quick ? 200 : Math.min(10_000, Math.max(200, Math.round(runs / 10)));
  const client = await ctx.client('a1');
  const schema = client.db.schema;
  const s = `"${schema}"`;
  const pg = await ctx.raw();
  const dirs: string[] = [];
  const table = await BaselineTable.create(client.db.url, `${ctx.prefix}_a1b`);
  const baseline = async (when: string): Promise<{ one: BaselineWindow; sixteen: BaselineWindow }> => {
    const one = await table.measure(1, ctx.opts.baselineSeconds);
    const sixteen = await table.measure(16, ctx.opts.baselineSeconds);
    ctx.log(`A1: baseline ${when}: ${one.tps.toFixed(0)} inserts/s (1 client), ${sixteen.tps.toFixed(0)} (16 clients)`);
    return { one, sixteen };
  };
  try {
    const before = await baseline('before');
    await installSeedFunctions(pg, schema);
    await pg.query(`SELECT ${s}.journal_add_partitions('2025-06-01T00:00:00Z', 1)`);
    const shape = { mode: 'linear' as const, pipeline: 'bench-a1', steps: 4 };
    const spec = { lastSeqSql: '11', doneSql: 'true', ownerSql: `'bench-worker'`, spacingMs: 1, shape };
    const t0 = nowMs();
    const extra = await ctx.raw();
    const events = await withIndexesDeferred(pg, schema, ['run_events', 'runs', 'steps'], async () => {
      let next = 0;
      let a = 0;
      const lane = async (conn: Client) => {
        while (next < runs) {
          const from = next;
          next += SEED_BATCH;
          // Not `a += await …`: that reads `a` before the await, and the other lane's sum is lost.
          const n = await seedJournal(conn, schema, {
            ...spec,
            from,
            to: Math.min(runs, from + SEED_BATCH),
            prefix: JUNE,
            baseSql: `'2025-06-10T00:00:00Z'::timestamptz`,
          });
          a += n;
        }
      };
      await Promise.all([lane(pg), lane(extra)]);
      const b = await seedJournal(pg, schema, {
        ...spec,
        from: 0,
        to: rowRuns,
        prefix: 'rowpath',
        baseSql: `'2025-05-10T00:00:00Z'::timestamptz`,
      });
      return { a, b };
    }).finally(() => extra.end());
    await pg.query(`VACUUM ANALYZE ${s}.run_events, ${s}.runs, ${s}.steps`);
    const seedS = (nowMs() - t0) / 1000;
    ctx.log(`A1: seeded ${runs} + ${rowRuns} runs (${events.a} + ${events.b} events) in ${seedS.toFixed(1)} s`);
    const id = (prefix: string, n: number) => `${prefix}-${String(n).padStart(8, '0')}`;
    await checkSeededRuns(client.db, [id(JUNE, 0), id(JUNE, runs - 1), id('rowpath', 0)]);

    const archive = async (cutoff: string) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'orbit-bench-a1-'));
      dirs.push(dir);
      const sizes = await relationBytes(pg, schema);
      const started = Date.now();
      const t = nowMs();
      const r = await archiveRuns(client.db, { finishedBefore: { at: new Date(cutoff) }, dir: path.join(dir, 'a') });
      const ms = nowMs() - t;
      if (E.isLeft(r)) throw new Error(`A1 archive failed: ${formatError(r.left)}`);
      // When the removal began: its ledger rows' archived_at (the removal transaction's start).
      const removalAt = await pg.query<{ at: Date | null }>(`SELECT min(archived_at) AS at FROM ${s}.archive_ledger WHERE location = $1`, [
        path.join(dir, 'a'),
      ]);
      const removalStart = removalAt.rows[0]?.at?.getTime() ?? started + ms;
      rmSync(dir, { recursive: true, force: true });
      return {
        ms,
        exportMs: Math.max(0, removalStart - started),
        removalMs: Math.max(0, started + ms - removalStart),
        before: sizes,
        after: await relationBytes(pg, schema),
        report: r.right,
      };
    };
    const row = await archive('2025-06-01T00:00:00Z');
    ctx.log(`A1: row by row: ${row.report.removedRuns} runs, ${row.report.removedEvents} events in ${(row.ms / 1000).toFixed(1)} s`);

    const removal = await timeRemovals(pg, schema);
    ctx.log(
      `A1: the removal alone (rolled back), ${runs} runs: by range (020) ${(removal.rangeMs / 1000).toFixed(2)} s, ` +
        `by id (015) ${removal.idMs === null ? `over ${REMOVAL_TIMEOUT_S} s` : `${(removal.idMs / 1000).toFixed(2)} s`}`,
    );

    const part = await archive('2025-12-01T00:00:00Z');
    ctx.log(
      `A1: by partition: ${part.report.removedRuns} runs, ${part.report.removedEvents} events in ${(part.ms / 1000).toFixed(1)} s ` +
        `(export and verification ${(part.exportMs / 1000).toFixed(1)} s, removal ${(part.removalMs / 1000).toFixed(1)} s)`,
    );
    const after = await baseline('after');
    const dropped = part.report.droppedPartitions[0];
    const left = await pg.query<{ runs: string; steps: string }>(
      `SELECT (SELECT count(*) FROM ${s}.runs WHERE id >= $1 AND id < $2)::text AS runs,
              (SELECT count(*) FROM ${s}.steps WHERE run_id >= $1 AND run_id < $2)::text AS steps`,
      [`run_${Date.parse('2025-06-01T00:00:00Z').toString(36)}`, `run_${Date.parse('2025-07-01T00:00:00Z').toString(36)}`],
    );
    const fail =
      dropped === undefined || dropped.runs !== runs || row.report.removedRuns !== rowRuns || part.report.changed.length > 0
        ? `expected one partition of ${runs} runs dropped and ${rowRuns} runs removed by row: ${JSON.stringify({ dropped, row: row.report.removedRuns })}`
        : left.rows[0]?.runs !== '0' || left.rows[0]?.steps !== '0'
          ? `projection rows of the dropped month left: ${JSON.stringify(left.rows[0])}`
          : removal.rangeOutcome !== 'dropped'
            ? `the removal alone did not drop the partition: ${removal.rangeOutcome}`
            : undefined;
    const perMillion = (ms: number, n: number) => ((ms / n) * 1e6) / 1000;
    const mb = (n: number) => n / 1e6;
    return {
      id: 'A1',
      title: `orbit archive: ${runs} runs / ${part.report.removedEvents} events by partition, ${rowRuns} runs by row`,
      figure: 's per 1M events (whole archive: export, verify, removal)',
      value: perMillion(part.ms, part.report.removedEvents),
      ratio: null,
      goal: 'none set (issue 22 items 4-5: time it and the space it frees)',
      met: true,
      ...(fail === undefined ? {} : { fail }),
      details: {
        runs,
        events: part.report.removedEvents,
        seconds: part.ms / 1000,
        export_verify_s: part.exportMs / 1000,
        removal_s: part.removalMs / 1000,
        removal_alone_by_range_s: removal.rangeMs / 1000,
        removal_alone_by_id_015_s: removal.idMs === null ? `> ${REMOVAL_TIMEOUT_S}` : removal.idMs / 1000,
        export_mb: mb(part.report.bytes),
        journal_mb_before: mb(part.before.journal),
        journal_mb_after: mb(part.after.journal),
        dropped_partition_mb: mb(dropped?.bytes ?? 0),
        projections_mb_before: mb(part.before.runs + part.before.steps),
        projections_mb_after: mb(part.after.runs + part.after.steps),
        ledger_mb_after: mb(part.after.ledger),
        row_runs: row.report.removedRuns,
        row_events: row.report.removedEvents,
        row_s: row.ms / 1000,
        row_s_per_1m_events: perMillion(row.ms, row.report.removedEvents),
        row_journal_mb_before: mb(row.before.journal),
        row_journal_mb_after: mb(row.after.journal),
        seed_s: seedS,
        seed_events_per_s: ((events.a + events.b) / seedS) || 0,
        insert_tps_1_before: before.one.tps,
        insert_tps_16_before: before.sixteen.tps,
        insert_tps_1_after: after.one.tps,
        insert_tps_16_after: after.sixteen.tps,
        partition: {
          runs: part.report.removedRuns,
          events: part.report.removedEvents,
          seconds: part.ms / 1000,
          export_bytes: part.report.bytes,
          dropped_partition_bytes: dropped?.bytes ?? null,
          bytes_before: part.before,
          bytes_after: part.after,
        },
        row: {
          runs: row.report.removedRuns,
          events: row.report.removedEvents,
          seconds: row.ms / 1000,
          export_bytes: row.report.bytes,
          bytes_before: row.before,
          bytes_after: row.after,
        },
      },
    };
  } finally {
    await pg.end();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
};

/** On disk, with indexes and TOAST: the journal (every partition), `runs`, `steps`, the ledger. */
const relationBytes = async (pg: Client, schema: string): Promise<{ journal: number; runs: number; steps: number; ledger: number }> => {
  const r = await pg.query<{ journal: string; runs: string; steps: string; ledger: string }>(
    `SELECT (SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree($1::regclass) WHERE isleaf)::text AS journal,
            pg_total_relation_size($2::regclass)::text AS runs,
            pg_total_relation_size($3::regclass)::text AS steps,
            pg_total_relation_size($4::regclass)::text AS ledger`,
    [`"${schema}".run_events`, `"${schema}".runs`, `"${schema}".steps`, `"${schema}".archive_ledger`],
  );
  const row = r.rows[0];
  return { journal: Number(row?.journal), runs: Number(row?.runs), steps: Number(row?.steps), ledger: Number(row?.ledger) };
};

const REMOVAL_TIMEOUT_S = 1200;

/**
 * archive_drop_partition on the June partition with its exact runs and heads, in a transaction
 * rolled back: as it is (020, by range) and as migration 015 wrote it (by id; installed beside it
 * under another name from sql/015), the range version first (the second gets the warmer cache).
 */
const timeRemovals = async (
  pg: Client,
  schema: string,
): Promise<{ rangeMs: number; rangeOutcome: string; idMs: number | null }> => {
  const s = `"${schema}"`;
  const text = readFileSync(path.join(SQL_DIR, '015_archive_partitions.sql'), 'utf8');
  const start = text.indexOf('CREATE FUNCTION __SCHEMA__.archive_drop_partition(');
  const end = text.indexOf('$$;', start);
  if (start < 0 || end < 0) throw new Error('A1: archive_drop_partition not found in sql/015');
  await pg.query(
    text
      .slice(start, end + 3)
      .replace('__SCHEMA__.archive_drop_partition(', '__SCHEMA__.bench_drop_partition_015(')
      .replace(/__SCHEMA__/g, s),
  );
  await pg.query(`DROP TABLE IF EXISTS bench_a1_heads`);
  await pg.query(
    `CREATE TEMP TABLE bench_a1_heads AS
     SELECT array_agg(run_id ORDER BY run_id) AS ids, array_agg(seq ORDER BY run_id) AS lasts, array_agg(hash ORDER BY run_id) AS heads
       FROM (SELECT DISTINCT ON (run_id) run_id, seq, hash FROM ${s}.${PARTITION} ORDER BY run_id, seq DESC) h`,
  );
  const once = async (fn: string): Promise<{ ms: number | null; outcome: string }> => {
    await pg.query('BEGIN');
    try {
      await pg.query(`SET LOCAL statement_timeout = '${REMOVAL_TIMEOUT_S}s'`);
      const t = nowMs();
      const r = await pg.query<{ outcome: string }>(
        `SELECT outcome FROM ${s}.${fn}('${'0'.repeat(64)}', 'bench', '${PARTITION}',
           (SELECT ids FROM bench_a1_heads), (SELECT lasts FROM bench_a1_heads), (SELECT heads FROM bench_a1_heads))`,
      );
      return { ms: nowMs() - t, outcome: r.rows[0]?.outcome ?? '?' };
    } catch (err) {
      if ((err as { code?: string }).code === '57014') return { ms: null, outcome: 'timeout' };
      throw err;
    } finally {
      await pg.query('ROLLBACK');
    }
  };
  const range = await once('archive_drop_partition');
  const byId = await once('bench_drop_partition_015');
  await pg.query(`DROP TABLE bench_a1_heads`);
  await pg.query(`DROP FUNCTION ${s}.bench_drop_partition_015(text, text, text, text[], integer[], bytea[])`);
  return { rangeMs: range.ms ?? Number.NaN, rangeOutcome: range.outcome, idMs: byId.ms };
};
