/**
 * The codec of `OrbitError`, for errors that cross a process boundary as JSON (an isolated
 * resume's result, a `--json` error line): the receiver decodes the tagged value instead of
 * reading message text. The check at the end keeps it equal to the OrbitError union.
 */
import * as t from 'io-ts';
import type { OrbitError } from './errors';

const tagged = <T extends string, P extends t.Props>(tag: T, props: P) => t.type({ _tag: t.literal(tag), ...props }, tag);
const names = t.readonlyArray(t.string);

export const OrbitErrorCodec = t.union([
  tagged('DatabaseUnavailable', { message: t.string }),
  tagged('DatabaseError', { message: t.string, code: t.union([t.string, t.undefined]) }),
  tagged('InvalidSchemaName', { schema: t.string }),
  tagged('InvalidInput', { what: t.string, message: t.string }),
  tagged('ConcurrencyConflict', { runId: t.string, expectedSeq: t.number, actualSeq: t.union([t.number, t.null]) }),
  tagged('EventDecodeError', { runId: t.string, seq: t.number, type: t.string, field: t.string, message: t.string }),
  tagged('IllegalTransition', { runId: t.string, seq: t.number, type: t.string, reason: t.string }),
  tagged('RunNotFound', { runId: t.string }),
  tagged('PipelineNotFound', { pipelineId: t.string, known: names }),
  tagged('InvalidMetadata', { pipelineId: t.string, message: t.string }),
  tagged('RunNotResumable', { runId: t.string, status: t.string, reason: t.string }),
  tagged('RunHasFailedSteps', { runId: t.string, failedSteps: names }),
  tagged('PipelineDrift', { runId: t.string, pipelineId: t.string, journaled: names, registered: names }),
  tagged('RunAlreadyClaimed', { runId: t.string }),
  t.intersection([
    tagged('RunStillActive', {
      runId: t.string,
      owner: t.string,
      lastActivityAt: t.union([t.string, t.null]),
      thresholdMs: t.number,
    }),
    t.partial({ leaseUntil: t.union([t.string, t.null]) }),
  ]),
  tagged('ProjectionMismatch', { runId: t.string, differences: names }),
  tagged('RunNotCancellable', { runId: t.string, status: t.string }),
  tagged('EventNotDelivered', { runId: t.union([t.string, t.null]), event: t.string, reason: t.string }),
  tagged('Fenced', { runId: t.string }),
  tagged('RecoveryLimitReached', { runId: t.string, attempts: t.number }),
  tagged('RunFailed', { runId: t.string, status: t.string, reason: t.string }),
  tagged('RunNotForkable', { runId: t.string, status: t.string, reason: t.string }),
]);

// The codec decodes exactly the OrbitError union: a new error type fails to compile here until it has its codec.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const exact: Same<t.TypeOf<typeof OrbitErrorCodec>, OrbitError> = true;
void exact;
