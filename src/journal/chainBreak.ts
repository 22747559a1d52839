/** An event whose stored hash is not what its content and its predecessor say it should be. */
export interface ChainBreak {
  readonly runId: string;
  readonly seq: number;
  readonly reason: 'hash mismatch' | 'seq gap';
}
