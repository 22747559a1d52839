import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { parseRunId } from '../../executor/runId';
import type { Database } from '../../db/database';
import { RunWatcher } from '../../executor/runWatcher';
import { streamRunEvents } from '../../journal/readEvents';
import { assertNever } from '../../errors';
import { TERMINAL_TYPES, type RecordedEvent } from '../../events/runEvents';
import { ExitCode } from '../exitCodes';
import { refuse, runCommand, type GlobalArgs } from '../session';

interface HistoryArgs extends GlobalArgs {
  readonly runId: string;
  readonly follow: boolean;
}

/** One line per event: what an auditor reads. */
const describe = (r: RecordedEvent): string => {
  const e = r.event;
  const step = 'stepName' in e ? ` ${e.stepName} #${e.attempt}` : '';
  let detail = '';
  switch (e.type) {
    case 'run.created':
      detail = `${e.payload.pipelineId} [${e.payload.steps.join(', ')}] by ${e.payload.triggeredBy ?? 'unknown'}`;
      break;
    case 'step.failed':
      detail = `${e.payload.error.name}: ${e.payload.error.message}${e.payload.retryable ? '' : ' (not retryable)'}`;
      break;
    case 'step.retry_scheduled':
      detail = `next attempt in ${e.payload.delayMs} ms`;
      break;
    case 'run.resumed':
      detail = `by ${e.payload.by} from ${e.payload.fromStep ?? '-'} (${e.payload.reason})${e.payload.inFlight.length ? `, re-running ${e.payload.inFlight.join(', ')}` : ''}`;
      break;
    case 'run.failed':
    case 'run.cancelled':
    case 'run.released':
      detail = e.payload.reason;
      break;
    case 'run.claimed':
    case 'step.started':
    case 'step.succeeded':
    case 'run.succeeded':
      break;
    default:
      assertNever(e);
  }
  return `${String(r.seq).padStart(4)}  ${r.occurredAt}  ${e.type}${step}${detail ? `  ${detail}` : ''}  [${r.writer}]`;
};

/** Events after which nothing more is expected (a --retry-failed resume may still follow a failure). */
const ENDS: ReadonlySet<string> = TERMINAL_TYPES;

/**
 * `--follow`: prints new events as they are journaled until the run ends or Ctrl+C. A NOTIFY on
 * the run's transitions wakes it at once; step events do not notify (they would cost every
 * commit a cluster-wide lock), so it also polls, cheaply, on the (run_id, seq) index.
 */
const follow = async (db: Database, runId: string, afterSeq: number, print: (r: RecordedEvent) => void) => {
  const watcher = new RunWatcher(db);
  let wake: (() => void) | undefined;
  const unwatch = await watcher.watch(runId, () => wake?.());
  let stopped = false;
  const onSignal = () => {
    stopped = true;
    wake?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let last = afterSeq;
  try {
    for (;;) {
      for await (const batch of streamRunEvents(db, runId, { afterSeq: last })) {
        if (E.isLeft(batch)) return batch;
        for (const r of batch.right) {
          print(r);
          last = r.seq;
          if (ENDS.has(r.event.type)) return E.right(undefined);
        }
      }
      if (stopped) return E.right(undefined);
      // Sleep until the poll interval, a notification, or a signal; one wake function at a time.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unwatch();
    await watcher.close();
  }
};

export const historyCommand: CommandModule<GlobalArgs, HistoryArgs> = {
  command: 'history <runId>',
  describe: "Print a run's journal, event by event (streamed; fine for long histories)",
  builder: (y: Argv<GlobalArgs>) =>
    y.positional('runId', { type: 'string', demandOption: true }).option('follow', {
      alias: 'f',
      type: 'boolean',
      default: false,
      describe: 'Keep printing new events until the run ends (with --json: one JSON object per line)',
    }),
  handler: (args) => {
    const id = parseRunId(args.runId);
    if (E.isLeft(id)) return refuse(args, id.left);
    return runCommand(args, { pipelines: false }, async ({ client, out }) => {
      const print = (r: RecordedEvent) => (out.json ? process.stdout.write(`${JSON.stringify(r)}\n`) : out.line(describe(r)));
      let last = 0;
      let ended = false;
      const all: RecordedEvent[] = [];
      for await (const batch of streamRunEvents(client.db, args.runId)) {
        if (E.isLeft(batch)) return batch;
        for (const r of batch.right) {
          last = r.seq;
          ended = ENDS.has(r.event.type);
          if (out.json && !args.follow) all.push(r);
          else print(r);
        }
      }
      if (last === 0) return E.left({ _tag: 'RunNotFound', runId: args.runId });
      if (args.follow && !ended) {
        const followed = await follow(client.db, args.runId, last, print);
        if (E.isLeft(followed)) return followed;
      } else if (out.json) {
        out.document(all);
      }
      return E.right(ExitCode.ok);
    });
  },
};
