import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { refuseUsage } from '../options';
import { runCommand, type GlobalArgs } from '../session';
import { parseRunId } from '../../api/internal/arguments';
import { OrbitErrors } from '../../api/internal/errors';
import { sendEvent, type EventTarget } from '../../api/sendEvent';

interface SendArgs extends GlobalArgs {
  readonly first: string;
  readonly second?: string;
  readonly data?: string;
  readonly key?: string;
  readonly pipeline?: string;
  readonly sender?: string;
}

const parseJson = (text: string, what: string): E.Either<ReturnType<typeof OrbitErrors.invalidInput>, unknown> => {
  try {
    return E.right(JSON.parse(text) as unknown);
  } catch (err) {
    return E.left(OrbitErrors.invalidInput(what, `not valid JSON (${err instanceof Error ? err.message : String(err)})`));
  }
};

export const sendCommand: CommandModule<GlobalArgs, SendArgs> = {
  command: 'send <first> [second]',
  describe: 'Send an event to a run: orbit send <runId> <event> [--data <json>], or orbit send <event> --key <json>',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('first', { type: 'string', demandOption: true, describe: 'The run id (or, with --key, the event)' })
      .positional('second', { type: 'string', describe: 'The event (a wait step waits for it by this name)' })
      .option('data', {
        type: 'string',
        describe:
          "The event's data, as JSON: it becomes the waiting step's data (default null). With --pipelines it is checked against the step's output codec now; without, the step turns away data its codec refuses, and waits on",
      })
      .option('key', {
        type: 'string',
        describe:
          'A correlation key instead of a run id: a JSON object that the metadata of exactly one unfinished run contains, e.g. \'{"orderId":"o-42"}\'',
      })
      .option('pipeline', { type: 'string', describe: 'With --key: only runs of this pipeline' })
      .option('sender', { type: 'string', describe: 'Who sends it (journaled beside this process), e.g. a person' })
      .example('$0 send run_abc approved --data \'{"by":"ana"}\'', 'Deliver "approved" to run run_abc')
      .example(
        '$0 send approved --key \'{"orderId":"o-42"}\' --pipeline approval',
        'Deliver it to the one unfinished run for order o-42',
      ),
  handler: (args) => {
    let target: EventTarget;
    let event: string;
    if (args.key !== undefined) {
      if (args.second !== undefined)
        return refuseUsage(
          args,
          OrbitErrors.invalidInput('send', 'with --key give only the event: orbit send <event> --key <json>'),
        );
      const key = parseJson(args.key, '--key');
      if (E.isLeft(key)) return refuseUsage(args, key.left);
      if (typeof key.right !== 'object' || key.right === null || Array.isArray(key.right))
        return refuseUsage(args, OrbitErrors.invalidInput('--key', 'must be a JSON object, e.g. \'{"orderId":"o-42"}\''));
      target = { key: key.right as Record<string, unknown>, ...(args.pipeline !== undefined ? { pipeline: args.pipeline } : {}) };
      event = args.first;
    } else {
      if (args.second === undefined)
        return refuseUsage(args, OrbitErrors.invalidInput('send', 'give the run id and the event: orbit send <runId> <event>'));
      const id = parseRunId(args.first);
      if (E.isLeft(id)) return refuseUsage(args, id.left);
      target = args.first;
      event = args.second;
    }
    let data: unknown = null;
    if (args.data !== undefined) {
      const d = parseJson(args.data, '--data');
      if (E.isLeft(d)) return refuseUsage(args, d.left);
      data = d.right;
    }
    return runCommand(args, { pipelines: true }, async ({ client, out }) => {
      const r = await sendEvent(client, target, event, data, args.sender !== undefined ? { sender: args.sender } : {});
      if (E.isLeft(r)) return r;
      const s = r.right;
      if (out.json) out.document(s);
      else {
        out.success(
          s.delivery === 'taken'
            ? `Event ${JSON.stringify(event)} sent to run ${s.runId} (seq ${s.seq}, ${s.sentAt}); step ${s.step ?? '?'} takes it, a worker resumes the run`
            : `Event ${JSON.stringify(event)} sent to run ${s.runId} (seq ${s.seq}, ${s.sentAt}); kept until a step waits for it`,
        );
        // Said, not refused: a sender without the code may still be right.
        if (s.unchecked)
          out.note(
            `Its data was not checked here (no --pipelines with this run's pipeline): a step with an output codec turns away data it does not decode, and waits on (orbit history ${s.runId} shows it)`,
          );
      }
      return E.right(ExitCode.ok);
    });
  },
};
