import * as E from 'fp-ts/Either';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { runCommand, type GlobalArgs } from '../session';
import { listStrandedRuns } from '../../api/listStrandedRuns';
import { listWorkers } from '../../api/listWorkers';
import { describeStranded } from '../../api/internal/worker';
import { formatDuration } from '../../api/internal/durations';

interface WorkersArgs extends GlobalArgs {
  readonly live: boolean;
}

const ago = (ms: number): string => formatDuration(Math.max(1, Math.round(ms)));

/** `orbit workers`: every worker (idle ones too) and every process holding a lease, as the liveness rule sees them (database clock). */
export const workersCommand: CommandModule<GlobalArgs, WorkersArgs> = {
  command: 'workers',
  describe:
    'List workers (idle or busy: what each can run, what it runs, its concurrency, until when its lease holds), other processes holding leases, and queued runs no live worker can execute',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('live', { type: 'boolean', default: false, describe: 'Only the live ones' })
      .example('$0 workers', 'Every worker and process, live or with an expired lease'),
  handler: (args) =>
    runCommand(args, { pipelines: false }, async ({ client, out }) => {
      const rows = await listWorkers({ client, liveOnly: args.live });
      if (E.isLeft(rows)) return rows;
      const stranded = await listStrandedRuns({ client });
      if (E.isLeft(stranded)) return stranded;
      const now = client.clock.now();
      if (out.json) {
        out.document({
          stranded: stranded.right,
          workers: rows.right.map((w) => ({
            id: w.id,
            kind: w.kind,
            host: w.host,
            pid: w.pid,
            startedAt: w.startedAt.toISOString(),
            lastHeartbeatAt: w.lastHeartbeatAt.toISOString(),
            aliveUntil: w.aliveUntil?.toISOString() ?? null,
            leaseUntil: w.leaseUntil?.toISOString() ?? null,
            live: w.live,
            processGone: w.processGone,
            concurrency: w.concurrency,
            pipelines: w.pipelines,
            runs: w.running,
          })),
        });
        return E.right(ExitCode.ok);
      }
      const live = rows.right.filter((w) => w.live);
      const idle = live.filter((w) => w.kind === 'worker' && w.running.length === 0).length;
      const dead = rows.right.filter((w) => w.processGone).length;
      out.line(
        `Workers: ${live.length} live (${idle} idle), ${rows.right.length - live.length - dead} with an expired lease${dead > 0 ? `, ${dead} whose process is gone` : ''}`,
      );
      for (const st of stranded.right) out.failure(describeStranded(st));
      out.line();
      for (const w of rows.right) {
        out.line(`${w.id}${w.kind === 'process' ? ' (not a worker: a process executing runs)' : ''}`);
        out.line(`  Host: ${w.host}, pid ${w.pid}, started ${w.startedAt.toISOString()}`);
        const until = w.aliveUntil;
        if (until !== null) {
          const ms = until.getTime() - now;
          out.line(
            `  ${w.live ? `Alive: lease valid for ${ago(ms)}` : w.processGone ? `Dead: its process is gone (its ${w.leaseUntil !== null ? 'lease' : 'registration'} would hold for ${ago(ms)})` : `Expired ${ago(-ms)} ago`} (until ${until.toISOString()}; last heartbeat ${w.lastHeartbeatAt.toISOString()})`,
          );
        }
        if (w.kind === 'worker') {
          out.line(`  Concurrency: ${w.concurrency ?? '?'}, running ${w.running.length}`);
          out.line(
            `  Pipelines: ${w.pipelines.length === 0 ? '(none)' : w.pipelines.map((p) => `${p.name}@${p.definitionHash.slice(0, 8)}`).join(', ')}`,
          );
        }
        out.line(`  Runs held: ${w.running.length === 0 ? '(none: idle)' : w.running.join(', ')}`);
        out.line();
      }
      return E.right(ExitCode.ok);
    }),
};
