import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import pc from 'picocolors';
import { ExitCode } from '../exitCodes';
import { wantsColor } from '../output';
import { refuse, runCommand, type GlobalArgs, readingSession } from '../session';
import { timelineLines } from '../timelineText';
import { followRun } from '../../api/followRun';
import { parseRunId } from '../../api/internal/arguments';
import { assertNever } from '../../api/internal/errors';
import { streamRunEvents, TERMINAL_TYPES, type RecordedEvent } from '../../api/internal/journal';
import { databaseNow, runLiveness } from '../../api/internal/liveness';
import { buildTimeline, dependsOnOf, mapItemsOf, renderTimelineHtml } from '../../api/internal/timeline';
import { verifyRun } from '../../api/verifyRun';
import { describeWait } from '../../api/loadRunState';

interface HistoryArgs extends GlobalArgs {
  readonly runId: string;
  readonly follow: boolean;
  readonly results: boolean;
  readonly html: boolean;
  readonly events: boolean;
}

/** One line per event: what an auditor reads. */
const describe = (r: RecordedEvent): string => {
  const e = r.event;
  const step = 'stepName' in e ? ` ${e.stepName} #${e.attempt}` : '';
  let detail = '';
  switch (e.type) {
    case 'run.created':
      detail = `${e.payload.pipelineId} [${e.payload.steps.join(', ')}] by ${e.payload.triggeredBy ?? 'unknown'}${
        e.payload.forkedFrom !== undefined
          ? `, forked from run ${e.payload.forkedFrom.runId} at step ${e.payload.forkedFrom.step}`
          : ''
      }`;
      break;
    case 'step.reused':
      detail = `result of run ${e.payload.fromRun} seq ${e.payload.fromSeq}`;
      break;
    case 'step.failed':
      detail = `${e.payload.error.name}: ${e.payload.error.message}${e.payload.retryable ? '' : ' (not retryable)'}`;
      break;
    case 'step.retry_scheduled':
    case 'item.retry_scheduled':
      detail = `${e.type === 'item.retry_scheduled' ? `item ${e.payload.index}: ` : ''}next attempt in ${e.payload.delayMs} ms`;
      break;
    case 'item.started':
    case 'item.succeeded':
      detail = `item ${e.payload.index}`;
      break;
    case 'item.failed':
      detail = `item ${e.payload.index}: ${e.payload.error.name}: ${e.payload.error.message}${e.payload.retryable ? '' : ' (not retryable)'}`;
      break;
    case 'run.resumed':
      detail = `by ${e.payload.by}${e.payload.requestedBy !== undefined ? ` for ${e.payload.requestedBy}` : ''} from ${e.payload.fromStep ?? '-'} (${e.payload.reason})${e.payload.inFlight.length ? `, re-running ${e.payload.inFlight.join(', ')}` : ''}`;
      break;
    case 'run.failed':
    case 'run.cancelled':
    case 'run.released':
      detail = e.payload.reason;
      break;
    case 'step.sleeping':
      detail = describeWait({ kind: 'sleep', until: e.payload.until, event: null });
      break;
    case 'step.waiting':
      detail = describeWait({ kind: 'wait', until: e.payload.timeoutAt, event: e.payload.event });
      break;
    case 'event.received':
      detail = `${JSON.stringify(e.payload.event)} from ${e.payload.sender !== undefined ? `${e.payload.sender} via ` : ''}${e.payload.by}: ${JSON.stringify(e.payload.data)}`;
      break;
    case 'event.rejected':
      detail = `${JSON.stringify(e.payload.event)} of seq ${e.payload.seq} turned away by step ${e.payload.step}: ${e.payload.reason}; it waits on`;
      break;
    case 'run.suspended':
      detail = `handed back by ${e.payload.worker}`;
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

/** Stops `--follow` on Ctrl+C or SIGTERM; returns the signal and a function that uninstalls it. */
const stopOnSignals = (): { signal: AbortSignal; dispose: () => void } => {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
};

export const historyCommand: CommandModule<GlobalArgs, HistoryArgs> = {
  command: 'history <runId>',
  describe: "Print a run's timeline (steps, attempts, durations, retries, crash and resume) and its journal, event by event",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('runId', { type: 'string', demandOption: true })
      .option('follow', {
        alias: 'f',
        type: 'boolean',
        default: false,
        describe: 'Keep printing new events until the run ends (with --json: one JSON object per line)',
      })
      .option('events', { type: 'boolean', default: false, describe: 'Only the events, one line each (no timeline)' })
      .option('results', {
        type: 'boolean',
        default: false,
        describe: "Show each succeeded step's result under its timeline row",
      })
      .option('html', {
        type: 'boolean',
        default: false,
        describe:
          'Write one self-contained HTML page to stdout (state, journal verification, timeline with errors, steps, events; no network fetches)',
      })
      .example('$0 history r-42 --results', 'Timeline with step results, then every event')
      .example('$0 history r-42 --html > r-42.html', 'A page to open in a browser or attach to a ticket'),
  handler: (args) => {
    const id = parseRunId(args.runId);
    if (E.isLeft(id)) return refuse(args, id.left);
    if (args.html && (args.follow || args.json)) {
      return refuse(args, {
        _tag: 'InvalidInput',
        what: 'options',
        message: '--html writes a finished page: not with --follow or --json',
      });
    }
    return runCommand(args, { pipelines: false }, async (session) => {
      const { out } = session;
      // --follow LISTENs, which a standby cannot: it reads the primary.
      const client = args.follow ? session.client : await readingSession(session);
      const print = (r: RecordedEvent) => (out.json ? process.stdout.write(`${JSON.stringify(r)}\n`) : out.line(describe(r)));
      if (args.follow) {
        // Events stream as they are read: the history may be long and the run still going.
        let last = 0;
        let ended = false;
        for await (const batch of streamRunEvents(client, args.runId)) {
          if (E.isLeft(batch)) return batch;
          for (const r of batch.right) {
            print(r);
            last = r.seq;
            ended = TERMINAL_TYPES.has(r.event.type);
          }
        }
        if (last === 0) return E.left({ _tag: 'RunNotFound', runId: args.runId });
        if (!ended) {
          const stop = stopOnSignals();
          const followed = await followRun(args.runId, {
            client,
            afterSeq: last,
            onEvent: print,
            signal: stop.signal,
          }).finally(stop.dispose);
          if (E.isLeft(followed)) return followed;
        }
        return E.right(ExitCode.ok);
      }
      const all: RecordedEvent[] = [];
      for await (const batch of streamRunEvents(client, args.runId)) {
        if (E.isLeft(batch)) return batch;
        all.push(...batch.right);
      }
      // A run not ended is drawn up to the database's now (the clock its events carry), not its
      // last event: a running or crashed run shows how long it has been going.
      const lastEvent = all[all.length - 1];
      let asOf: string | undefined;
      if (lastEvent !== undefined && !TERMINAL_TYPES.has(lastEvent.event.type)) {
        const n = await databaseNow(client);
        if (E.isLeft(n)) return n;
        asOf = n.right.toISOString();
      }
      const timeline = buildTimeline(all, asOf);
      if (all.length === 0 || timeline === null) return E.left({ _tag: 'RunNotFound', runId: args.runId });
      if (args.html) {
        // The page says where the run stands now (database clock), and whether its journal verifies.
        const [now, verification, liveness] = await Promise.all([
          databaseNow(client),
          verifyRun(args.runId, { client }),
          timeline.ended ? Promise.resolve(null) : runLiveness(client, args.runId),
        ]);
        if (E.isLeft(now)) return now;
        if (E.isLeft(verification)) return verification;
        if (liveness !== null && E.isLeft(liveness)) return liveness;
        process.stdout.write(
          renderTimelineHtml({
            timeline,
            events: all,
            nowIso: now.right.toISOString(),
            verification: verification.right,
            liveness: liveness === null ? null : liveness.right,
          }),
        );
        return E.right(ExitCode.ok);
      }
      if (out.json) {
        out.document(all);
        return E.right(ExitCode.ok);
      }
      if (args.events) {
        for (const r of all) print(r);
        return E.right(ExitCode.ok);
      }
      const fancy = wantsColor(args.color);
      const colors = pc.createColors(fancy);
      const columns = process.stdout.columns ?? 100;
      for (const line of timelineLines(timeline, {
        width: fancy ? Math.max(20, Math.min(60, columns - 90)) : 40,
        fancy,
        paint: { green: colors.green, red: colors.red, yellow: colors.yellow, dim: colors.dim },
        results: args.results,
        dependsOn: dependsOnOf(all),
        items: mapItemsOf(all),
      })) {
        out.line(line);
      }
      out.line();
      out.line('Events');
      for (const r of all) print(r);
      return E.right(ExitCode.ok);
    });
  },
};
