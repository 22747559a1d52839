// The recovery API of docs/RECOVERY.md ("Programmatic usage"), runnable:
//
//   npm run build && node examples/recovery-api.js     (DATABASE_URL, else the embedded PostgreSQL)
//
// It first makes three interrupted runs of examples/data-pipeline.js the honest way (the `orbit`
// CLI, killed with SIGKILL in the middle of transform-data), then recovers them with the API.
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const E = require('fp-ts/Either');

// The demo cannot wait 10 minutes: a run is interrupted after 1 s without activity. Set before the
// first call, because the default client reads it once. Production keeps the 10-minute default.
process.env.ORBIT_INTERRUPTED_THRESHOLD ??= '1s';
// A fresh database has no schema yet: let the example create it (in production the schema's owner
// runs `orbit migrate` once, and the application connects without DDL rights).
process.env.ORBIT_MIGRATE ??= '1';

const {
  registry,
  detectInterruptedRuns,
  analyzeStepCompletion,
  reconstructStepContext,
  resumeRun,
  RunRecoveryOrchestrator,
  formatError,
  closeDefaultClient,
} = require('orbit-pipeline');
const { dataPipeline } = require('./data-pipeline');

// Recovery executes steps, so the pipeline definition must be registered in this process.
registry.registerPipeline(dataPipeline);

const cli = path.join(path.dirname(require.resolve('orbit-pipeline/package.json')), 'dist', 'cli', 'main.js');

/** Starts a run with the CLI and kills it mid-step; returns its id. */
const crashedRun = (runId) => {
  spawnSync(
    process.execPath,
    [cli, '--pipelines', path.join(__dirname, 'data-pipeline.js'), 'run', 'data-pipeline', '--run-id', runId],
    { env: { ...process.env, ORBIT_DEMO_CRASH_IN: 'transform-data' }, stdio: 'ignore' },
  );
  return runId;
};

const main = async () => {
  const suffix = Date.now().toString(36);
  const ids = ['a', 'b', 'c'].map((x) => crashedRun(`api-${suffix}-${x}`));
  await new Promise((r) => setTimeout(r, 1500)); // let them pass the 1 s threshold

  // Detect interrupted runs (an Either: Left only if the database could not be read).
  const interruptedRuns = await detectInterruptedRuns();
  console.log(`Found ${E.isRight(interruptedRuns) ? interruptedRuns.right.length : 0} interrupted runs`);

  // Custom recovery logic: analyze, then rebuild the context the next step would get.
  if (E.isRight(interruptedRuns)) {
    for (const run of interruptedRuns.right.filter((r) => ids.includes(r.runId))) {
      const analysis = await analyzeStepCompletion(run.runId);
      if (E.isLeft(analysis)) continue;
      const { completedSteps, inFlightSteps, failedSteps, nextStep } = analysis.right;
      console.log(`${run.runId}: completed [${completedSteps}], in flight [${inFlightSteps}], next ${nextStep}`);
      if (failedSteps.length === 0) {
        const context = await reconstructStepContext(run.runId, run.pipelineId);
        if (E.isRight(context)) {
          const ctx = context.right;
          const records = ctx.prevResults['extract-data']?.data?.records ?? [];
          console.log(
            `  next: ${ctx.stepName} attempt ${ctx.attempt}, key ${ctx.idempotencyKey}, ${records.length} records from extract-data`,
          );
        }
      }
    }
  }

  // Resume a specific run. The result is a plain Either (orbit-pipeline/promise has the spec's
  // `{ success, stepsExecuted, error }` shape).
  const result = await resumeRun(ids[0]);
  if (E.isRight(result)) {
    console.log(`Executed ${result.right.stepsExecuted} steps`);
    console.log(`  ${result.right.runId} is ${result.right.status}, resumed from ${result.right.resumedFrom}`);
  } else {
    console.error(`Recovery failed: ${formatError(result.left)}`);
  }

  // Resuming it again is refused with a typed error.
  const again = await resumeRun(ids[0]);
  if (E.isLeft(again)) console.log(`  again: ${again.left._tag}: ${formatError(again.left)}`);

  // Orchestrated recovery of all the others.
  const orchestrator = new RunRecoveryOrchestrator();
  const summary = await orchestrator.recoverInterruptedRuns();
  if (E.isRight(summary)) console.log(`Recovered ${summary.right.recovered}/${summary.right.detected} runs`);
  else console.error(formatError(summary.left));

  await closeDefaultClient();
};

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
