import type * as E from 'fp-ts/Either';
import type { DbFailure } from '../../errors';
import { listWorkers as list, type WorkerRow } from '../../queries/listWorkers';
import { readDatabaseNow } from '../../queries/readDatabaseNow';
import { runLiveness as liveness, type Liveness } from '../../recovery/liveness';
import type { OrbitClient } from '../../runtime/orbitClient';

/** Who holds what: `check-interrupted`'s explanations, `orbit workers`, `resume --force`'s warning. */
export {
  recentFailedRuns,
  summarizeUnfinished,
  type FailedRun,
  type RecentFailedRuns,
  type UnfinishedSummary,
} from '../../recovery/detectInterruptedRuns';

/** The liveness rule for one run (database clock, the client's threshold): who holds it, and whether it is interrupted. */
export const runLiveness = (client: OrbitClient, runId: string): Promise<E.Either<DbFailure, Liveness>> =>
  liveness(client.db, runId, client.thresholdMs);

/** Every lease row, judged on the database clock (`orbit workers`). */
export const listWorkers = (client: OrbitClient): Promise<E.Either<DbFailure, WorkerRow[]>> => list(client.db);

/** The database clock's now: how long a run has been going or waiting, measured as the journal's times are. */
export const databaseNow = (client: OrbitClient): Promise<E.Either<DbFailure, Date>> => readDatabaseNow(client.db);
