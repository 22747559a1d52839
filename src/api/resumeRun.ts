import * as E from 'fp-ts/Either';
import { resumeRun as resume, type ResumeOptions, type ResumeResult } from '../recovery/resumeRun';
import { clientOr } from '../runtime/orbitClient';

export type { ResumeOptions, ResumeResult, ResumeSuccess } from '../recovery/resumeRun';

/**
 * Resumes an interrupted run from its next step. Checks it may (not finished, no failed steps
 * unless `retryFailed`, pipeline registered and unchanged unless `force`, nobody alive holding it),
 * claims it with an optimistic `run.resumed` append (exactly one of several racing claimants wins;
 * the others get RunAlreadyClaimed), and executes it here. Steps that succeeded never run again.
 */
export const resumeRun = async (runId: string, options: ResumeOptions = {}): Promise<ResumeResult> => {
  const c = await clientOr(options.client);
  return E.isLeft(c) ? c : resume(runId, { ...options, client: c.right });
};
