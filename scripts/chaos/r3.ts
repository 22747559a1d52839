/**
 * R3: 4 `recover --auto-resume` and 2 `worker` processes started together over interrupted runs
 * (held by a dead worker, a step in flight). Must hold: exactly one `run.resumed` per run.
 */
import * as E from 'fp-ts/Either';
import { closeDatabase } from '../../src/db/database';
import { formatError } from '../../src/errors';
import type { RunEvent } from '../../src/events/runEvents';
import { appendEvents } from '../../src/journal/appendEvents';
import { definitionHashOf } from '../../src/pipeline/definePipeline';
import { checkJournal, openDb, orbit, prepareSchema, sleep, statuses, waitUntil } from './context';
import type { Ctx, ScenarioResult } from './context';

const GHOST = 'chaos-ghost-host:999999:dead';

export const r3 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r3_${ctx.seed}`;
  const runs = ctx.small ? 20 : 200;
  await prepareSchema(ctx, schema);
  const steps = ['s1', 's2', 's3', 's4'];
  const ids = Array.from({ length: runs }, (_, i) => `r3-${ctx.seed}-${i}`);
  const db = openDb(ctx, schema);
  try {
    const events: RunEvent[] = [
      {
        type: 'run.created',
        payload: {
          pipelineId: 'chaos-4',
          steps,
          definitionHash: definitionHashOf('chaos-4', steps),
          metadata: { sleeps: [0, 5, 5, 5] },
          triggeredBy: 'chaos-seed',
        },
      },
      { type: 'run.claimed', payload: { worker: GHOST } },
      { type: 'step.started', stepName: 's1', attempt: 1, payload: {} },
    ];
    for (let i = 0; i < ids.length; i += 20) {
      const rs = await Promise.all(ids.slice(i, i + 20).map((id) => appendEvents(db, id, 0, events, GHOST)));
      for (const r of rs) if (E.isLeft(r)) throw new Error(formatError(r.left));
    }
  } finally {
    await closeDatabase(db);
  }
  await sleep(1_200); // past the 1 s threshold

  const tRecover = Date.now();
  const workers = Array.from({ length: 2 }, () => orbit(ctx, schema, ['worker', '--threshold', '1s', '--concurrency', '8']));
  const recoverers = Array.from({ length: 4 }, () =>
    orbit(ctx, schema, ['recover', '--auto-resume', '--threshold', '1s', '--concurrency', '8']),
  );
  const recExits = (await Promise.all(recoverers.map((p) => p.done))).map((r) => r.code);
  const done = await waitUntil(
    'every run to succeed',
    async () => {
      const st = await statuses(ctx, schema, ids);
      return ids.every((id) => st.get(id) === 'success');
    },
    ctx.small ? 30_000 : 120_000,
  );
  const recoverMs = Date.now() - tRecover;
  for (const w of workers) w.child.kill('SIGTERM');
  const wExits = (await Promise.all(workers.map((w) => w.done))).map((r) => r.code);

  const counts = await ctx.pool.query<{ n: number; runs: string }>(
    `SELECT n, count(*) AS runs FROM (
       SELECT r.id, count(e.run_id)::int AS n FROM unnest($1::text[]) r(id)
         LEFT JOIN "${schema}".run_events e ON e.run_id = r.id AND e.type = 'run.resumed' GROUP BY r.id) x
      GROUP BY n`,
    [ids],
  );
  const byCount = new Map(counts.rows.map((r) => [r.n, Number(r.runs)]));
  const duplicateClaims = counts.rows.reduce((acc, r) => acc + Math.max(0, r.n - 1) * Number(r.runs), 0);
  const never = byCount.get(0) ?? 0;
  const check = await checkJournal(ctx, schema, ids);
  const failures = [...check.failures];
  if (!done) failures.push('not every run succeeded in time');
  if (duplicateClaims > 0) failures.push(`${duplicateClaims} duplicate run.resumed event(s)`);
  if (never > 0) failures.push(`${never} run(s) succeeded without a run.resumed`);
  if (recExits.some((c) => c !== 0)) failures.push(`recover exit codes ${recExits.join(', ')} (expected 0)`);
  if (wExits.some((c) => c !== 0)) failures.push(`worker exit codes ${wExits.join(', ')} (expected 0)`);
  return {
    id: 'R3',
    title: `4 recoverers + 2 workers over ${runs} interrupted runs`,
    figures: [
      ['interrupted runs', runs],
      ['duplicate claims', duplicateClaims],
      ['time to recover all (s)', (recoverMs / 1000).toFixed(1)],
      ...check.figures,
    ],
    failures,
    ms: Date.now() - t0,
  };
};
