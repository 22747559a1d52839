import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { parseRunId } from '../../executor/runId';
import { streamRunEvents } from '../../journal/readEvents';
import type { RecordedEvent } from '../../events/runEvents';
import { ExitCode } from '../exitCodes';
import { refuse, runCommand, type GlobalArgs } from '../session';

interface HistoryArgs extends GlobalArgs {
  readonly runId: string;
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
    default:
      break;
  }
  return `${String(r.seq).padStart(4)}  ${r.occurredAt}  ${e.type}${step}${detail ? `  ${detail}` : ''}  [${r.writer}]`;
};

export const historyCommand: CommandModule<GlobalArgs, HistoryArgs> = {
  command: 'history <runId>',
  describe: "Print a run's journal, event by event (streamed; fine for long histories)",
  builder: (y: Argv<GlobalArgs>) => y.positional('runId', { type: 'string', demandOption: true }),
  handler: (args) => {
    const id = parseRunId(args.runId);
    if (E.isLeft(id)) return refuse(args, id.left);
    return runCommand(args, { pipelines: false }, async ({ client, out }) => {
      let count = 0;
      const all: RecordedEvent[] = [];
      for await (const batch of streamRunEvents(client.db, args.runId)) {
        if (E.isLeft(batch)) return batch;
        for (const r of batch.right) {
          count += 1;
          if (out.json) all.push(r);
          else out.line(describe(r));
        }
      }
      if (count === 0) return E.left({ _tag: 'RunNotFound', runId: args.runId });
      if (out.json) out.document(all);
      return E.right(ExitCode.ok);
    });
  },
};
