import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { refuseUsage } from '../options';
import { runCommand, type GlobalArgs, readingSession } from '../session';
import { parseDuration } from '../../api/internal/durations';
import { recoveryStats } from '../../api/recoveryStats';

interface StatsArgs extends GlobalArgs {
  readonly since?: string;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null, unit = '') => (x === null ? 'n/a' : `${Number.isInteger(x) ? x : x.toFixed(2)}${unit}`);

export const statsCommand: CommandModule<GlobalArgs, StatsArgs> = {
  command: 'stats',
  describe: 'Recovery metrics from the journal: interrupted runs, success rate, steps re-executed, recovery time',
  builder: (y: Argv<GlobalArgs>) =>
    y.option('since', { type: 'string', describe: 'Only recoveries within this window, e.g. 24h, 7d' }),
  handler: (args) => {
    let sinceMs: number | undefined;
    if (args.since !== undefined) {
      const d = parseDuration(String(args.since), '--since');
      if (E.isLeft(d)) return refuseUsage(args, d.left);
      sinceMs = d.right;
    }
    return runCommand(args, { pipelines: false }, async (session) => {
      const { out } = session;
      const client = await readingSession(session);
      const s = await recoveryStats({ client, sinceMs });
      if (E.isLeft(s)) return s;
      if (out.json) {
        out.document(s.right);
        return E.right(ExitCode.ok);
      }
      const v = s.right;
      out.line(`Recovery Metrics${args.since ? ` (last ${args.since})` : ''}`);
      out.line();
      out.line(`  Interrupted runs now: ${v.interruptedNow}`);
      out.line(`  Runs detected as interrupted (total): ${v.interruptedTotal}`);
      out.line(`  Runs recovered: ${v.runsRecovered} (${v.recoveries} recoveries)`);
      out.line(`  Recovery success rate: ${pct(v.successRate)}`);
      out.line(`  Steps executed per recovery: ${num(v.stepsExecutedPerRecovery)}`);
      // Only where map steps were resumed: the spec's lines stay as they are otherwise.
      if ((v.itemsExecutedPerRecovery ?? 0) > 0)
        out.line(`  Map items executed per recovery: ${num(v.itemsExecutedPerRecovery)}`);
      out.line(`  Steps re-executed per recovery (in flight when interrupted): ${num(v.stepsReExecutedPerRecovery)}`);
      out.line(`  Average recovery time: ${num(v.averageRecoveryMs, ' ms')}`);
      out.line(`  Average downtime before recovery: ${num(v.averageDowntimeMs, ' ms')}`);
      return E.right(ExitCode.ok);
    });
  },
};
