/**
 * The one definition of a run waiting on the queue, as a condition over `runs r`: pending, put on
 * the queue (`queue:…`, matching the runs_queued partial index, sql/006), and under no valid lease
 * (a worker that reserved it has it in its lease before the reservation commits). Used by the
 * workers' claim (lockQueuedRuns) and the queue depth (countQueuedRuns).
 */
export const waitingOnQueue = (qs: string): string =>
  `r.status = 'pending' AND r.triggered_by LIKE 'queue:%'
   AND NOT EXISTS (SELECT 1 FROM ${qs}.workers w WHERE r.id = ANY (w.held) AND w.lease_until > now())`;
