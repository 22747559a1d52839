/**
 * What `auditJournal` returns, in a module of types only: the public API (src/api/) names it
 * without its published .d.ts loading the pool-taking audit modules, and with them pg's types.
 */
import type { AuditProblem } from './problems';

/** What `auditJournal` (`orbit verify`) found. */
export interface AuditReport {
  readonly runsChecked: number;
  /** Every problem found, run by run in id order; empty when everything verifies. */
  readonly problems: readonly AuditProblem[];
  /** Runs with at least one problem in the journal itself (not only in the projections). */
  readonly brokenRuns: readonly string[];
}
