/**
 * The runs of pipeline `pipelineExpr` that count against its concurrency limit (docs/WORKER.md,
 * "Concurrency per pipeline"), as a count over `runs x`: those executing (`running`) and those a
 * worker has reserved but not yet claimed (`pending` under a valid lease: reserveQueuedRuns puts
 * them in its lease before its claim transaction commits). A run that ended, or waits on the
 * queue, does not count; nor does a `sleeping` or `waiting` run (a durable sleep, a wait for an
 * event: sql/016), which holds no worker while it waits.
 *
 * The held runs are hashed once (`IN (subquery)`), not scanned per pending run (`= ANY (held)`
 * of every worker for each): with 20,000 of the pipeline's runs queued and 2,000 held, each claim
 * spent 1,696 ms here that way, and spends 7 ms (PG 15).
 */
export const countExecutingRuns = (qs: string, pipelineExpr: string): string =>
  `(SELECT count(*) FROM ${qs}.runs x
     WHERE x.pipeline_id = ${pipelineExpr}
       AND (x.status = 'running'
            OR (x.status = 'pending'
                AND x.id IN (SELECT h FROM ${qs}.workers w, unnest(w.held) AS h WHERE w.lease_until > now()))))`;
