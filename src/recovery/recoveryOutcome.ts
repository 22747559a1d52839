import type { ResumeFailure } from '../errors';
import type { ResumeSuccess } from './resumeRun';

/** How one detected run fared. `skipped`: another process claimed it first (not a failure). */
export type RecoveryOutcome =
  | { readonly runId: string; readonly pipelineId: string; readonly outcome: 'recovered'; readonly result: ResumeSuccess }
  | { readonly runId: string; readonly pipelineId: string; readonly outcome: 'skipped'; readonly reason: string }
  | {
      readonly runId: string;
      readonly pipelineId: string;
      readonly outcome: 'failed';
      readonly error: ResumeFailure;
      readonly message: string;
    };
