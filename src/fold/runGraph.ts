/**
 * A run's steps as a graph, from its `run.created` (step names, and `dependsOn` when the pipeline
 * is not linear). Built once per run's step list and shared: the fold, the decider and the step
 * context ask it at every step, so everything here is by position and costs O(1) per question.
 */
export interface RunGraph {
  readonly index: ReadonlyMap<string, number>;
  /** Positions each step depends on. */
  readonly deps: readonly (readonly number[])[];
  /** Positions that depend on each step. */
  readonly dependents: readonly (readonly number[])[];
  /** True when every step depends on exactly the one before it. */
  readonly linear: boolean;
}

const cache = new WeakMap<readonly string[], { readonly dependsOn: unknown; readonly graph: RunGraph | string }>();

/**
 * The graph of `stepNames` with `dependsOn` (null: each step depends on the one before it), or
 * why it is not one (a dependency that is not a step, a circle).
 */
export const runGraphOf = (
  stepNames: readonly string[],
  dependsOn: Readonly<Record<string, readonly string[]>> | null,
): RunGraph | string => {
  const hit = cache.get(stepNames);
  if (hit !== undefined && hit.dependsOn === dependsOn) return hit.graph;
  const graph = build(stepNames, dependsOn);
  cache.set(stepNames, { dependsOn, graph });
  return graph;
};

/** For states already folded (their graph was checked at run.created). */
export const graphOf = (s: {
  readonly stepNames: readonly string[];
  readonly dependsOn: Readonly<Record<string, readonly string[]>> | null;
}): RunGraph => {
  const g = runGraphOf(s.stepNames, s.dependsOn);
  if (typeof g === 'string') throw new Error(`run graph: ${g}`);
  return g;
};

const build = (names: readonly string[], dependsOn: Readonly<Record<string, readonly string[]>> | null): RunGraph | string => {
  const index = new Map(names.map((n, i) => [n, i]));
  const n = names.length;
  const deps: number[][] = new Array<number[]>(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  let linear = true;
  for (let i = 0; i < n; i++) {
    const name = names[i] as string;
    let ds: number[];
    if (dependsOn === null) ds = i > 0 ? [i - 1] : [];
    else {
      const given = dependsOn[name];
      if (given === undefined) return `dependsOn has no entry for step ${name}`;
      ds = [];
      for (const d of given) {
        const j = index.get(d);
        if (j === undefined || j === i)
          return `step ${name} depends on ${JSON.stringify(d)}, which is not another step of the run`;
        if (!ds.includes(j)) ds.push(j);
      }
    }
    if (!(ds.length === (i > 0 ? 1 : 0) && (i === 0 || ds[0] === i - 1))) linear = false;
    deps[i] = ds;
    for (const j of ds) (dependents[j] as number[]).push(i);
  }
  if (dependsOn !== null) {
    for (const key of Object.keys(dependsOn))
      if (!index.has(key)) return `dependsOn names ${JSON.stringify(key)}, which is not a step of the run`;
  }
  // Kahn's algorithm: every step reachable in dependency order, or there is a circle.
  const waiting = deps.map((d) => d.length);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (waiting[i] === 0) queue.push(i);
  let seen = 0;
  while (seen < queue.length) {
    const i = queue[seen++] as number;
    for (const j of dependents[i] as number[]) {
      waiting[j] = (waiting[j] as number) - 1;
      if (waiting[j] === 0) queue.push(j);
    }
  }
  if (seen < n)
    return `steps depend on each other in a circle (${names.filter((_, i) => (waiting[i] as number) > 0).join(', ')})`;
  return { index, deps, dependents, linear };
};
