import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { OrbitErrors, type DbFailure } from '../errors';
import { describeDecodeError } from '../events/decodeErrors';
import type { SuspendedOn } from '../fold/runWait';

/** The `suspended` column of a runs listing (`suspendedOn` in src/queries/listRunSummaries.ts): jsonb, so decoded. */
const SuspendedOnColumn = t.union([
  t.intersection([
    t.type({
      type: t.keyof({ 'step.sleeping': null, 'step.waiting': null }),
      step: t.string,
      until: t.union([t.string, t.null]),
      event: t.union([t.string, t.null]),
    }),
    t.partial({ received: t.boolean }),
  ]),
  t.null,
]);

/**
 * What a listed run is suspended on (undefined: it is not), from the query's jsonb. A column
 * that does not decode is a DatabaseError naming the run, not a run shown without its wait.
 */
export const decodeSuspendedOn = (runId: string, column: unknown): E.Either<DbFailure, SuspendedOn | undefined> => {
  const d = SuspendedOnColumn.decode(column);
  if (E.isLeft(d))
    return E.left(
      OrbitErrors.databaseError(`run ${runId}: its sleeping or waiting step does not decode: ${describeDecodeError(d.left)}`),
    );
  const c = d.right;
  if (c === null) return E.right(undefined);
  const until = c.until === null ? null : new Date(c.until);
  if (until !== null && !Number.isFinite(until.getTime()))
    return E.left(OrbitErrors.databaseError(`run ${runId}: ${c.until} is not a time`));
  return E.right({
    kind: c.type === 'step.sleeping' ? 'sleep' : 'wait',
    step: c.step,
    until: until === null ? null : until.toISOString(),
    event: c.type === 'step.waiting' ? c.event : null,
    ...(c.received === true ? { received: true as const } : {}),
  });
};
