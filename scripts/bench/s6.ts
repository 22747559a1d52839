import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { rebuildRun } from '../../src/audit/rebuildProjections';
import { checkSeededRuns } from './check';
import type { BenchContext } from './context';
import type { ScenarioResult } from './report';
import { installSeedFunctions, seedJournal } from './seed';
import { nowMs } from './stats';

const run = promisify(execFile);

interface ChildReport {
  readonly mode: string;
  readonly events: number;
  readonly batches: number;
  readonly seconds: number;
  readonly rssBefore: number;
  readonly peakRss: number;
}

const measureInChild = async (url: string, schema: string, runId: string, mode: string): Promise<ChildReport> => {
  const { stdout } = await run(process.execPath, [path.join(__dirname, 's6child.js'), url, schema, runId, mode], {
    maxBuffer: 1 << 20,
    timeout: 300_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as ChildReport;
};

/**
 * S6: reads and decodes, through the streaming reader, the journal of a run with 100,000 events
 * (a polling step that failed and was rescheduled 33,332 times), in a fresh process whose peak
 * RSS is reported. For comparison: the same journal replayed (stream + fold) and read all at once.
 */
export const runS6 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  const attempts = Math.max(10, Math.round((ctx.size(100_000, 10_000) - 4) / 3));
  const events = 4 + 3 * attempts;
  const client = await ctx.client('s6');
  const pg = await ctx.raw();
  const runId = 'r6-00000001';
  try {
    await installSeedFunctions(pg, client.db.schema);
    const t0 = nowMs();
    const written = await seedJournal(pg, client.db.schema, {
      from: 1,
      to: 2,
      prefix: 'r6',
      shape: { mode: 'retry', pipeline: 'bench-s6', steps: 3 },
      lastSeqSql: String(events),
      doneSql: 'false',
      ownerSql: `'bench-dead-worker'`,
      baseSql: `now() - interval '3 days'`,
      spacingMs: 0,
    });
    // Projection rows through the library's own rebuild (it folds the journal: a seed the fold
    // rejects fails here).
    const rebuilt = await rebuildRun(client.db, runId);
    if (E.isLeft(rebuilt)) throw new Error(`S6 seed: ${formatError(rebuilt.left)}`);
    await checkSeededRuns(client.db, [runId]);
    ctx.log(`S6: seeded a run of ${written.toLocaleString('en-US')} events in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await pg.end();
  }
  const stream = await measureInChild(client.db.url, client.db.schema, runId, 'stream');
  if (stream.events !== events) throw new Error(`S6: streamed ${stream.events} events, expected ${events}`);
  ctx.log(`S6: streamed ${stream.events} events in ${stream.seconds.toFixed(2)} s, peak RSS ${stream.peakRss.toFixed(0)} MB (${stream.rssBefore.toFixed(0)} MB before)`);
  const fold = await measureInChild(client.db.url, client.db.schema, runId, 'fold');
  const readAll = await measureInChild(client.db.url, client.db.schema, runId, 'read-all');
  ctx.log(`S6: replay (stream + fold) ${fold.seconds.toFixed(2)} s / ${fold.peakRss.toFixed(0)} MB; read all at once ${readAll.seconds.toFixed(2)} s / ${readAll.peakRss.toFixed(0)} MB`);
  return {
    id: 'S6',
    title: `stream + decode a run of ${events.toLocaleString('en-US')} events`,
    figure: 'peak RSS MB',
    value: stream.peakRss,
    ratio: null,
    goal: 'peak RSS < 150 MB',
    met: stream.peakRss < 150,
    details: {
      events,
      seconds: stream.seconds,
      events_per_s: stream.events / stream.seconds,
      rss_before_mb: stream.rssBefore,
      batches: stream.batches,
      replay_seconds: fold.seconds,
      replay_peak_rss_mb: fold.peakRss,
      read_all_seconds: readAll.seconds,
      read_all_peak_rss_mb: readAll.peakRss,
    },
  };
};
