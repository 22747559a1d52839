/** Small numeric helpers: percentiles, rounding, wall-clock timing. */

export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
};

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** Rounds to `digits` significant digits (figures in the table and in results.json). */
export const sig = (n: number, digits = 3): number => (Number.isFinite(n) && n !== 0 ? Number(n.toPrecision(digits)) : n);

/** Milliseconds since an arbitrary origin, sub-millisecond. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const timed = async <A>(work: () => Promise<A>): Promise<{ value: A; ms: number }> => {
  const t0 = nowMs();
  const value = await work();
  return { value, ms: nowMs() - t0 };
};

/** Runs `work(i)` for i in [0, count) with at most `concurrency` in flight. */
export const forEachConcurrent = async (count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> => {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
