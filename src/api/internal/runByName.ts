/**
 * `orbit run <name> --metadata <json>`: a registered pipeline by name, with metadata that is only
 * known to be JSON until the pipeline's codec decodes it (the public `runPipeline` types it).
 */
export { runPipeline as runPipelineByName } from '../../executor/runPipeline';
/** `orbit run <name> --queue`: the same, queued for a worker. */
export { enqueueRun as enqueueRunByName, MAX_PRIORITY } from '../../executor/queue';
