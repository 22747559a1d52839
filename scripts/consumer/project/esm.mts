// A consumer's ESM program (module nodenext). Compiled strictly, without skipLibCheck, by
// scripts/consumer/run.sh against the packed tarball, then run against a real database.
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import {
  definePipeline,
  formatError,
  listRuns as listEither,
  resumeRun as resumeEither,
  runPipeline as runEither,
  type ErrorOf,
  type ResumeFailure,
  type StepContext,
} from 'orbit-pipeline';
import {
  closeDefaultClient,
  detectInterruptedRuns,
  listRuns,
  loadRunState,
  OrbitFailure,
  runPipeline,
  type JsonObject,
} from 'orbit-pipeline/promise';
// Every root function is a value of the promise entry (issue 17): the queue and the worker too.
import { enqueueRun, startWorker, replayRun, planRecovery } from 'orbit-pipeline/promise';
import { pipeline as typedPipeline, type TypedStepContext } from 'orbit-pipeline/promise';

// Untyped metadata is a JSON object: the spec's optional property reads compile.
const untyped = definePipeline({
  name: 'consumer-esm-untyped',
  steps: [
    {
      name: 'fetch-user',
      handler: async (ctx: StepContext) => ({ success: true, data: { userId: ctx.metadata?.userId ?? null } }),
    },
    {
      name: 'greet',
      handler: async (ctx) => {
        const userId = ctx.prevResults['fetch-user']?.data?.userId;
        return { success: true, data: { greeted: userId ?? null } };
      },
    },
  ],
});

// An io-ts codec types the metadata precisely, in handlers and at runPipeline.
const typed = definePipeline({
  name: 'consumer-esm-typed',
  metadata: t.type({ batchId: t.string, size: t.number }),
  steps: [
    {
      name: 'import',
      handler: async (ctx) => {
        const id: string = ctx.metadata.batchId;
        return { success: true, data: { imported: ctx.metadata.size, id } };
      },
    },
  ],
});

const check = (cond: boolean, what: string): void => {
  if (!cond) throw new Error(`consumer check failed: ${what}`);
};

// The typed builder (issue 18): each step's return type is ctx.results.<step> in the steps that
// depend on it; wrong keys, wrong dependencies and values that are not JSON do not compile.
interface Row {
  readonly id: number;
  readonly label?: string;
}
const fanOut = typedPipeline('consumer-esm-builder', { metadata: t.type({ n: t.number }) })
  .step('fetch', async (ctx): Promise<{ rows: Row[] }> => ({
    rows: Array.from({ length: ctx.metadata.n }, (_, id) => ({ id })),
  }))
  .step('count', { dependsOn: ['fetch'] }, (ctx) => ctx.results.fetch.rows.length)
  .step('ids', { dependsOn: ['fetch'] }, (ctx) => ctx.results.fetch.rows.map((r) => r.id))
  .step('sum', { dependsOn: ['count', 'ids'] }, (ctx: TypedStepContext<{ n: number }, { count: number; ids: number[] }>) => ({
    count: ctx.results.count,
    sum: ctx.results.ids.reduce((a, b) => a + b, 0),
  }))
  .build();
const builderBase = typedPipeline('consumer-esm-builder-refusals').step('fetch', async () => ({ rows: [1, 2] }));
// @ts-expect-error a misspelled result key does not compile
builderBase.step('load', (ctx) => ctx.results.fetchh);
// @ts-expect-error a dependency that is not a step does not compile
builderBase.step('load', { dependsOn: ['fetchh'] }, () => 1);
// @ts-expect-error a Date is not JSON: returning one does not compile
builderBase.step('load', () => ({ at: new Date() }));

const meta: JsonObject = { userId: 'u-1' };
const r1 = await runPipeline(untyped, meta);
check(r1.status === 'success', `untyped run succeeded (${r1.status})`);

