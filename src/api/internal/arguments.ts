/** Parsers of argument values the library defines: run ids, replay points, database URLs, schema names. */
export { parseRunId } from '../../executor/runId';
export { parseReplayPoint } from '../../audit/replayRun';
export { validateDatabaseUrl } from '../../server/resolveDatabase';
export { validateSchemaName } from '../../db/identifiers';
