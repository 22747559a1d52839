/**
 * The runs of pipeline `pipelineExpr` that count against its concurrency limit (docs/WORKER.md,
 * "Concurrency per pipeline"), as a count over `runs x`: those executing (`running`) and those a
 * worker has reserved but not yet claimed (`pending` under a valid lease: reserveQueuedRuns puts
 * them in its lease before its claim transaction commits). A run that ended, or waits on the
 * queue, does not count; nor does a `sleeping` or `waiting` run (a durable sleep, a wait for an
 * event: sql/016), which holds no worker while it waits.
 */
export const countExecutingRuns = (qs: string, pipelineExpr: string): string =>
  `(SELECT count(*) FROM ${qs}.runs x
     WHERE x.pipeline_id = ${pipelineExpr}
       AND (x.status = 'running'
            OR (x.status = 'pending'
                AND EXISTS (SELECT 1 FROM ${qs}.workers w WHERE x.id = ANY (w.held) AND w.lease_until > now()))))`;
