import * as E from 'fp-ts/Either';
import type { CommandModule } from 'yargs';
import { ExitCode } from '../exitCodes';
import { runCommand, type GlobalArgs } from '../session';
import { formatDuration } from '../../api/internal/durations';
import { listWorkers } from '../../api/internal/liveness';

/** `orbit workers`: the lease table, as the liveness rule sees it (database clock). */
export const workersCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'workers',
  describe: 'List processes holding leases (live) or whose lease expired: host, pid, lease, runs held',
  handler: (args) =>
    runCommand(args, { pipelines: false }, async ({ client, out }) => {
      const rows = await listWorkers(client);
      if (E.isLeft(rows)) return rows;
      const workers = rows.right.map((r) => ({
        id: r.id,
        host: r.host,
        pid: r.pid,
        startedAt: r.started_at.toISOString(),
        lastRenewalAt: r.heartbeat_at.toISOString(),
        leaseUntil: r.lease_until.toISOString(),
        live: r.live,
        runs: r.held,
      }));
      if (out.json) {
        out.document({ workers });
        return E.right(ExitCode.ok);
      }
      const live = rows.right.filter((r) => r.live).length;
      out.line(`Workers: ${live} live, ${rows.right.length - live} with an expired lease`);
      out.line();
      for (const r of rows.right) {
        const ms = Math.round(Math.abs(r.lease_ms));
        out.line(`${r.id}`);
        out.line(`  Host: ${r.host}, pid ${r.pid}, started ${r.started_at.toISOString()}`);
        out.line(
          `  Lease: ${r.live ? `valid for ${formatDuration(Math.max(1, ms))}` : `expired ${formatDuration(Math.max(1, ms))} ago`} (until ${r.lease_until.toISOString()})`,
        );
        out.line(`  Runs held: ${r.held.length === 0 ? '(none)' : r.held.join(', ')}`);
        out.line();
      }
      return E.right(ExitCode.ok);
    }),
};
