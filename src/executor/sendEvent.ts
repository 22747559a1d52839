import * as E from 'fp-ts/Either';
import { OrbitErrors, type SendEventFailure } from '../errors';
import { toJsonValue } from '../events/json';
import { describeDecodeError } from '../events/decodeErrors';
import { isFinishedStatus, type RunState } from '../fold/runState';
import { appendToRun } from '../journal/appendEvents';
import { loadRunState } from '../journal/loadRunState';
import { listRunsByKey } from '../queries/listRunsByKey';
import type { OrbitClient } from '../runtime/orbitClient';

/**
 * Whom an event is for: a run id, or a correlation key, a JSON object that the metadata of exactly
 * one unfinished run contains (`{ orderId: 'o-42' }`), optionally of one pipeline.
 */
export type EventTarget = string | { readonly key: Readonly<Record<string, unknown>>; readonly pipeline?: string };

export interface SendEventOptions {
  /** Who sends it, journaled beside the sending process (`by`): a person, a system. */
  readonly sender?: string;
}

export interface SentEvent {
  readonly runId: string;
  readonly event: string;
  /** The seq of its `event.received` in the run's journal. */
  readonly seq: number;
  /** When it was journaled (database clock). */
  readonly sentAt: string;
  /**
   * `taken`: a step was waiting for it and takes it now (its run is resumed at once). `kept`: no
   * step waits for it yet; the first wait step for it will take it.
   */
  readonly delivery: 'taken' | 'kept';
  /** The step that takes it (`taken`). */
  readonly step: string | null;
  /**
   * This process does not have the run's pipeline (definition), so the data was not checked
   * against the wait step's `output` codec: the step checks it when it takes it, and turns the
   * event away (`event.rejected`) if it does not decode.
   */
  readonly unchecked: boolean;
}

const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** Why this event would be a duplicate, or null: every step waiting for it already has one. */
const duplicateOf = (client: OrbitClient, s: RunState, event: string): string | null => {
  const p = client.registry.getPipeline(s.pipelineId);
  if (E.isRight(p) && p.right.definitionHash === s.definitionHash) {
    const takers = p.right.steps.filter((st) => st.waitForEvent?.event === event);
    const waits = takers.map((st) => st.name);
    // A kept event no waiting step's codec decodes will be turned away: it holds no step's place.
    const fits = (data: unknown) => takers.some((st) => st.output === undefined || E.isRight(st.output.decode(data)));
    const kept = (s.inbox ?? []).filter((x) => x.event === event && fits(x.data)).length;
    if (waits.length === 0) return `no step of pipeline ${s.pipelineId} waits for it`;
    const taken = waits.filter((n) => s.steps.find((st) => st.name === n)?.status === 'success');
    if (taken.length + kept < waits.length) return null;
    return taken.length > 0
      ? `step ${taken.map((n) => JSON.stringify(n)).join(', ')} already received it; this one is a duplicate`
      : `an earlier ${JSON.stringify(event)} is already kept for step ${waits.map((n) => JSON.stringify(n)).join(', ')}; this one is a duplicate`;
  }
  // The pipeline is not registered here: judge by the journal (a step that took it, none waiting for it).
  const kept = (s.inbox ?? []).filter((x) => x.event === event).length;
  const took = s.steps.filter((st) => st.waitingFor === event && st.status === 'success').map((st) => st.name);
  const waiting = s.steps.some((st) => st.waitingFor === event && st.status === 'waiting');
  return took.length > 0 && !waiting && kept === 0
    ? `step ${took.map((n) => JSON.stringify(n)).join(', ')} already received it; this one is a duplicate`
    : null;
};

/** Whether this process has the run's pipeline, as the run was created (its codecs can check data here). */
const hasDefinition = (client: OrbitClient, s: RunState): boolean => {
  const p = client.registry.getPipeline(s.pipelineId);
  return E.isRight(p) && p.right.definitionHash === s.definitionHash;
};

/**
 * Why this event's data cannot be the result of the step that takes it, or null: the first step
 * waiting for it that has not taken one has an `output` codec that does not decode it. Known only
 * where the pipeline is registered (elsewhere the step turns the event away when it takes it).
 */
