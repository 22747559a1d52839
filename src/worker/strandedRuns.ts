/** Queued runs that no live worker can execute (types only, db-free: see src/api/listWorkers.ts). */
export interface StrandedRuns {
  /** The pipeline the runs were queued for. */
  readonly pipelineId: string;
  /** The definition hash they were queued with: only a worker with this definition executes them. */
  readonly definitionHash: string;
  /** How many such runs wait on the queue. */
  readonly runs: number;
  /** When the oldest of them was queued (database clock). */
  readonly oldestQueuedAt: Date;
  /** The definitions of this pipeline that live workers have (empty: no live worker has the pipeline at all). */
  readonly liveDefinitions: readonly string[];
}

/** `deploy@3f2a1b2c`: a pipeline at a definition, as the CLI and the worker's log name it. */
export const definitionLabel = (pipelineId: string, definitionHash: string): string =>
  `${pipelineId}@${definitionHash.slice(0, 8)}`;

/** One line for people: "5 runs of deploy@3f2a1b2c wait for a worker that has this definition (live workers have deploy@9c0d…)". */
export const describeStranded = (s: StrandedRuns): string => {
  const what = `${s.runs} queued run${s.runs === 1 ? '' : 's'} of ${definitionLabel(s.pipelineId, s.definitionHash)}`;
  const verb = s.runs === 1 ? 'waits' : 'wait';
  const others =
    s.liveDefinitions.length === 0
      ? `no live worker has pipeline ${s.pipelineId}`
      : `live workers have ${s.liveDefinitions.map((h) => definitionLabel(s.pipelineId, h)).join(', ')}`;
  return `${what} ${verb} for a worker that has this definition (${others}; oldest queued ${s.oldestQueuedAt.toISOString()})`;
};
