/**
 * How long a run waited for its claim. Its own file, without the pool: the public worker events
 * carry it, and the published .d.ts must not load the pool-taking query (and with it pg's types).
 */
export interface ClaimLatency {
  /** `queue`: from the run's creation on the queue; `released`: from its release by another worker. */
  readonly source: 'queue' | 'released';
  readonly seconds: number;
}
