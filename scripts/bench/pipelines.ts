import { Client, type Pool } from 'pg';
import { definePipeline } from '../../src/pipeline/definePipeline';
import type { Pipeline, StepData, StepDefinition } from '../../src/pipeline/types';

/** Step names s1..sN (the seeded journals use the same names). */
export const stepNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `s${i + 1}`);

/** A pipeline of `n` steps that do nothing but succeed. */
/** S1 and S2's run input (the run's metadata): a few top-level fields, as a typical run has, so the metadata search index (sql/022) costs what it would. */
export const BENCH_METADATA = { customer: 'customer-4242', order: 123456, region: 'eu-west', vip: false } as const;

/** Where S1 and S2 run: as migrated, or as before a migration (the before/after figures in one run). */
export type Layout = 'partitioned' | 'unpartitioned' | 'no-search-index';

export const LAYOUT_NOTE: Readonly<Record<Layout, string>> = {
  partitioned: '',
  unpartitioned: ' (journal before 014: one table)',
  'no-search-index': ' (without 022: no metadata search index)',
};

/** Drops migration 022's index from a fresh bench schema: the append path as it was before it. */
export const dropSearchIndex = async (pool: Pool, schema: string): Promise<void> => {
  await pool.query(`DROP INDEX "${schema}".runs_by_metadata_value`);
};

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
