import * as E from 'fp-ts/Either';
import {
  OrbitErrors,
  type ConnectFailure,
  type InvalidInput,
  type InvalidMetadata,
  type PipelineNotFound,
  type RunPipelineFailure,
} from '../errors';
import { toJsonValue } from '../events/json';
import type { RunEvent } from '../events/runEvents';
import type { Pipeline } from '../pipeline/types';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';
import { executeRun, type ExecuteOptions, type RunResult } from './executeRun';
import { newRunId, parseRunId } from './runId';
import { decodeMetadata } from './stepContext';

export interface RunPipelineOptions extends ExecuteOptions {
  /** Default: the shared client from the environment (`DATABASE_URL`, else embedded). */
  readonly client?: OrbitClient;
  /** Choose the run id (e.g. to make the trigger itself idempotent). Default: a new id. */
  readonly runId?: string;
  /** Who or what started the run (journaled). Default `api`. */
  readonly triggeredBy?: string;
}

/** The pipeline's dependencies as `run.created` journals them (a JSON object of arrays). */
const dependsOnPayload = (deps: Readonly<Record<string, readonly string[]>>): Record<string, string[]> =>
  Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, [...v]]));

/** Checks the metadata and returns the events that create and claim a run. */
export const creationEvents = (
  pipeline: Pipeline,
  metadata: unknown,
  triggeredBy: string,
  workerId: string,
): E.Either<InvalidMetadata, RunEvent[]> => {
  const decoded = decodeMetadata(pipeline, metadata);
  if (E.isLeft(decoded)) return decoded;
  const encoded = pipeline.metadata ? pipeline.metadata.encode(decoded.right) : decoded.right;
  // NULL would reach the NOT NULL column as a raw database error; undefined means "none given".
  if (encoded === null) return E.left(OrbitErrors.invalidMetadata(pipeline.name, 'metadata is null (pass {} for none)'));
  // Without a codec, metadata is a JsonObject (its type): an array or a scalar is refused, not journaled.
  if (pipeline.metadata === undefined && encoded !== undefined && (typeof encoded !== 'object' || Array.isArray(encoded)))
    return E.left(
      OrbitErrors.invalidMetadata(
        pipeline.name,
        `metadata is a JSON object, not ${Array.isArray(encoded) ? 'an array' : `a ${typeof encoded}`} (give the pipeline a metadata codec to take other values)`,
      ),
    );
  const json = toJsonValue(encoded ?? {});
  if (!json.ok) return E.left(OrbitErrors.invalidMetadata(pipeline.name, json.reason));
  return E.right([
    {
      type: 'run.created' as const,
      payload: {
        pipelineId: pipeline.name,
        steps: [...pipeline.stepNames],
        definitionHash: pipeline.definitionHash,
        metadata: json.value,
        triggeredBy,
        ...(pipeline.dependencies !== null ? { dependsOn: dependsOnPayload(pipeline.dependencies) } : {}),
      },
    },
    { type: 'run.claimed' as const, payload: { worker: workerId } },
  ]);
};

/** What starting a run needs, checked before anything is journaled: the client, the pipeline, the run id and its creation events. */
export const prepareRun = async (
  name: string,
  metadata: unknown,
  options: { readonly client?: OrbitClient; readonly runId?: string },
  triggeredBy: string,
): Promise<
  E.Either<
    ConnectFailure | PipelineNotFound | InvalidInput | InvalidMetadata,
    { client: OrbitClient; pipeline: Pipeline; runId: string; events: RunEvent[] }
  >
> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const client = c.right;
  const pipeline = client.registry.getPipeline(name);
  if (E.isLeft(pipeline)) return pipeline;
  const parsed = options.runId === undefined ? E.right(newRunId(client.clock)) : parseRunId(options.runId);
  if (E.isLeft(parsed)) return parsed;
  const events = creationEvents(pipeline.right, metadata, triggeredBy, client.workerId);
  if (E.isLeft(events)) return events;
  return E.right({ client, pipeline: pipeline.right, runId: parsed.right, events: events.right });
};

/**
 * Runs a registered pipeline from its first step to its end in this process. Invalid metadata is
 * refused before anything is journaled. The result says how the run ended; a run that this
 * process could not finish (it crashed, it was stopped) stays in the journal for recovery.
 */
export const runPipeline = async (
  name: string,
  metadata: unknown = {},
  options: RunPipelineOptions = {},
): Promise<E.Either<RunPipelineFailure, RunResult>> => {
  const prepared = await prepareRun(name, metadata, options, options.triggeredBy ?? 'api');
  if (E.isLeft(prepared)) return prepared;
  const { client, pipeline, runId, events } = prepared.right;
  return executeRun(
    client,
    pipeline,
    runId,
    {
      state: null,
      claim: { kind: 'claim', events },
      claimConflict: OrbitErrors.invalidInput('run id', `a run with id ${runId} already exists`),
    },
    options,
  );
};
