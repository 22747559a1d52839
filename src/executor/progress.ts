import type { RunEvent } from '../events/runEvents';

/** What the executor reports as it goes (the CLI prints these). */
export type Progress =
  | {
      readonly kind: 'step.succeeded';
      readonly runId: string;
      readonly stepName: string;
      readonly attempt: number;
      readonly durationMs: number;
    }
  | {
      readonly kind: 'step.failed';
      readonly runId: string;
      readonly stepName: string;
      readonly attempt: number;
      readonly durationMs: number;
      readonly error: string;
      /** Milliseconds until the next attempt, or null when the step failed for good. */
      readonly retryInMs: number | null;
    };

/** The progress an attempt's events describe (its success, or its failure and any retry). */
export const progressOf = (runId: string, events: readonly RunEvent[], durationMs: number): Progress | undefined => {
  for (const e of events) {
    if (e.type === 'step.succeeded') {
      return { kind: 'step.succeeded', runId, stepName: e.stepName, attempt: e.attempt, durationMs };
    }
    if (e.type === 'step.failed') {
      const retry = events.find((r) => r.type === 'step.retry_scheduled');
      return {
        kind: 'step.failed',
        runId,
        stepName: e.stepName,
        attempt: e.attempt,
        durationMs,
        error: `${e.payload.error.name}: ${e.payload.error.message}`,
        retryInMs: retry?.type === 'step.retry_scheduled' ? retry.payload.delayMs : null,
      };
    }
  }
  return undefined;
};
