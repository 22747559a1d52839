import type { Pipeline, StepDefinition } from './types';

/** Step definitions by name, once per pipeline: the executor and the decider look one up at every step. */
const byName = new WeakMap<Pipeline, ReadonlyMap<string, StepDefinition<unknown>>>();

/** The pipeline's definition of `stepName`, or undefined when it has none (drift). */
export const stepDefinition = (pipeline: Pipeline, stepName: string): StepDefinition<unknown> | undefined => {
  let m = byName.get(pipeline);
  if (m === undefined) {
    m = new Map(pipeline.steps.map((d) => [d.name, d]));
    byName.set(pipeline, m);
  }
  return m.get(stepName);
};
