import * as E from 'fp-ts/Either';
import { openDatabase, type Database } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { expectExit, type E2eHarness } from './cli';

/**
 * A run with everything an auditor looks for, made by the real CLI: `transform-data` fails twice
 * and is retried, the process is killed (kill -9) while `load-data` runs, and `orbit resume` (a
 * second process, so a second worker) finishes it.
 */
export const buildEventfulRun = async (h: E2eHarness, runId?: string): Promise<string> => {
  const { runId: id } = await h.startRunAndKillWhen(
    'data-pipeline',
    { fail: { 'transform-data': 2 }, sleepMs: { 'load-data': 600 } },
    (ev) => ev.some((e) => e.type === 'step.started' && e.step_name === 'load-data'),
    { runId },
  );
  await h.waitUntilStale([id], 1000);
  expectExit(await h.cli(['resume', id, '--threshold', '1s']), 0);
  return id;
};

/** A Database on the harness's schema, for calling the library directly. */
export const harnessDatabase = (h: E2eHarness): Database => {
  const opened = openDatabase({ url: h.url, schema: h.schema, max: 2 });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  return opened.right;
};