const dataProblemOf = (client: OrbitClient, s: RunState, event: string, data: unknown): string | null => {
  const p = client.registry.getPipeline(s.pipelineId);
  if (E.isLeft(p) || !hasDefinition(client, s)) return null;
  const taker = p.right.steps.find(
    (st) => st.waitForEvent?.event === event && s.steps.find((x) => x.name === st.name)?.status !== 'success',
  );
  if (taker?.output === undefined) return null;
  const d = taker.output.decode(data);
  return E.isLeft(d) ? `it does not match step "${taker.name}"'s codec: ${describeDecodeError(d.left)}` : null;
};

const resolveTarget = async (client: OrbitClient, target: EventTarget, event: string) => {
  if (typeof target === 'string') return E.right<SendEventFailure, string>(target);
  const found = await listRunsByKey(client.db, target.key, target.pipeline ?? null, 2);
  if (E.isLeft(found)) return found;
  const key = JSON.stringify(target.key);
  const of = target.pipeline !== undefined ? ` of pipeline ${target.pipeline}` : '';
  if (found.right.length === 0)
    return E.left(OrbitErrors.eventNotDelivered(null, event, `no unfinished run${of} has metadata containing ${key}`));
  if (found.right.length > 1)
    return E.left(
      OrbitErrors.eventNotDelivered(
        null,
        event,
        `several unfinished runs${of} have metadata containing ${key} (${found.right.join(', ')}…); send to a run id`,
      ),
    );
  return E.right<SendEventFailure, string>(found.right[0] as string);
};

/**
 * Sends `event` with `data` to a run: journaled as `event.received` (who, when, what; hash-chained
 * and verifiable like every event). A step waiting for it takes it and its run is resumed at once;
 * sent before the run reaches that step, it is kept until then. Refused with one clear reason: an
 * unknown or finished run, an event no step waits for, a duplicate for a step that already has one.
 */
export const sendEvent = async (
  client: OrbitClient,
  target: EventTarget,
  event: string,
  data: unknown = null,
  options: SendEventOptions = {},
): Promise<E.Either<SendEventFailure, SentEvent>> => {
  if (typeof event !== 'string' || !EVENT_NAME.test(event))
    return E.left(
      OrbitErrors.invalidInput('event', `${JSON.stringify(event)} is not an event name (1-128 letters, digits, . _ : / -)`),
    );
  const json = toJsonValue(data);
  if (!json.ok) return E.left(OrbitErrors.invalidInput('data', `the event's data cannot be journaled as JSON: ${json.reason}`));
  const runId = await resolveTarget(client, target, event);
  if (E.isLeft(runId)) return runId;
  for (let attempt = 0; attempt < 8; attempt++) {
    const state = await loadRunState(client.db, runId.right);
    if (E.isLeft(state)) return state;
    const s = state.right;
    if (isFinishedStatus(s.status))
      return E.left(OrbitErrors.eventNotDelivered(s.runId, event, `the run already ended (${s.status})`));
    const dup = duplicateOf(client, s, event);
    if (dup !== null) return E.left(OrbitErrors.eventNotDelivered(s.runId, event, dup));
    const bad = dataProblemOf(client, s, event, json.value ?? null);
    if (bad !== null) return E.left(OrbitErrors.invalidInput('data', `the ${JSON.stringify(event)} event's data: ${bad}`));
    const r = await appendToRun(client.db, {
      runId: s.runId,
      expectedSeq: s.lastSeq,
      state: s,
      writer: client.workerId,
      events: [
        {
          type: 'event.received',
          payload: {
            event,
            data: json.value ?? null,
            by: client.workerId,
            ...(options.sender !== undefined ? { sender: options.sender } : {}),
          },
        },
      ],
    });
    if (E.isRight(r)) {
      const waiting = s.steps.find((st) => st.status === 'waiting' && st.waitingFor === event);
      return E.right({
        runId: s.runId,
        event,
        seq: r.right.lastSeq,
        sentAt: r.right.committedAt,
        delivery: waiting !== undefined ? 'taken' : 'kept',
        step: waiting?.name ?? null,
        unchecked: !hasDefinition(client, s),
      });
    }
    if (r.left._tag !== 'ConcurrencyConflict') return r;
  }
  return E.left(OrbitErrors.concurrencyConflict(runId.right, -1, null));
};
