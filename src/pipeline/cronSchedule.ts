import { Cron } from 'croner';
import * as E from 'fp-ts/Either';
import type { InvalidInput } from '../errors';
import type { JsonObject } from './types';

/**
 * A cron expression read in a time zone, by croner (5 fields, or 6 with seconds first; names,
 * ranges, steps, `L`, `#`): the ticks of a schedule. Never started: only its next and previous
 * ticks are computed, from times on the database clock.
 */
export interface CronSchedule {
  /** The first tick strictly after `afterMs`, or null when there is none. */
  readonly next: (afterMs: number) => number | null;
  /** The last tick at or before `atMs`, or null. */
  readonly latest: (atMs: number) => number | null;
}

const badZone = (timezone: string): InvalidInput => ({
  _tag: 'InvalidInput',
  what: 'timezone',
  message: `${JSON.stringify(timezone)} is not a time zone (e.g. Europe/Paris, UTC)`,
});

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The schedule of `cron` in `timezone` (an IANA name), or the InvalidInput that says what is wrong. */
export const parseCronSchedule = (cron: string, timezone: string): E.Either<InvalidInput, CronSchedule> => {
  // croner reads an empty zone as the process's local one: every worker would tick in its own.
  if (timezone.trim() === '') return E.left(badZone(timezone));
  let c: Cron;
  try {
    c = new Cron(cron, { timezone, paused: true });
  } catch (err) {
    return E.left({
      _tag: 'InvalidInput',
      what: 'cron',
      message: `${JSON.stringify(cron)} is not a cron expression (${message(err)})`,
    });
  }
  try {
    c.nextRun(new Date(0));
  } catch {
    return E.left(badZone(timezone));
  }
  return E.right({
    next: (afterMs) => c.nextRun(new Date(afterMs))?.getTime() ?? null,
    latest: (atMs) => c.previousRuns(1, new Date(atMs + 1))[0]?.getTime() ?? null,
  });
};

/** What to do with ticks missed while no worker ran: skip them, or run the most recent one once. */
export type CatchUp = 'skip' | 'last';

export interface ScheduleOptions {
  /** An IANA time zone the expression is read in. Default `UTC`. */
  readonly timezone?: string;
  /** Each run's metadata. Default `{}`. */
  readonly metadata?: JsonObject;
  /** Ticks missed while no worker ran: `skip` them (default) or run the most recent one once (`last`). */
  readonly catchUp?: CatchUp;
}

/** Checks a schedule without writing anything: the InvalidInput that says what is wrong, if anything. */
export const checkSchedule = (pipeline: string, cron: string, options: ScheduleOptions = {}): E.Either<InvalidInput, void> => {
  if (pipeline.trim() === '') return E.left({ _tag: 'InvalidInput', what: 'pipeline', message: 'give a pipeline name' });
  const parsed = parseCronSchedule(cron, options.timezone ?? 'UTC');
  if (E.isLeft(parsed)) return parsed;
  const { catchUp } = options;
  if (catchUp !== undefined && catchUp !== 'skip' && catchUp !== 'last')
    return E.left({
      _tag: 'InvalidInput',
      what: 'catch-up',
      message: `${JSON.stringify(catchUp)} is not a catch-up policy (skip or last)`,
    });
  return E.right(undefined);
};
