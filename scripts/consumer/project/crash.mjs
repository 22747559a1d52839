// Starts a run of `consumer-crash` and dies (SIGKILL) in its second step.
import { runPipeline } from 'orbit-pipeline/promise';
import { pipeline } from './register.mjs';

await runPipeline(pipeline, {});
console.error('crash.mjs: the run was expected to kill this process');
process.exit(1);
