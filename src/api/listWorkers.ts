import * as E from 'fp-ts/Either';
import type { ConnectFailure } from '../errors';
import { provablyGone } from '../lease/processIdentity';
import { listWorkerRegistry } from '../queries/listWorkerRegistry';
import { clientOr } from '../runtime/orbitClient';
import type { ListWorkersOptions, WorkerInfo } from '../worker/workerInfo';
import type { ClientOption } from './clientOption';

export type { ListWorkersOptions, WorkerInfo } from '../worker/workerInfo';

/**
 * Every worker, idle ones included, and every other process holding a lease: what each can run,
 * what it runs now, its concurrency and until when it is alive (database clock). What `orbit workers` shows.
 */
export const listWorkers = async (
  opts: ListWorkersOptions & ClientOption = {},
): Promise<E.Either<ConnectFailure, WorkerInfo[]>> => {
  const c = await clientOr(opts.client);
  if (E.isLeft(c)) return c;
  const rows = await listWorkerRegistry(c.right.db);
  if (E.isLeft(rows)) return rows;
  const gone = (r: { host: string; pid: number; identity: string | null }): boolean =>
    r.identity !== null && provablyGone(r.host, r.pid, r.identity);
  return E.right(
    rows.right
      .map((r) => ({ ...r, processGone: gone(r), live: r.live && !gone(r) }))
      .filter((r) => opts.liveOnly !== true || r.live)
      .map((r): WorkerInfo => ({
        id: r.id,
        kind: r.kind,
        host: r.host,
        pid: r.pid,
        startedAt: r.started_at,
        lastHeartbeatAt: r.heartbeat_at,
        live: r.live,
        processGone: r.processGone,
        aliveUntil:
          r.alive_until !== null && r.lease_until !== null
            ? new Date(Math.max(r.alive_until.getTime(), r.lease_until.getTime()))
            : (r.alive_until ?? r.lease_until),
        leaseUntil: r.lease_until,
        concurrency: r.concurrency,
        pipelines: Object.entries(r.pipelines ?? {})
          .map(([name, definitionHash]) => ({ name, definitionHash }))
          .sort((a, b) => a.name.localeCompare(b.name)),
        running: r.held,
      })),
  );
};
