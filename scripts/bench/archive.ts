import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import type { Client } from 'pg';
import { archiveRuns, type ArchiveReport } from '../../src/archive/archiveRuns';
import { formatError } from '../../src/errors';
import type { BenchContext } from './context';
import type { ScenarioResult } from './report';
import { installSeedFunctions, seedJournal, withIndexesDeferred } from './seed';
import { nowMs } from './stats';

/**
 * A1: `orbit archive` of a month of finished runs on the partitioned journal (issue 22 item 5).
 * 100k runs of 11 events (1.1M events; `--scale 10`: 1M runs, 11M events) created in June 2025
 * sit in their month's partition; a tenth as many, created in May 2025 with ids outside every
 * month (the DEFAULT partition), are archived first, row by row, for comparison. Each archive is
 * timed whole (export, read-back verification, removal), with what the journal's size was before
 * and after (the row path frees nothing until VACUUM: its figure is the dead space it leaves).
 */
export const runArchive = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const runs = ctx.size(100_000, 2_000);
  const rowRuns = Math.max(200, Math.round(runs / 10));
  const client = await ctx.client('a1');
  const schema = client.db.schema;
  const s = `"${schema}"`;
  const pg = await ctx.raw();
  const dirs: string[] = [];
  try {
    await installSeedFunctions(pg, schema);
    await pg.query(`SELECT ${s}.journal_add_partitions('2025-06-01T00:00:00Z', 1)`);
    const june = `run_${Date.parse('2025-06-10T00:00:00Z').toString(36)}`;
    const shape = { mode: 'linear' as const, pipeline: 'bench-a1', steps: 4 };
    const spec = { lastSeqSql: '11', doneSql: 'true', ownerSql: `'bench-worker'`, spacingMs: 1, shape };
    const t0 = nowMs();
    const events = await withIndexesDeferred(pg, schema, ['run_events', 'runs', 'steps'], async () => {
      const a = await seedJournal(pg, schema, { ...spec, from: 0, to: runs, prefix: june, baseSql: `'2025-06-10T00:00:00Z'::timestamptz` });
      const b = await seedJournal(pg, schema, {
        ...spec,
        from: 0,
        to: rowRuns,
        prefix: 'rowpath',
        baseSql: `'2025-05-10T00:00:00Z'::timestamptz`,
      });
      return { a, b };
    });
    await pg.query(`VACUUM ANALYZE ${s}.run_events, ${s}.runs, ${s}.steps`);
    ctx.log(`A1: seeded ${runs} + ${rowRuns} runs (${events.a} + ${events.b} events) in ${((nowMs() - t0) / 1000).toFixed(1)} s`);

    const archive = async (cutoff: string): Promise<{ ms: number; before: number; after: number; report: ArchiveReport }> => {
      const dir = mkdtempSync(path.join(tmpdir(), 'orbit-bench-a1-'));
      dirs.push(dir);
      const before = await journalBytes(pg, schema);
      const t = nowMs();
      const r = await archiveRuns(client.db, { finishedBefore: { at: new Date(cutoff) }, dir: path.join(dir, 'a') });
      const ms = nowMs() - t;
      if (E.isLeft(r)) throw new Error(`A1 archive failed: ${formatError(r.left)}`);
      return { ms, before, after: await journalBytes(pg, schema), report: r.right };
    };
    const row = await archive('2025-06-01T00:00:00Z');
    ctx.log(`A1: row by row: ${row.report.removedRuns} runs, ${row.report.removedEvents} events in ${(row.ms / 1000).toFixed(1)} s`);
    const part = await archive('2025-12-01T00:00:00Z');
    ctx.log(`A1: by partition: ${part.report.removedRuns} runs, ${part.report.removedEvents} events in ${(part.ms / 1000).toFixed(1)} s`);
    const dropped = part.report.droppedPartitions[0];
    const fail =
      dropped === undefined || dropped.runs !== runs || row.report.removedRuns !== rowRuns || part.report.changed.length > 0
        ? `expected one partition of ${runs} runs dropped and ${rowRuns} runs removed by row: ${JSON.stringify({ dropped, row: row.report.removedRuns })}`
        : undefined;
    const perMillion = (ms: number, n: number) => (ms / n) * 1e6 / 1000;
    return {
      id: 'A1',
      title: `orbit archive: ${runs} runs / ${part.report.removedEvents} events by partition, ${rowRuns} runs by row`,
      figure: 's per 1M events (whole archive: export, verify, removal)',
      value: perMillion(part.ms, part.report.removedEvents),
      ratio: null,
      goal: 'none set (issue 22 item 5: time it and the space it frees)',
      met: true,
      ...(fail === undefined ? {} : { fail }),
      details: {
        partition: {
          runs: part.report.removedRuns,
          events: part.report.removedEvents,
          seconds: part.ms / 1000,
          export_bytes: part.report.bytes,
          dropped_partition_bytes: dropped?.bytes ?? null,
          journal_bytes_before: part.before,
          journal_bytes_after: part.after,
        },
        row: {
          runs: row.report.removedRuns,
          events: row.report.removedEvents,
          seconds: row.ms / 1000,
          export_bytes: row.report.bytes,
          journal_bytes_before: row.before,
          journal_bytes_after: row.after,
          s_per_1m_events: perMillion(row.ms, row.report.removedEvents),
        },
      },
    };
  } finally {
    await pg.end();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
};

/** The journal's size on disk: every partition, with indexes and TOAST. */
const journalBytes = async (pg: Client, schema: string): Promise<number> =>
  Number(
    (
      await pg.query<{ n: string }>(
        `SELECT coalesce(sum(pg_total_relation_size(relid)), 0)::text AS n FROM pg_partition_tree($1::regclass) WHERE isleaf`,
        [`"${schema}".run_events`],
      )
    ).rows[0]?.n,
  );
