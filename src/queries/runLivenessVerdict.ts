/**
 * What `run_liveness` (sql/006_leases.sql, the one place the liveness rule is written) says of a
 * run. `released`, `dead` and `stale` are interrupted; `leased` and `waiting` are not yet.
 */
export type Verdict = 'finished' | 'queued' | 'released' | 'dead' | 'leased' | 'stale' | 'waiting';

/** Verdicts under which nobody is executing the run: recovery may take it over. */
export const INTERRUPTED_VERDICTS: readonly Verdict[] = ['released', 'dead', 'stale'];

/** Verdicts of an unfinished run that will become interrupted at `interruptible_at` unless something happens. */
export const NOT_YET_INTERRUPTED_VERDICTS: readonly Verdict[] = ['leased', 'waiting'];
