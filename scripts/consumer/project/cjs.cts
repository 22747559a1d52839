// A consumer's CommonJS program (module commonjs). Compiled strictly, without skipLibCheck, by
// scripts/consumer/run.sh against the packed tarball, then run against a real database.
import { isLeft } from 'fp-ts/Either';
import { connect, definePipeline, formatError, pipeline as typedPipeline, registry, runPipeline } from 'orbit-pipeline';
import * as promise from 'orbit-pipeline/promise';

const pipeline = definePipeline({
  name: 'consumer-cjs',
  steps: [
    { name: 'one', handler: () => ({ success: true, data: { n: 1 } }) },
    {
      name: 'two',
      handler: (ctx) => {
        const n = ctx.prevResults['one']?.data?.n;
        return { success: true, data: { n: typeof n === 'number' ? n + 1 : null } };
      },
    },
  ],
});
registry.registerPipeline(pipeline);

// The typed builder compiles in CommonJS too; a wrong key and a wrong dependency do not.
const typed = typedPipeline('consumer-cjs-typed')
  .step('one', () => ({ n: 1 }))
  .step('two', (ctx) => ({ n: ctx.results.one.n + 1 }))
  .build();
registry.registerPipeline(typed);
const refused = typedPipeline('consumer-cjs-refused').step('one', () => ({ n: 1 }));
// @ts-expect-error `one` returned no `m`
refused.step('two', (ctx) => ctx.results.one.m);
// @ts-expect-error `zero` is not a step
refused.step('two', { dependsOn: ['zero'] }, () => 2);

const main = async (): Promise<void> => {
  const client = await connect();
  if (isLeft(client)) throw new Error(formatError(client.left));
  const run = await runPipeline('consumer-cjs', {}, { client: client.right });
  if (isLeft(run)) throw new Error(formatError(run.left));
  if (run.right.status !== 'success') throw new Error(`run ended ${run.right.status}`);
  const analysis = await promise.analyzeStepCompletion(run.right.runId, { client: client.right });
  if (analysis.completedSteps.length !== 2) throw new Error('both steps completed');
  const typedRun = await runPipeline('consumer-cjs-typed', {}, { client: client.right });
  if (isLeft(typedRun)) throw new Error(formatError(typedRun.left));
  const two = typedRun.right.state.steps[1]?.result;
  if (typedRun.right.status !== 'success' || JSON.stringify(two) !== '{"n":2}')
    throw new Error(`typed run: ${JSON.stringify(two)}`);
  console.log(`cjs ok: run ${run.right.runId} completed ${analysis.completedSteps.join(', ')}`);
  await client.right.close();
};

// No @types/node in a fresh project, so no `process`: an unhandled rejection exits non-zero.
void main();
