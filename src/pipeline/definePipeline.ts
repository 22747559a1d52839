import { createHash } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { MAX_DURATION_MS, parseDuration } from '../util/duration';
import { MAX_RETRY_DELAY_MS } from '../events/runEvents';
import { checkSchedule, type CatchUp } from './cronSchedule';
import type { JsonObject, Pipeline, PipelineConfig, RetryPolicy, StepDefinition } from './types';

/** What is wrong with a pipeline's dependencies, for callers that want more than the message. */
export type DependencyProblem =
  /** `step` depends on `dependency`, which is not a step of the pipeline (or is the step itself). */
  | { readonly kind: 'unknownDependency'; readonly step: string; readonly dependency: string }
  /** These steps depend on each other in a circle (`steps[0]` depends on the last, in the order listed). */
  | { readonly kind: 'cycle'; readonly steps: readonly string[] };

/** Thrown by `definePipeline` for definitions that can never run: a programmer error. */
export class PipelineDefinitionError extends Error {
  constructor(
    readonly pipelineId: string,
    message: string,
    /** Set when the dependencies (`dependsOn`) are what is wrong. */
    readonly dependencyProblem?: DependencyProblem,
  ) {
    super(`Invalid pipeline definition "${pipelineId}": ${message}`);
    this.name = 'PipelineDefinitionError';
  }
}

/** Steps of one run that run at the same time when the pipeline does not say (`maxParallel`). */
export const DEFAULT_MAX_PARALLEL = 8;

/** Items of one map step that run at the same time when the step does not say (`map.concurrency`). */
export const DEFAULT_MAP_CONCURRENCY = 8;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * The hash drift detection compares: the pipeline's name and its step names, in order, and the
 * steps' dependencies when they are not the default (so a linear pipeline's hash is unchanged).
 */
export const definitionHashOf = (
  name: string,
  stepNames: readonly string[],
  dependencies: Readonly<Record<string, readonly string[]>> | null = null,
  /** Map steps: what each maps over (a step name, or `()` for a function); null when there are none. */
  maps: Readonly<Record<string, string>> | null = null,
  /** Steps that are not handlers (sleep, sleepUntil, a wait and its event); null when there are none. */
  kinds: Readonly<Record<string, string>> | null = null,
): string => {
  const parts: unknown[] = dependencies === null ? [name, stepNames] : [name, stepNames, stepNames.map((n) => dependencies[n])];
  if (maps !== null) parts.push(['map', stepNames.map((n) => maps[n] ?? null)]);
  if (kinds !== null) parts.push(['kind', stepNames.map((n) => kinds[n] ?? null)]);
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
};

/** What each map step maps over, for the definition hash; null when no step is a map step. */
const mapsOf = <M>(steps: readonly StepDefinition<M>[]): Record<string, string> | null => {
  const maps = steps.flatMap((s) =>
    s.map === undefined ? [] : [[s.name, typeof s.map.over === 'string' ? s.map.over : '()'] as const],
  );
  return maps.length === 0 ? null : Object.fromEntries(maps);
};

/**
 * What each step that is not a handler is, for the definition hash (a handler turned into a sleep,
 * or a wait for another event, is a changed pipeline); null when every step is a handler, so the
 * hash of such a pipeline is what it was before sleep and wait steps existed.
 */
const kindsOf = <M>(steps: readonly StepDefinition<M>[]): Record<string, string> | null => {
  const kindOf = (s: StepDefinition<M>): string | null => {
    if (s.sleep !== undefined) return 'sleep';
    if (s.sleepUntil !== undefined) return 'sleepUntil';
    if (s.waitForEvent !== undefined) return `wait:${String(s.waitForEvent.event)}`;
    return null;
  };
  const kinds = steps.flatMap((s): [string, string][] => {
    const kind = kindOf(s);
    return kind === null ? [] : [[s.name, kind]];
  });
  return kinds.length === 0 ? null : Object.fromEntries(kinds);
};

