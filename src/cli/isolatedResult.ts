/**
 * What an isolated resume's child process (`orbit resume <id> --result-fd 3`) tells its parent
 * (`orbit worker`, `orbit recover`): one JSON document on a pipe of its own, never on the human
 * output, decoded here. The parent learns the error's tag (or the resume's result) and maps it
 * with the same `outcomeOf` as an in-process resume; it never reads message text.
 */
import { writeSync } from 'node:fs';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { OrbitErrorCodec, type OrbitError, type ResumeFailure } from '../api/internal/errors';
import type { ResumeResult, ResumeSuccess } from '../api/resumeRun';

const RunStatus = t.keyof({
  pending: null,
  running: null,
  success: null,
  failed: null,
  cancelled: null,
  sleeping: null,
  waiting: null,
});

const ResumeSuccessCodec = t.type({
  runId: t.string,
  pipelineId: t.string,
  status: RunStatus,
  stepsExecuted: t.number,
  resumedFrom: t.union([t.string, t.null]),
  reExecutedInFlight: t.readonlyArray(t.string),
  durationMs: t.number,
  released: t.boolean,
  suspended: t.union([
    t.intersection([
      t.type({
        kind: t.keyof({ sleep: null, wait: null }),
        step: t.string,
        until: t.union([t.string, t.null]),
        event: t.union([t.string, t.null]),
      }),
      t.partial({ received: t.literal(true) }),
    ]),
    t.null,
  ]),
  error: t.union([t.string, t.null]),
});
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const exact: Same<t.TypeOf<typeof ResumeSuccessCodec>, ResumeSuccess> = true;
void exact;

export const IsolatedResult = t.union([
  t.type({ runId: t.string, result: ResumeSuccessCodec }),
  t.type({ runId: t.string, error: OrbitErrorCodec }),
]);
export type IsolatedResult = t.TypeOf<typeof IsolatedResult>;

/** The child's side: writes the document to `fd` (the parent's extra pipe). */
export const writeIsolatedResult = (
  fd: number,
  doc: { runId: string; result: ResumeSuccess } | { runId: string; error: OrbitError },
): void => {
  writeSync(fd, `${JSON.stringify(doc)}\n`);
};

/** The parent's side: the resume's result, or why there is none (no document, or one that does not decode). */
export const readIsolatedResult = (text: string, runId: string): E.Either<string, ResumeResult> => {
  const line = text.trim();
  if (line === '') return E.left('no result document');
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return E.left('a result document that is not JSON');
  }
  const doc = IsolatedResult.decode(json);
  if (E.isLeft(doc)) return E.left('a result document that does not decode');
  if (doc.right.runId !== runId) return E.left(`a result document for another run (${doc.right.runId})`);
  if ('result' in doc.right) return E.right(E.right(doc.right.result));
  const error = doc.right.error;
  return isResumeFailure(error) ? E.right(E.left(error)) : E.left(`an error a resume cannot return (${error._tag})`);
};

/** The errors a resume never returns; with the check below, the rest is exactly ResumeFailure. */
const NOT_FROM_A_RESUME = [
  'ConcurrencyConflict',
  'InvalidMetadata',
  'RunNotCancellable',
  'EventNotDelivered',
  'RunNotForkable',
] as const;
const notFromAResume: Same<(typeof NOT_FROM_A_RESUME)[number], Exclude<OrbitError, ResumeFailure>['_tag']> = true;
void notFromAResume;

const isResumeFailure = (e: OrbitError): e is ResumeFailure => !(NOT_FROM_A_RESUME as readonly string[]).includes(e._tag);
