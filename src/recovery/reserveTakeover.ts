/**
 * A takeover from an owner that died is resumed in a child process (an isolated resume), and
 * every worker that detects it at the same deadline used to start one: all but one child then
 * lost the claim, after paying a process start each (R1, R3, and R10's 40-55 node processes on 2
 * cores). The takeover is now reserved before the spawn, as a queued run is before its claim
 * (reserveQueuedRuns): under the run's advisory lock, a worker that finds no other live lease
 * holding the run and its journal where it was detected adds the run to its own lease, and only
 * then spawns; the others see the lease and skip the run. The child claims the run at its seq as
 * before; the reservation ends with the child.
 */
import * as E from 'fp-ts/Either';
import { withTransaction } from '../db/database';
import { formatError, type DbFailure } from '../errors';
import { executionEnvFor } from '../executor/executionEnv';
import { lockTakeover, type TakeoverLock } from '../queries/lockTakeover';
import type { OrbitClient } from '../runtime/orbitClient';
import type { InterruptedRun } from './detectInterruptedRuns';
import { deadOwners } from './liveness';
import type { RecoveryOutcome } from './recoveryOutcome';

type Isolate = (run: InterruptedRun, reason: string) => Promise<RecoveryOutcome>;

const skipReason = (lock: Exclude<TakeoverLock, { kind: 'free' }>): string => {
  switch (lock.kind) {
    case 'busy':
      return 'being taken over by another worker';
    case 'held':
      return `being taken over by worker ${lock.holder}`;
    case 'moved':
      return 'taken over by another process since it was detected';
  }
};

/** Reserves the takeover, then runs `isolate` (the spawn); a run another worker reserved is skipped. */
export const reserveTakeover =
  (client: OrbitClient, isolate: Isolate): Isolate =>
  async (run, reason) => {
    const env = executionEnvFor(client);
    let leased = false;
    const dead = await deadOwners(client.db);
    const reserved = E.isLeft(dead)
      ? dead
      : await withTransaction(client.db, async (conn): Promise<E.Either<DbFailure, TakeoverLock>> => {
          const lock = await lockTakeover(client.db, conn, run.runId, run.lastSeq, client.workerId, dead.right);
          if (E.isLeft(lock) || lock.right.kind !== 'free') return lock;
          // In our lease before the lock is released: whoever gets the lock next sees it held.
          const acquired = await env.acquire(run.runId);
          leased = true;
          return E.isLeft(acquired) ? acquired : lock;
        });
    try {
      // A failed reservation is a failed recovery: retried after this run's backoff.
      if (E.isLeft(reserved)) {
        return {
          runId: run.runId,
          pipelineId: run.pipelineId,
          outcome: 'failed',
          error: reserved.left,
          message: formatError(reserved.left),
        };
      }
      const lock = reserved.right;
      if (lock.kind !== 'free')
        return { runId: run.runId, pipelineId: run.pipelineId, outcome: 'skipped', reason: skipReason(lock) };
      return await isolate(run, reason);
    } finally {
      if (leased) env.release(run.runId);
    }
  };