/** A map step's options: a list source it can read, a usable concurrency. */
const checkMap = <M>(pipeline: string, step: StepDefinition<M>, deps: readonly string[]): void => {
  const map: unknown = step.map;
  if (map === undefined) return;
  const fail = (msg: string): never => {
    throw new PipelineDefinitionError(pipeline, `step ${step.name}: map.${msg}`);
  };
  if (typeof map !== 'object' || map === null) fail('must be an object { over, concurrency? }');
  const { over, concurrency } = map as { over?: unknown; concurrency?: unknown };
  if (typeof over === 'string') {
    if (!deps.includes(over)) fail(`over names "${over}", which is not a step this one depends on`);
  } else if (typeof over !== 'function')
    fail('over must be the name of a step this one depends on, or a function returning the list');
  if (concurrency !== undefined && !(typeof concurrency === 'number' && Number.isInteger(concurrency) && concurrency >= 1))
    fail('concurrency must be an integer >= 1');
};

/**
 * Every step's dependencies by name, or null when each depends on the one before it. Refuses a
 * dependency that is not a step and dependencies that go round in a circle, naming them.
 */
const dependenciesOf = <M>(
  pipeline: string,
  steps: readonly StepDefinition<M>[],
): Readonly<Record<string, readonly string[]>> | null => {
  const names = new Set(steps.map((s) => s.name));
  const deps: Record<string, readonly string[]> = {};
  let linear = true;
  steps.forEach((step, i) => {
    const previous = i > 0 ? [(steps[i - 1] as StepDefinition<M>).name] : [];
    const given: unknown = step.dependsOn;
    if (given === undefined) {
      deps[step.name] = previous;
      return;
    }
    if (!Array.isArray(given) || !given.every((d): d is string => typeof d === 'string')) {
      throw new PipelineDefinitionError(pipeline, `step ${step.name}: dependsOn must be an array of step names`);
    }
    for (const d of given) {
      if (!names.has(d) || d === step.name) {
        const why = d === step.name ? 'itself' : `"${d}", which is not a step of the pipeline`;
        throw new PipelineDefinitionError(pipeline, `step ${step.name} depends on ${why}`, {
          kind: 'unknownDependency',
          step: step.name,
          dependency: d,
        });
      }
    }
    const unique = [...new Set(given)];
    deps[step.name] = unique;
    if (!(unique.length === previous.length && unique.every((d, k) => d === previous[k]))) linear = false;
  });
  const cycle = findCycle(
    steps.map((s) => s.name),
    deps,
  );
  if (cycle !== null) {
    throw new PipelineDefinitionError(pipeline, `steps depend on each other in a circle: ${[...cycle, cycle[0]].join(' → ')}`, {
      kind: 'cycle',
      steps: cycle,
    });
  }
  return linear ? null : deps;
};

/** A circle of dependencies (each step depending on the next one listed, the last on the first), or null. */
export const findCycle = (names: readonly string[], deps: Readonly<Record<string, readonly string[]>>): string[] | null => {
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of names) {
    if (state.has(root)) continue;
    // Iterative depth-first search: a long chain of steps must not overflow the stack.
    const path: string[] = [];
    const stack: { name: string; next: number }[] = [{ name: root, next: 0 }];
    state.set(root, 'visiting');
    path.push(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { name: string; next: number };
      const ds = deps[top.name] ?? [];
      if (top.next < ds.length) {
        const d = ds[top.next++] as string;
        const s = state.get(d);
        if (s === 'visiting') return path.slice(path.indexOf(d));
        if (s === undefined) {
          state.set(d, 'visiting');
          path.push(d);
          stack.push({ name: d, next: 0 });
        }
      } else {
        state.set(top.name, 'done');
        path.pop();
        stack.pop();
      }
    }
  }
  return null;
};

const EVENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** A step does one thing: a handler, a sleep (`sleep`, `sleepUntil`) or a wait for an event. */
const checkKind = <M>(pipeline: string, step: StepDefinition<M>): void => {
  const fail = (msg: string): never => {
    throw new PipelineDefinitionError(pipeline, `step ${step.name}: ${msg}`);
  };
  const given = (['handler', 'sleep', 'sleepUntil', 'waitForEvent'] as const).filter((k) => step[k] !== undefined);
  if (given.length === 0) throw new PipelineDefinitionError(pipeline, `step ${step.name} has no handler`);
  if (given.length > 1) fail(`give one of handler, sleep, sleepUntil and waitForEvent, not ${given.join(' and ')}`);
  if (step.handler !== undefined && typeof step.handler !== 'function')
    throw new PipelineDefinitionError(pipeline, `step ${step.name} has no handler`);
  if (step.sleepUntil !== undefined && typeof step.sleepUntil !== 'function')
    fail('sleepUntil must be a function of the context');
  if (given[0] !== 'handler' && step.map !== undefined) fail(`a ${given[0]} step cannot be a map step`);
  if (step.sleep !== undefined) {
    const ms = durationMs(step.sleep);
    if (typeof ms === 'string') fail(`sleep: ${ms}`);
  }
  const w: unknown = step.waitForEvent;
  if (w !== undefined) {
    if (typeof w !== 'object' || w === null) return fail('waitForEvent must be an object { event, timeout?, onTimeout? }');
    const { event, timeout, onTimeout } = w as { event?: unknown; timeout?: unknown; onTimeout?: unknown };
    if (typeof event !== 'string' || !EVENT_NAME.test(event))
      fail('waitForEvent.event must be 1-128 characters of letters, digits, . _ : / -');
    if (timeout !== undefined) {
      const ms = typeof timeout === 'string' || typeof timeout === 'number' ? durationMs(timeout) : 'not a duration';
      if (typeof ms === 'string') fail(`waitForEvent.timeout: ${ms}`);
    }
    if (
      onTimeout !== undefined &&
      onTimeout !== 'fail' &&
      !(typeof onTimeout === 'object' && onTimeout !== null && 'continueWith' in onTimeout)
    )
      fail("waitForEvent.onTimeout must be 'fail' or { continueWith: data }");
    // The data a timeout continues with is read back through the step's codec, as an event's data is.
    if (step.output !== undefined && typeof onTimeout === 'object' && onTimeout !== null) {
      const d = step.output.decode((onTimeout as { continueWith?: unknown }).continueWith);
      if (E.isLeft(d)) fail(`waitForEvent.onTimeout.continueWith does not match the step's output codec ${step.output.name}`);
    }
  }
};

/** A step's duration (`2h`, or milliseconds) in milliseconds, or what is wrong with it. */
export const durationMs = (d: string | number): number | string => {
  if (typeof d === 'number')
    return Number.isFinite(d) && d >= 0 && d <= MAX_DURATION_MS ? d : `${d} is not 0 to ${MAX_DURATION_MS} ms`;
  const p = parseDuration(d);
  return E.isRight(p) ? p.right : p.left.message;
};

const checkStep = <M>(pipeline: string, step: StepDefinition<M>): void => {
  if (!NAME.test(step.name)) {
    throw new PipelineDefinitionError(
      pipeline,
      `step name ${JSON.stringify(step.name)} must be 1-128 characters of letters, digits, . _ : -`,
    );
  }
  checkKind(pipeline, step);
  if (step.timeoutMs !== undefined && !(Number.isFinite(step.timeoutMs) && step.timeoutMs > 0)) {
    throw new PipelineDefinitionError(pipeline, `step ${step.name}: timeoutMs must be a positive number`);
  }
  checkRetry(pipeline, `step ${step.name}: `, step.retry);
};

/** Retry policies that could never work are refused up front, not discovered at the first failure. */
const checkRetry = (pipeline: string, where: string, retry: Partial<RetryPolicy> | undefined): void => {
  if (retry === undefined) return;
  const fail = (msg: string) => {
    throw new PipelineDefinitionError(pipeline, `${where}retry.${msg}`);
  };
  const { maxAttempts, initialDelayMs, backoffFactor, maxDelayMs, jitter } = retry;
  if (maxAttempts !== undefined && !(Number.isInteger(maxAttempts) && maxAttempts >= 1))
    fail('maxAttempts must be an integer >= 1');
  for (const [name, v] of [
    ['initialDelayMs', initialDelayMs],
    ['maxDelayMs', maxDelayMs],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= MAX_RETRY_DELAY_MS))
      fail(`${name} must be between 0 and ${MAX_RETRY_DELAY_MS} ms (180 days)`);
  }
  if (backoffFactor !== undefined && !(Number.isFinite(backoffFactor) && backoffFactor >= 1))
    fail('backoffFactor must be a number >= 1');
  if (jitter !== undefined && !(Number.isFinite(jitter) && jitter >= 0 && jitter <= 1)) fail('jitter must be between 0 and 1');
};

