import { Client } from 'pg';
import { definePipeline } from '../../src/pipeline/definePipeline';
import type { Pipeline, StepData, StepDefinition } from '../../src/pipeline/types';

/** Step names s1..sN (the seeded journals use the same names). */
export const stepNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `s${i + 1}`);

/** A pipeline of `n` steps that do nothing but succeed. */
export const noopPipeline = (name: string, n: number): Pipeline =>
  definePipeline({
    name,
    steps: stepNames(n).map((stepName): StepDefinition => ({ name: stepName, handler: () => ({ success: true }) })),
  });

/**
 * Counts the statements this process sends to PostgreSQL (round trips) until `restore`: every
 * pg Client's `query`, whether through the pool, a transaction's client or the heartbeat.
 */
export const countRoundTrips = (): { readonly count: () => number; readonly restore: () => void } => {
  let n = 0;
  const proto = Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    n += 1;
    return original.apply(this, args);
  };
  return {
    count: () => n,
    restore: () => {
      proto.query = original;
    },
  };
};

/** S8's short queued pipeline: two no-op steps; `onStep` sees every execution (exactly-once check). */
export const queuedPipeline = (onStep: (runId: string, stepName: string) => void = () => undefined): Pipeline =>
  definePipeline({
    name: 'bench-s8',
    steps: stepNames(2).map(
      (stepName): StepDefinition => ({
        name: stepName,
        handler: (ctx) => {
          onStep(ctx.runId, ctx.stepName);
          return { success: true };
        },
      }),
    ),
  });

/** `list` returns 0 … items-1; `each` maps a no-op handler over it, `concurrency` items at a time. */
export const mapPipeline = (name: string, items: number, concurrency: number): Pipeline =>
  definePipeline({
    name,
    steps: [
      { name: 'list', handler: () => ({ success: true, data: Array.from({ length: items }, (_, i) => i) as unknown as StepData }) },
      { name: 'each', map: { over: 'list', concurrency }, handler: () => ({ success: true }) },
    ],
  });
