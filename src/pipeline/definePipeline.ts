import { createHash } from 'node:crypto';
import { MAX_RETRY_DELAY_MS } from '../events/runEvents';
import type { JsonObject, Pipeline, PipelineConfig, RetryPolicy, StepDefinition } from './types';

/** Thrown by `definePipeline` for definitions that can never run: a programmer error. */
export class PipelineDefinitionError extends Error {
  constructor(
    readonly pipelineId: string,
    message: string,
  ) {
    super(`Invalid pipeline definition "${pipelineId}": ${message}`);
    this.name = 'PipelineDefinitionError';
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The hash drift detection compares: the pipeline's name and its step names, in order. */
export const definitionHashOf = (name: string, stepNames: readonly string[]): string =>
  createHash('sha256')
    .update(JSON.stringify([name, stepNames]))
    .digest('hex');

const checkStep = <M>(pipeline: string, step: StepDefinition<M>): void => {
  if (!NAME.test(step.name)) {
    throw new PipelineDefinitionError(
      pipeline,
      `step name ${JSON.stringify(step.name)} must be 1-128 characters of letters, digits, . _ : -`,
    );
  }
  if (typeof step.handler !== 'function') throw new PipelineDefinitionError(pipeline, `step ${step.name} has no handler`);
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

/**
 * Declares a pipeline. Refuses, at definition time, what could never run: no steps, duplicate or
 * malformed step names, missing handlers, nonsensical timeouts or retry counts.
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
  const stepNames = steps.map((s) => s.name);
  return Object.freeze({
    ...config,
    kind: 'orbit.pipeline' as const,
    stepNames,
    definitionHash: definitionHashOf(config.name, stepNames),
  });
};

export const isPipeline = (u: unknown): u is Pipeline =>
  typeof u === 'object' && u !== null && (u as { kind?: unknown }).kind === 'orbit.pipeline';
