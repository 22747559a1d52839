/**
 * The one definition of a run waiting on the queue, as a condition over `runs r`: pending, put on
 * the queue (`queue:…`, matching the runs_queued partial index, sql/006), due (no `delayed_runs`
 * row with a time still ahead, sql/013), and under no valid lease (a worker that reserved it has
 * it in its lease before the reservation commits). Used by the workers' claim (lockQueuedRuns),
 * the queue depth (countQueuedRuns) and the stranded runs (listStrandedQueuedRuns).
 *
 * The held runs are one set, hashed once per statement (`NOT IN (subquery)`: a hashed SubPlan),
 * not an `= ANY (held)` scan of every worker's array for each queued run: with 20,000 queued
 * and 2,000 held, the queue-depth count took 1,496 ms that way and takes 12 ms (PG 15).
 */
export const waitingOnQueue = (qs: string): string =>
  `r.status = 'pending' AND r.triggered_by LIKE 'queue:%'
   AND NOT EXISTS (SELECT 1 FROM ${qs}.delayed_runs d WHERE d.run_id = r.id AND d.run_at > now())
   AND r.id NOT IN (SELECT h FROM ${qs}.workers w, unnest(w.held) AS h WHERE w.lease_until > now() AND h IS NOT NULL)`;
