/**
 * R11: odd error objects in a worker beside healthy runs (issue 20 item 1). One `orbit worker`
 * executes queued runs whose step throws, or returns as `error`, a value that is not a
 * well-formed Error (a numeric message, stack or name, a revoked Proxy, throwing getters …:
 * test/fixtures/oddValues.js), mixed with healthy runs. Must hold: every odd run failed with a
 * readable message, every healthy run succeeded, the worker is still alive, no seq gap, chain and
 * projections intact.
 */
import path from 'node:path';
import { checkJournal, orbit, prepareSchema, REPO_ROOT, statuses, waitUntil } from './context';
import type { Ctx, Figure, ScenarioResult } from './context';

const ODD_PIPELINES = path.join(REPO_ROOT, 'test', 'fixtures', 'oddErrors.js');

export const r11 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r11_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const { oddValues } = require(path.join(REPO_ROOT, 'test', 'fixtures', 'oddValues.js')) as {
    oddValues: Record<string, unknown>;
  };
  const kinds = Object.keys(oddValues).slice(0, ctx.small ? 3 : undefined);
  const odd = kinds.flatMap((kind) =>
    [false, true].map((returned) => ({
      id: `r11-${ctx.seed}-${kind}-${returned ? 'returned' : 'thrown'}`,
      meta: { kind, returned },
    })),
  );
  const healthy = Array.from({ length: ctx.small ? 3 : 20 }, (_, i) => `r11-${ctx.seed}-healthy-${i}`);
  const failures: string[] = [];
  const args = (extra: readonly string[]) => ['--pipelines', ODD_PIPELINES, ...extra];
  const w = orbit(ctx, schema, args(['worker', '--concurrency', '4']), { pipelines: false });
  try {
    if (!(await waitUntil('the worker to listen', async () => w.stdout().includes('listening on'), 30_000))) {
      throw new Error('the worker did not start listening within 30 s');
    }
    const queue = [
      ...odd.map((o) => ['run', 'odd-error', '--queue', '--run-id', o.id, '--metadata', JSON.stringify(o.meta)]),
      ...healthy.map((id) => ['run', 'healthy', '--queue', '--run-id', id]),
    ];
    // Interleaved, a few at a time: odd runs and healthy ones share the worker.
    for (let i = 0; i < queue.length; i += 9) {
      const done = await Promise.all(queue.slice(i, i + 9).map((a) => orbit(ctx, schema, args(a), { pipelines: false }).done));
      const bad = done.find((d) => d.code !== 0);
      if (bad) throw new Error(`orbit run --queue failed: ${bad.stderr.trim()}`);
    }
    const ids = [...odd.map((o) => o.id), ...healthy];
    const ended = await waitUntil(
      'every run to end',
      async () => {
        const st = await statuses(ctx, schema, ids);
        return ids.every((id) => ['success', 'failed'].includes(st.get(id) ?? ''));
      },
      60_000,
    );
    if (!ended) failures.push('not every run ended within 60 s');
    const st = await statuses(ctx, schema, ids);
    const oddFailed = odd.filter((o) => st.get(o.id) === 'failed').length;
    const healthyOk = healthy.filter((id) => st.get(id) === 'success').length;
    if (oddFailed !== odd.length) failures.push(`${odd.length - oddFailed} odd run(s) did not fail`);
    if (healthyOk !== healthy.length) failures.push(`${healthy.length - healthyOk} healthy run(s) did not succeed`);
    const messages = await ctx.pool.query<{ run_id: string; message: unknown }>(
      `SELECT run_id, payload->'error'->'message' AS message FROM "${schema}".run_events WHERE run_id = ANY($1) AND type = 'step.failed'`,
      [odd.map((o) => o.id)],
    );
    const unreadable = messages.rows.filter((r) => typeof r.message !== 'string').length;
    if (unreadable > 0) failures.push(`${unreadable} step.failed without a text message`);
    const alive = w.child.exitCode === null && w.child.signalCode === null;
    if (!alive) failures.push(`the worker exited (${String(w.child.exitCode ?? w.child.signalCode)})`);
    const check = await checkJournal(ctx, schema, ids, { expectSuccess: false, checkLedger: false });
    failures.push(...check.failures);
    const figures: Figure[] = [
      ['odd values (thrown and returned)', `${kinds.length} x 2`],
      ['odd runs failed with a readable message', `${oddFailed - unreadable}/${odd.length}`],
      ['healthy runs succeeded', `${healthyOk}/${healthy.length}`],
      ['worker alive after', alive ? 'yes' : 'no'],
      // The odd runs fail on purpose: "lost" would count them.
      ...check.figures.filter(([k]) => k !== 'lost'),
    ];
    return { id: 'R11', title: 'odd error objects in a worker beside healthy runs', figures, failures, ms: Date.now() - t0 };
  } finally {
    w.child.kill('SIGKILL');
    await w.done;
  }
};
