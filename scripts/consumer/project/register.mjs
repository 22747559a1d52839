// The pipeline the consumer test crashes and the spec's recovery blocks then recover. Loaded with
// `node --import` before each of them, as a user's app would register its pipelines at startup.
import { definePipeline, registry } from 'orbit-pipeline/promise';

export const pipeline = definePipeline({
  name: 'consumer-crash',
  steps: [
    { name: 'first', handler: () => ({ success: true, data: { n: 1 } }) },
    {
      name: 'second',
      handler: () => {
        // The crash: a hard kill in the middle of a run, as a deploy or the OOM killer would.
        if (process.env.CONSUMER_CRASH === '1') process.kill(process.pid, 'SIGKILL');
        return { success: true };
      },
    },
  ],
});
registry.registerPipeline(pipeline);