const r2 = await runPipeline(typed, { batchId: 'b-1', size: 3 });
check(r2.status === 'success', 'typed run succeeded');

const r3 = await runPipeline(fanOut, { n: 4 });
const sumResult = r3.state.steps.find((s) => s.name === 'sum')?.result;
check(
  r3.status === 'success' && JSON.stringify(sumResult) === '{"count":4,"sum":6}',
  `builder run succeeded (${JSON.stringify(sumResult)})`,
);
// @ts-expect-error the builder's metadata codec types runPipeline's metadata
await runPipeline(fanOut, { n: 'four' }).catch(() => undefined);
// @ts-expect-error metadata of the wrong type is refused at compile time
await runPipeline(typed, { batchId: 1 }).catch(() => undefined);

// enqueueRun takes the pipeline object too, with the same compile-time metadata check.
const typedQueued = await enqueueRun(typed, { batchId: 'b-2', size: 1 });
// @ts-expect-error metadata of the wrong type is refused at compile time
await enqueueRun(typed, { wrong: 1 }).catch(() => undefined);

// The root entry point returns Either values with the tagged error.
const bad = await runEither('no-such-pipeline', {});
check(E.isLeft(bad) && bad.left._tag === 'PipelineNotFound', 'root API returns a tagged Left');
if (E.isLeft(bad)) console.log(`expected error: ${formatError(bad.left)}`);

// Each function's Left is what it can return, through the published .d.ts too.
const unreachable: ErrorOf<typeof listEither> = { _tag: 'DatabaseUnavailable', message: 'down' };
// @ts-expect-error listRuns reads no run's journal: RunNotFound is not among its errors
const listNotFound: ErrorOf<typeof listEither> = { _tag: 'RunNotFound', runId: 'x' };
void [unreachable, listNotFound];
// The root resumeRun is a plain Either: no spec fields on it (those are the promise entry's).
const resumed = await resumeEither('no-such-run');
// @ts-expect-error `success` belongs to orbit-pipeline/promise's resumeRun
check(resumed.success === undefined, 'root resumeRun has no success field');
const resumeTag: ResumeFailure['_tag'] | null = E.isLeft(resumed) ? resumed.left._tag : null;
check(resumeTag === 'RunNotFound', `root resumeRun of an unknown run is RunNotFound (${String(resumeTag)})`);

// The promise entry point rejects with an OrbitFailure carrying the same tagged error.
try {
  await runPipeline('no-such-pipeline');
  check(false, 'promise API rejects');
} catch (err) {
  check(err instanceof OrbitFailure && err.error._tag === 'PipelineNotFound', 'promise API rejects with OrbitFailure');
}

// A queued run, executed by a worker started from the promise entry; then replayed and planned.
const queued = await enqueueRun('consumer-esm-untyped', { userId: 'u-2' });
const worker = await startWorker({ concurrency: 2 });
for (let i = 0; (await loadRunState(queued.runId)).status !== 'success'; i++) {
  check(i < 600, 'the worker executes the queued run within a minute');
  await new Promise((resolve) => setTimeout(resolve, 100));
}
for (let i = 0; (await loadRunState(typedQueued.runId)).status !== 'success'; i++) {
  check(i < 600, 'the worker executes the typed queued run within a minute');
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await worker.stop();
const replay = await replayRun(queued.runId, { seq: 1 });
check(replay.state.status === 'pending' && replay.eventsAfter > 0, 'replayRun shows the run as it was queued');
const plan = await planRecovery({ limit: 10 });
check(Array.isArray(plan), 'planRecovery resolves to the plan');
console.log(`esm ok: queued run ${queued.runId} executed by worker ${worker.workerId}`);

const interrupted = await detectInterruptedRuns();
const runs = await listRuns({ limit: 5 });
check(runs.length >= 3, 'listRuns sees the runs');
console.log(`esm ok: ${runs.length} runs listed, ${interrupted.length} interrupted`);
await closeDefaultClient();
