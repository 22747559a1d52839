/**
 * After an asynchronous failover the new primary may lack a run's last transitions, up to its end:
 * a run this process finished (or released) is `running` there again, naming this process its
 * owner, and nobody executes it. Its worker has nothing left to append, so no refused append tells
 * it (src/executor/runJournal.ts handles the runs it still executes); the run waited out its
 * owner's lease and the threshold (10 minutes by default). A worker calls this when its LISTEN
 * connection comes back (a failover always breaks it): every running run that names this process
 * its owner but is not executing here is handed back at the journal's seq (`run.released`), and its
 * NOTIFY has it resumed at once. A restart that lost nothing finds none: one indexed query.
 */
import * as E from 'fp-ts/Either';
import { decideNext } from '../decide/decideNext';
import type { DbFailure } from '../errors';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import { listOwnedRunningRuns } from '../queries/listOwnedRunningRuns';
import type { OrbitClient } from '../runtime/orbitClient';
import { executionEnvFor } from './executionEnv';

/** Hands back the runs the journal says this process owns and that it does not execute; returns their ids. */
export const handBackLostRuns = async (client: OrbitClient): Promise<E.Either<DbFailure, string[]>> => {
  const owned = await listOwnedRunningRuns(client.db, client.workerId);
  if (E.isLeft(owned)) return owned;
  const env = executionEnvFor(client);
  const handedBack: string[] = [];
  for (const runId of owned.right) {
    // Executing here (a worker slot, runPipeline on the same client): its own appends will tell.
    // Given up during an outage: its own release ("cannot reach the database") is on its way.
    if (env.holds(runId) || env.stranded.has(runId)) continue;
    const state = await loadRunState(client.db, runId);
    if (E.isLeft(state) || state.right.status !== 'running' || state.right.owner !== client.workerId) continue;
    const pipeline = client.registry.getPipeline(state.right.pipelineId);
    if (E.isLeft(pipeline)) continue;
    const decision = decideNext(state.right, pipeline.right, {
      kind: 'tick',
      now: new Date(env.clock.nowMs()).toISOString(),
      worker: client.workerId,
      stopping: true,
      stopReason: `the journal lost transitions this worker had committed (it no longer executes the run; a failover?); released to be resumed`,
    });
    if (E.isLeft(decision) || decision.right.next.kind !== 'released' || decision.right.events.length === 0) continue;
    // At the seq read: a writer in between (a takeover, our own stranded-run release) wins.
    const r = await appendToRun(client.db, {
      runId,
      expectedSeq: state.right.lastSeq,
      state: state.right,
      events: decision.right.events,
      writer: client.workerId,
    });
    if (E.isRight(r)) handedBack.push(runId);
  }
  if (handedBack.length > 0)
    client.logger.warn(`handed back ${handedBack.length} run(s) whose end a failover lost: ${handedBack.join(', ')}`);
  return E.right(handedBack);
};