/** A schedule the definition carries is code: a bad one is refused here, not at a worker's start. */
const checkPipelineSchedule = <M>(config: PipelineConfig<M>): void => {
  const schedule: unknown = config.schedule;
  if (schedule === undefined) return;
  const fail = (msg: string): never => {
    throw new PipelineDefinitionError(config.name, `schedule: ${msg}`);
  };
  if (typeof schedule !== 'object' || schedule === null)
    return fail('must be an object { cron, timezone?, catchUp?, metadata? }');
  const { cron, timezone, catchUp, metadata } = schedule as Record<string, unknown>;
  if (typeof cron !== 'string') return fail('cron must be a cron expression, e.g. "0 9 * * 1-5"');
  if (timezone !== undefined && typeof timezone !== 'string') return fail('timezone must be an IANA name, e.g. Europe/Paris');
  if (metadata !== undefined && (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)))
    return fail('metadata must be a JSON object');
  const checked = checkSchedule(config.name, cron, {
    ...(timezone === undefined ? {} : { timezone }),
    ...(catchUp === undefined ? {} : { catchUp: catchUp as CatchUp }),
  });
  if (E.isLeft(checked)) return fail(checked.left.message);
  if (config.metadata !== undefined && E.isLeft(config.metadata.decode(metadata ?? {})))
    fail(`metadata does not match the pipeline's metadata codec ${config.metadata.name}`);
};

/**
 * Declares a pipeline. Refuses, at definition time, what could never run: no steps, duplicate or
 * malformed step names, missing handlers, nonsensical timeouts or retry counts, a dependency
 * that is not a step, dependencies in a circle.
 */
export const definePipeline = <M = JsonObject>(config: PipelineConfig<M>): Pipeline<M> => {
  if (typeof config.name !== 'string' || !NAME.test(config.name)) {
    throw new PipelineDefinitionError(String(config.name), 'name must be 1-128 characters of letters, digits, . _ : -');
  }
  // JavaScript callers can pass anything; check the shape without trusting the static type.
  const steps: readonly StepDefinition<M>[] | undefined = config.steps;
  if (steps === undefined || steps === null || typeof steps.length !== 'number' || steps.length === 0) {
    throw new PipelineDefinitionError(config.name, 'a pipeline needs at least one step');
  }
  checkRetry(config.name, '', config.retry);
  const seen = new Set<string>();
  for (const step of steps) {
    checkStep(config.name, step);
    if (seen.has(step.name)) throw new PipelineDefinitionError(config.name, `duplicate step name "${step.name}"`);
    seen.add(step.name);
  }
  const maxParallel: unknown = config.maxParallel;
  if (maxParallel !== undefined && !(typeof maxParallel === 'number' && Number.isInteger(maxParallel) && maxParallel >= 1)) {
    throw new PipelineDefinitionError(config.name, 'maxParallel must be an integer >= 1');
  }
  const concurrency: unknown = config.concurrency;
  if (concurrency !== undefined && !(typeof concurrency === 'number' && Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new PipelineDefinitionError(config.name, 'concurrency must be an integer >= 1 (runs of this pipeline at once)');
  }
  checkPipelineSchedule(config);
  const stepNames = steps.map((s) => s.name);
  const dependencies = dependenciesOf(config.name, steps);
  steps.forEach((step, i) =>
    checkMap(config.name, step, dependencies?.[step.name] ?? (i > 0 ? [(steps[i - 1] as StepDefinition<M>).name] : [])),
  );
  return Object.freeze({
    ...config,
    kind: 'orbit.pipeline' as const,
    stepNames,
    dependencies,
    definitionHash: definitionHashOf(config.name, stepNames, dependencies, mapsOf(steps), kindsOf(steps)),
  });
};

export const isPipeline = (u: unknown): u is Pipeline =>
  typeof u === 'object' && u !== null && (u as { kind?: unknown }).kind === 'orbit.pipeline';
