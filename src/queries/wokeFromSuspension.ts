import type { Database } from '../db/database';

/**
 * SQL: whether the `run.resumed` row aliased `alias` woke a suspended run (its sleep ended, its
 * wait timed out or its event came) rather than recovering an interrupted one. A wake-up takes the
 * run through the same claim, but nothing was interrupted: the recovery metrics leave it out. The
 * run's last change of hands before it tells: `run.suspended` for a wake-up; `run.claimed`,
 * `run.resumed` or `run.released` for a recovery (a woken run that then dies is recovered again,
 * and that resumption counts).
 */
export const wokeFromSuspension = (db: Database, alias: string): string =>
  `coalesce((SELECT o.type FROM ${db.qs}.run_events o
               WHERE o.run_id = ${alias}.run_id AND o.seq < ${alias}.seq
                 AND o.type IN ('run.suspended', 'run.claimed', 'run.resumed', 'run.released')
               ORDER BY o.seq DESC LIMIT 1), '') = 'run.suspended'`;
