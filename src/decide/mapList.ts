import * as E from 'fp-ts/Either';
import type { JsonValue } from '../events/json';
import { toJsonValue } from '../events/json';
import { graphOf } from '../fold/runGraph';
import type { RunState, StepState } from '../fold/runState';
import { decodeMetadata, prevResultsOf } from '../context/prevResults';
import type { Pipeline, StepDefinition } from '../pipeline/types';

/**
 * Lists computed by a map step's `over` function, per run (its metadata object, shared by every
 * state folded from one `run.created`) and step: the executor asks for item `i` at every item.
 */
const computed = new WeakMap<object, Map<string, readonly JsonValue[]>>();

/**
 * The list a map step runs over: its source step's data (which must be a list), or what its
 * `over` function returns for the run's metadata and the results the step depends on. Left: why
 * there is no list (the message of the step's failure).
 */
export const mapListOf = (
  state: RunState,
  pipeline: Pipeline,
  def: StepDefinition<unknown>,
): E.Either<string, readonly JsonValue[]> => {
  const map = def.map;
  if (map === undefined) return E.left(`step "${def.name}" is not a map step`);
  const over = map.over;
  if (typeof over === 'string') {
    const i = graphOf(state).index.get(over);
    const source = i === undefined ? undefined : (state.steps[i] as StepState);
    if (source === undefined || source.status !== 'success') return E.left(`map over "${over}": that step has not succeeded`);
    const list = source.result;
    return Array.isArray(list) ? E.right(list) : E.left(`map over "${over}": its data is not a list`);
  }
  const key = typeof state.metadata === 'object' && state.metadata !== null ? state.metadata : null;
  const hit = key === null ? undefined : computed.get(key)?.get(def.name);
  if (hit !== undefined) return E.right(hit);
  const metadata = decodeMetadata(pipeline, state.metadata);
  if (E.isLeft(metadata)) return E.left(`map list: the run's metadata does not decode`);
  const prev = prevResultsOf(state, pipeline, def.name);
  if (E.isLeft(prev)) return E.left(`map list: an earlier result does not decode`);
  let list: unknown;
  try {
    list = over({ runId: state.runId, pipelineId: state.pipelineId, metadata: metadata.right, prevResults: prev.right });
  } catch (err) {
    return E.left(`map list: over() threw: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Array.isArray(list)) return E.left('map list: over() did not return an array');
  const json = toJsonValue(list);
  if (!json.ok) return E.left(`map list: over() returned a list that is not JSON: ${json.reason}`);
  const value = json.value as JsonValue[];
  if (key !== null) {
    let m = computed.get(key);
    if (m === undefined) computed.set(key, (m = new Map<string, readonly JsonValue[]>()));
    m.set(def.name, value);
  }
  return E.right(value);
};
