import type { Output } from './output';
import { formatDuration } from '../api/internal/durations';
import type { Progress } from '../api/runPipeline';

/** Prints a step as it finishes: `✓ extract (12 ms)`, `✗ load attempt 1 failed: … — retrying in 2s`. */
export const printProgress = (out: Output) => (p: Progress) => {
  const attempt = p.attempt > 1 ? `attempt ${p.attempt}, ` : '';
  if (p.kind === 'step.succeeded') {
    out.success(`${p.stepName} ${out.dim(`(${attempt}${p.durationMs} ms)`)}`);
  } else {
    const next = p.retryInMs === null ? 'giving up' : `retrying in ${formatDuration(Math.max(1, p.retryInMs))}`;
    out.failure(`${p.stepName} attempt ${p.attempt} failed: ${p.error} ${out.dim(`— ${next}`)}`);
  }
};
