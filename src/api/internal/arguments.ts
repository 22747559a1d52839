/** Parsers of argument values the library defines: run ids, replay points, database URLs. */
export { parseRunId } from '../../executor/runId';
export { parseReplayPoint } from '../../audit/replayRun';
export { validateDatabaseUrl } from '../../server/resolveDatabase';
