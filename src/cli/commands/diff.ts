import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { refuse, runCommand, type GlobalArgs } from '../session';
import { diffRuns, type StepSide } from '../../api/diffRuns';
import { parseRunId } from '../../api/internal/arguments';
import { formatElapsed } from '../../api/internal/timeline';

interface DiffArgs extends GlobalArgs {
  readonly runA: string;
  readonly runB: string;
}

const cell = (s: StepSide | null): string =>
  s === null
    ? '(no such step)'
    : `${s.status} ×${s.attempts} ${s.durationMs === null ? '-' : formatElapsed(s.durationMs)}${s.items === undefined ? '' : ` ${s.items.succeeded}/${s.items.total} items`}`;

export const diffCommand: CommandModule<GlobalArgs, DiffArgs> = {
  command: 'diff <runA> <runB>',
  describe: 'Compare two runs step by step: status, attempts, duration, and whether results differ (first differing JSON path)',
  builder: (y: Argv<GlobalArgs>) =>
    y.positional('runA', { type: 'string', demandOption: true }).positional('runB', { type: 'string', demandOption: true }),
  handler: (args) => {
    for (const id of [args.runA, args.runB]) {
      const parsed = parseRunId(id);
      if (E.isLeft(parsed)) return refuse(args, parsed.left);
    }
    return runCommand(args, { pipelines: false }, async ({ client, out }) => {
      const d = await diffRuns(args.runA, args.runB, { client });
      if (E.isLeft(d)) return d;
      const c = d.right;
      if (out.json) {
        out.document(c);
        return E.right(ExitCode.ok);
      }
      const run = (r: typeof c.a) =>
        `${r.runId} (${r.pipelineId}): ${r.status}${r.durationMs === null ? '' : ` in ${formatElapsed(r.durationMs)}`}`;
      out.line(`A ${run(c.a)}`);
      out.line(`B ${run(c.b)}`);
      out.line();
      const w = Math.max(4, ...c.steps.map((s) => s.step.length));
      const cw = Math.max(1, ...c.steps.map((s) => cell(s.a).length));
      out.line(`${'step'.padEnd(w)}  ${'A'.padEnd(cw)}  ${'B'.padEnd(cw)}  results`);
      for (const s of c.steps) {
        const results = s.sameResult === null ? '-' : s.sameResult ? 'same' : `differ at ${s.firstDifference ?? '$'}`;
        out.line(`${s.step.padEnd(w)}  ${cell(s.a).padEnd(cw)}  ${cell(s.b).padEnd(cw)}  ${results}`);
      }
      return E.right(ExitCode.ok);
    });
  },
};
