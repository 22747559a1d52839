/** What `verifyRun` returns, in a module of types only (the published .d.ts loads no pool-taking module). */
export interface RunVerification {
  readonly runId: string;
  /** Every check passed: hash chain, order, legality, projections. */
  readonly verified: boolean;
  /** The journal itself is sound (a projection may still disagree). */
  readonly journalIntact: boolean;
  /** One line per problem found; empty when verified. */
  readonly problems: readonly string[];
  /** The last event's seq (0: no events). */
  readonly lastSeq: number;
  /** The last event's hash (hex): the head of the chain, to compare with a copy or an export. */
  readonly lastHash: string | null;
}
