import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import type { Output } from '../output';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { parseReplayPoint, parseRunId } from '../../api/internal/arguments';
import { replayRun, type Replay } from '../../api/replayRun';

interface ReplayArgs extends GlobalArgs {
  readonly runId: string;
  readonly at: string;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

const print = (out: Output, r: Replay): void => {
  const s = r.state;
  const e = r.lastEvent;
  out.line(
    `Run ${s.runId} (${s.pipelineId}) at seq ${e.seq}, ${e.occurredAt}: after ${e.event.type}${'stepName' in e.event ? ` ${e.event.stepName} #${e.event.attempt}` : ''}`,
  );
  out.line(`Status: ${s.status}${s.owner === null ? '' : `, held by ${s.owner}`}${s.error === null ? '' : ` (${s.error})`}`);
  out.line(`Later events: ${r.eventsAfter}`);
  out.line();
  for (const st of s.steps) {
    const extra =
      st.status === 'success'
        ? `  result ${show(st.result)}`
        : st.error !== null
          ? `  ${st.error.name}: ${st.error.message}${st.nextRetryAt === null ? '' : `, next attempt at ${st.nextRetryAt}`}`
          : '';
    // A map step: how far its items had got (each item is an attempt of its own).
    const m = s.maps?.[st.name];
    const items = m === undefined ? '' : `  items ${m.succeeded}/${m.count} succeeded, ${m.open.length} started and unfinished`;
    out.line(`  ${st.name.padEnd(20)} ${st.status.padEnd(8)} attempts ${st.attemptCount}${items}${extra}`);
  }
  out.line();
  if (r.next === null) {
    out.line('Next: nothing (the run had ended or every step had succeeded)');
    return;
  }
  // A DAG may have several branches ready at once: each with its context (one for a linear pipeline).
  if (r.ready.length > 1) out.line(`Next: ${r.ready.length} steps ready (${r.ready.map((n) => n.stepName).join(', ')}).`);
  for (const n of r.ready) {
    out.line(`Next: ${n.stepName}, attempt ${n.attempt}${n.inFlight ? ' (in flight at that moment)' : ''}. Its StepContext:`);
    out.line(`  idempotencyKey ${n.context.idempotencyKey}`);
    out.line(`  metadata       ${show(n.context.metadata)}`);
    for (const [name, p] of Object.entries(n.context.prevResults)) out.line(`  prevResults[${name}] ${show(p)}`);
    if (!n.decoded)
      out.line(out.dim('  (pipeline not registered: metadata and results as journaled, not decoded by its codecs)'));
  }
};

export const replayCommand: CommandModule<GlobalArgs, ReplayArgs> = {
  command: 'replay <runId>',
  describe: "Show a run's state at a past moment and the StepContext its next step would have received then",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('runId', { type: 'string', demandOption: true })
      .option('at', {
        type: 'string',
        demandOption: true,
        describe: 'A seq (state just after that event) or an ISO-8601 time (every event up to it)',
      })
      .example('$0 replay r-42 --at 7', 'The run just after its 7th event')
      .example('$0 replay r-42 --at 2026-11-29T15:04:05Z --json', 'The run as it stood at that time'),
  handler: (args) => {
    const id = parseRunId(args.runId);
    if (E.isLeft(id)) return refuse(args, id.left);
    const at = parseReplayPoint(String(args.at));
    if (E.isLeft(at)) return refuse(args, at.left);
    return runCommand(args, { pipelines: true }, async ({ client, out }) => {
      const r = await replayRun(args.runId, at.right, { client });
      if (E.isLeft(r)) return r;
      if (out.json) out.document(r.right);
      else print(out, r.right);
      return E.right(ExitCode.ok);
    });
  },
};
