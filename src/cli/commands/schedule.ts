import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { refuseUsage } from '../options';
import { runCommand, type GlobalArgs } from '../session';
import { OrbitErrors } from '../../api/internal/errors';
import { addSchedule, listSchedules, removeSchedule, type CatchUp } from '../../api/schedules';
import { checkSchedule, type JsonObject } from '../../api/internal/schedules';

interface ScheduleArgs extends GlobalArgs {
  readonly action: 'add' | 'list' | 'remove';
  readonly target?: string;
  readonly cron?: string;
  readonly timezone?: string;
  readonly metadata?: string;
  readonly catchUp?: string;
}

/** `orbit schedule add|list|remove`: schedules kept in the database, started by workers (docs/WORKER.md "Schedules"). */
/** What `orbit schedule` does (main.ts checks the word under --help too). */
export const SCHEDULE_ACTIONS = ['add', 'list', 'remove'] as const;

export const scheduleCommand: CommandModule<GlobalArgs, ScheduleArgs> = {
  command: 'schedule <action> [target]',
  describe:
    "Schedules in the database: add <pipeline> --cron <expr> | list | remove <id> (a pipeline's definition may carry one: definePipeline({ schedule }))",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('action', { choices: SCHEDULE_ACTIONS, demandOption: true })
      .positional('target', { type: 'string', describe: 'add: the pipeline; remove: the schedule id' })
      .option('cron', {
        type: 'string',
        describe: 'add: a cron expression (5 fields, or 6 with seconds first), e.g. "0 9 * * 1-5" or "*/10 * * * * *"',
      })
      .option('timezone', { type: 'string', describe: 'add: the IANA time zone the expression is read in (default UTC)' })
      .option('metadata', { type: 'string', describe: "add: each run's metadata, a JSON object (default {})" })
      .option('catch-up', {
        type: 'string',
        describe: 'add: ticks missed while no worker ran: skip them (default), or run the last one once',
      })
      .example(
        "$0 schedule add nightly-report --cron '0 2 * * *' --timezone Europe/Paris",
        'Queue nightly-report at 02:00 Paris time',
      )
      .example('$0 schedule add ping --cron \'*/10 * * * * *\' --metadata \'{"host":"a"}\' --catch-up last', 'Every 10 s')
      .example(
        '$0 schedule list',
        "The schedules, their last and next tick, and where each comes from (added, or the pipeline's definition)",
      )
      .example('$0 schedule remove 3', 'Remove schedule 3'),
  handler: (args) => {
    if (args.action === 'list')
      return runCommand(args, { pipelines: false }, async ({ client, out }) => {
        const r = await listSchedules(client);
        if (E.isLeft(r)) return r;
        if (out.json) out.document(r.right);
        else if (r.right.length === 0) out.line('No schedules (add one with orbit schedule add <pipeline> --cron <expr>)');
        else
          for (const s of r.right)
            out.line(
              `${s.id}  ${s.pipeline}  "${s.cron}" ${s.timezone}  catch-up ${s.catchUp}  metadata ${JSON.stringify(s.metadata)}  last ${s.lastTick ?? '-'}  next ${s.nextTick ?? '-'}  ${s.source === 'definition' ? 'from the definition' : 'added'}`,
            );
        return E.right(ExitCode.ok);
      });
    if (args.action === 'remove') {
      const id = args.target;
      if (id === undefined || !/^\d{1,18}$/.test(id))
        return refuseUsage(
          args,
          OrbitErrors.invalidInput(
            'schedule id',
            'give the id of a schedule: orbit schedule remove <id> (see orbit schedule list)',
          ),
        );
      return runCommand(args, { pipelines: false }, async ({ client, out }) => {
        const r = await removeSchedule(client, id);
        if (E.isLeft(r)) return r;
        if (out.json) out.document({ id, removed: true });
        else out.success(`Schedule ${id} removed`);
        return E.right(ExitCode.ok);
      });
    }
    const pipeline = args.target;
    if (pipeline === undefined)
      return refuseUsage(
        args,
        OrbitErrors.invalidInput('pipeline', 'give the pipeline: orbit schedule add <pipeline> --cron <expr>'),
      );
    if (args.cron === undefined)
      return refuseUsage(args, OrbitErrors.invalidInput('--cron', 'give a cron expression, e.g. --cron "0 9 * * *"'));
    let metadata: JsonObject = {};
    if (args.metadata !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(args.metadata);
      } catch (err) {
        return refuseUsage(
          args,
          OrbitErrors.invalidInput('--metadata', `not valid JSON (${err instanceof Error ? err.message : String(err)})`),
        );
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        return refuseUsage(args, OrbitErrors.invalidInput('--metadata', 'must be a JSON object, e.g. \'{"region":"eu"}\''));
      metadata = parsed as JsonObject;
    }
    const options = {
      metadata,
      ...(args.timezone !== undefined ? { timezone: args.timezone } : {}),
      ...(args.catchUp !== undefined ? { catchUp: args.catchUp as CatchUp } : {}),
    };
    const checked = checkSchedule(pipeline, args.cron, options);
    if (E.isLeft(checked)) return refuseUsage(args, checked.left);
    const cron = args.cron;
    return runCommand(args, { pipelines: true }, async ({ client, out }) => {
      const r = await addSchedule(client, pipeline, cron, options);
      if (E.isLeft(r)) return r;
      if (out.json)
        out.document({
          id: r.right,
          pipeline,
          cron,
          timezone: options.timezone ?? 'UTC',
          catchUp: options.catchUp ?? 'skip',
          metadata,
        });
      else
        out.success(
          `Schedule ${r.right} added: ${pipeline} on "${cron}" (${options.timezone ?? 'UTC'}, catch-up ${options.catchUp ?? 'skip'})`,
        );
      return E.right(ExitCode.ok);
    });
  },
};
