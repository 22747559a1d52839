import type * as t from 'io-ts';
import { definePipeline } from './definePipeline';
import { jsonProblem } from './jsonProblem';
import { lazyRecord } from '../util/lazyRecord';
import type {
  JsonObject,
  JsonValue,
  MetadataCodec,
  Pipeline,
  PipelineSchedule,
  RetryPolicy,
  StepContext,
  StepDefinition,
  StepResult,
} from './types';

/*
 * The typed builder: `pipeline(name).step(...).step(...).build()`. Each step's return type becomes
 * `ctx.results.<step>` in the steps that depend on it, directly or not, and a dependency or a
 * result that is not a step of the pipeline does not compile. What it builds is an ordinary
 * `Pipeline` (through `definePipeline`): a step's return value is its `data`, so a builder
 * pipeline journals exactly what the equivalent `{ success: true, data }` pipeline journals.
 */

/** Why a step's return type was refused; the compiler prints it where the value is returned. */
type Refused<Why extends string> = `Orbit: a step must return JSON; ${Why}`;

/**
 * `T` when a step may return it (JSON: strings, finite numbers, booleans, null, arrays and plain
 * objects of them; `undefined` for nothing), else `T` with the offending parts replaced by a
 * message, so that returning it does not compile. `unknown` and `any` pass: the run-time check
 * (a non-retryable failure naming the step and the path of the bad value) covers them.
 */
export type JsonReturn<T> = unknown extends T ? T : JsonReturnOf<T>;
type JsonReturnOf<T> = T extends JsonValue | undefined | void
  ? T
  : T extends bigint
    ? Refused<'a bigint is not JSON (return a string or a number)'>
    : T extends symbol
      ? Refused<'a symbol is not JSON'>
      : T extends (...args: never[]) => unknown
        ? Refused<'a function is not JSON'>
        : T extends Date
          ? Refused<'a Date is not JSON (return date.toISOString(), or give the step an output codec)'>
          : T extends ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
            ? Refused<'a Map or Set is not JSON (return an array or a plain object)'>
            : T extends object
              ? { [K in keyof T]: JsonReturnOf<T[K]> }
              : never;

/** What a later step reads of a step that returned `T`: nothing (`undefined`) reads as `null`. */
export type StoredResult<T> = [T] extends [void] ? null : T extends undefined ? null : T;

/** The context of a builder step: a `StepContext` with the results of the steps it depends on, typed. */
export interface TypedStepContext<M, Results> extends StepContext<M> {
  /**
   * What each step this one depends on (directly or not) returned, by step name, decoded with
   * its `output` codec when it has one. A step that returned nothing reads as `null`.
   */
  readonly results: Results;
}

/** A builder step's options: those of `StepDefinition`, with its dependencies among the steps before it. */
export interface TypedStepOptions<Dep extends string, C extends t.Mixed | undefined = undefined> {
  /** The steps that must succeed first; default: the step before it (none for the first). */
  readonly dependsOn?: readonly Dep[];
  /** Overrides the pipeline's retry policy for this step. */
  readonly retry?: Partial<RetryPolicy>;
  /** Abort the attempt (and count it failed, retryable) after this long. */
  readonly timeoutMs?: number;
  /**
   * Validates what the handler returns (its type is the handler's return type) and encodes it
   * for the journal; later steps read it decoded. The way to hand a `Date` on: a codec that
   * encodes it as a string.
   */
  readonly output?: C;
}

/** A builder map step's options: the list (`over`, a dependency whose result is an array), and those of a step. */
export interface TypedMapOptions<Dep extends string, Over extends string> extends Omit<TypedStepOptions<Dep>, 'output'> {
  /** The step whose result is the list: one this step depends on (directly). */
  readonly over: Over;
  /** Items running at the same time (default 8). */
  readonly concurrency?: number;
}

/** A builder sleep step's options: its dependencies among the steps before it (default: the step before it). */
export interface TypedSleepOptions<Dep extends string> {
  readonly dependsOn?: readonly Dep[];
}

/**
 * A builder wait step's options: `waitForEvent`'s (`event`, `timeout`, `onTimeout`), its
 * dependencies, and `output`, the codec of the event's data: later steps read the data decoded
 * (`ctx.results.<step>` has the codec's type), and data that does not decode is refused when sent
 * (`sendEvent`, `orbit send` with the pipeline loaded) and fails the step when taken.
 */
export interface TypedWaitOptions<Dep extends string, C extends t.Mixed | undefined = undefined> extends TypedSleepOptions<Dep> {
  /** The event's name, as `orbit send <runId> <event>` and `sendEvent(client, runId, event, data)` give it. */
  readonly event: string;
  /** How long to wait from the moment the step begins waiting (`30m`, `2d`, or milliseconds). Default: no timeout. */
  readonly timeout?: string | number;
  /** At the timeout: `'fail'` (default) or `{ continueWith: data }` (the step's data instead, as journaled). */
  readonly onTimeout?: 'fail' | { readonly continueWith: C extends t.Mixed ? t.OutputOf<C> & JsonValue : JsonValue };
  readonly output?: C;
}

/** The names among `Deps` whose results are arrays: what a map step can map over. */
type ArrayKeys<Out, Deps extends string> = { [K in Deps]: Lookup<Out, K> extends readonly unknown[] ? K : never }[Deps];
type ItemOf<T> = T extends readonly (infer I)[] ? I : never;
type ItemHandler<M, Results, I, R> = (item: I, ctx: TypedStepContext<M, Results>) => R | Promise<R>;

/** `pipeline(name, options)`'s options: those of `PipelineConfig` but the steps. */
export interface TypedPipelineOptions<M> {
  /** Validates and types the run's metadata (`ctx.metadata`). */
  readonly metadata?: MetadataCodec<M>;
  /** Default retry policy of every step. */
  readonly retry?: Partial<RetryPolicy>;
  /** How many steps of one run may run at the same time (default 8). */
  readonly maxParallel?: number;
  /** How many runs of this pipeline workers execute at once, across all workers (default: no limit). */
  readonly concurrency?: number;
  /** A cron schedule the pipeline carries (`definePipeline`'s `schedule`). */
  readonly schedule?: PipelineSchedule;
  readonly description?: string;
}

type Handler<M, Results, R> = (ctx: TypedStepContext<M, Results>) => R | Promise<R>;
/** `T`, not used to infer a type parameter (TypeScript 5.4's `NoInfer`, for older compilers too). */
type NoInference<T> = [T][T extends unknown ? 0 : never];
/**
 * A handler returning `R`, which must be JSON: `R` is inferred from the first half, and the second
 * half fails to compile, naming the offending field, when `R` is not JSON.
 */
type JsonHandler<M, Results, R> = Handler<M, Results, R> & Handler<M, Results, JsonReturn<NoInference<R>>>;
/** The results a step sees: those of its dependencies and of theirs. */
type Visible<Out, Anc, Deps extends string> = { readonly [K in Deps | Extract<Lookup<Anc, Deps>, string>]: Lookup<Out, K> };
type Lookup<T, K> = K extends keyof T ? T[K] : never;
/** A name not yet taken by a step of the pipeline. */
type NewName<N extends string, Taken> = N extends Taken ? `step "${N}" is already defined` : N;
type With<T, N extends string, V> = { [K in keyof T | N]: K extends N ? V : Lookup<T, K> };

/**
 * A pipeline under construction. `Out`: what each step returns, by name; `Anc`: each step's
 * dependencies, direct or not, as a union of names; `Last`: the step added last (the default
 * dependency of the next).
 */
/** Nothing yet: the results and ancestors of a pipeline without steps. */
type None = Record<never, never>;

export interface PipelineBuilder<M, Out = None, Anc = None, Last extends keyof Out & string = never> {
  /** The pipeline's name and its steps so far, in order. */
  readonly name: string;
  readonly stepNames: readonly string[];
  /** Adds a step that depends on the step before it (the first step depends on none). */
  step<N extends string, R>(
    name: NewName<N, keyof Out>,
    handler: JsonHandler<M, Visible<Out, Anc, Last>, R>,
  ): PipelineBuilder<M, With<Out, N, StoredResult<R>>, With<Anc, N, Last | Lookup<Anc, Last>>, N>;
  /** Adds a step whose output codec validates and encodes what it returns, and decodes it for later steps. */
  step<N extends string, C extends t.Mixed, D extends keyof Out & string = Last>(
    name: NewName<N, keyof Out>,
    options: TypedStepOptions<D, C> & { readonly output: C },
    handler: Handler<M, Visible<Out, Anc, D>, t.TypeOf<C>>,
  ): PipelineBuilder<M, With<Out, N, t.TypeOf<C>>, With<Anc, N, D | Lookup<Anc, D>>, N>;
  /** Adds a step with options: `dependsOn` (steps already added), `retry`, `timeoutMs`. */
  step<N extends string, R, D extends keyof Out & string = Last>(
    name: NewName<N, keyof Out>,
    options: TypedStepOptions<D>,
    handler: JsonHandler<M, Visible<Out, Anc, D>, R>,
  ): PipelineBuilder<M, With<Out, N, StoredResult<R>>, With<Anc, N, D | Lookup<Anc, D>>, N>;
  /**
   * Adds a map step: `handler(item, ctx)` runs once per item of the list `over` (a dependency's
   * result, an array), each item journaled as its own attempts with its own idempotency key
   * (`<runId>:<step>:<index>`) and retries; the step's result is the list of the items' results,
   * in order. Without `dependsOn`, it depends on the step before it.
   */
  map<N extends string, K extends ArrayKeys<Out, D>, R, D extends keyof Out & string = Last>(
    name: NewName<N, keyof Out>,
    options: TypedMapOptions<D, K>,
    handler: ItemHandler<M, Visible<Out, Anc, D>, ItemOf<Lookup<Out, K>>, R> &
      ItemHandler<M, Visible<Out, Anc, D>, ItemOf<Lookup<Out, K>>, JsonReturn<NoInference<R>>>,
  ): PipelineBuilder<M, With<Out, N, StoredResult<R>[]>, With<Anc, N, D | Lookup<Anc, D>>, N>;
  /**
   * Adds a sleep step: it waits `duration` (`90s`, `2h`, `3d`, or milliseconds) on the database
   * clock, holding no worker; its result is null.
   */
  sleep<N extends string, D extends keyof Out & string = Last>(
    name: NewName<N, keyof Out>,
    duration: string | number,
    options?: TypedSleepOptions<D>,
  ): PipelineBuilder<M, With<Out, N, null>, With<Anc, N, D | Lookup<Anc, D>>, N>;
  /** Adds a sleep step that waits until the time `until` returns (a Date, an ISO string or epoch ms); its result is null. */
  sleepUntil<N extends string, D extends keyof Out & string = Last>(
    name: NewName<N, keyof Out>,
    until: (ctx: TypedStepContext<M, Visible<Out, Anc, D>>) => Date | string | number,
    options?: TypedSleepOptions<D>,
  ): PipelineBuilder<M, With<Out, N, null>, With<Anc, N, D | Lookup<Anc, D>>, N>;
  /** Adds a step that waits for an event sent to the run; its result is the event's data, decoded by `output`. */
  waitForEvent<N extends string, C extends t.Mixed, D extends keyof Out & string = Last>(
    name: NewName<N, keyof Out>,
    options: TypedWaitOptions<D, C> & { readonly output: C },
  ): PipelineBuilder<M, With<Out, N, t.TypeOf<C>>, With<Anc, N, D | Lookup<Anc, D>>, N>;
  /** Adds a step that waits for an event sent to the run; its result is the event's data (JSON). */
  waitForEvent<N extends string, D extends keyof Out & string = Last>(
    name: NewName<N, keyof Out>,
    options: TypedWaitOptions<D>,
  ): PipelineBuilder<M, With<Out, N, JsonValue>, With<Anc, N, D | Lookup<Anc, D>>, N>;
  /** The pipeline, checked by `definePipeline` (which throws `PipelineDefinitionError`). */
  build(): Pipeline<M>;
}

const notJson = (step: string, path: string, what: string): StepResult => {
  const error = new Error(`step "${step}" returned a value that is not JSON: ${path} is ${what}`);
  error.name = 'UnserializableResult';
  return { success: false, error, retryable: false };
};

/** A step's context with `results`: a view of prevResults (looked up when read), not a copy, so a long run's step pays for what it reads. */
const typedContext = <M>(ctx: StepContext<M>): TypedStepContext<M, unknown> => {
  const prevResults = ctx.prevResults;
  const results = lazyRecord<unknown>({
    get: (k) => (Object.prototype.hasOwnProperty.call(prevResults, k) ? (prevResults[k]?.data ?? null) : undefined),
    keys: () => Object.keys(prevResults).filter((k) => prevResults[k] !== undefined),
  });
  return { ...ctx, results };
};

/** A builder handler as a `StepDefinition` handler: results from `prevResults`, the return value as `data`. */
const toStepHandler =
  <M>(name: string, handler: (ctx: TypedStepContext<M, unknown>) => unknown, checkJson: boolean) =>
  async (ctx: StepContext<M>): Promise<StepResult> => {
    const value: unknown = await handler(typedContext(ctx));
    const where = ctx.itemIndex === undefined ? name : `${name}[${ctx.itemIndex}]`;
    if (value === undefined) return { success: true };
    if (checkJson) {
      const problem = jsonProblem(value);
      if (problem !== undefined) return notJson(where, problem.path, problem.what);
    }
    return { success: true, data: value };
  };

interface Untyped<M> {
  step(name: string, a: unknown, b?: unknown): Untyped<M>;
  map(name: string, options: TypedMapOptions<string, string>, handler: unknown): Untyped<M>;
  sleep(name: string, duration: string | number, options?: TypedSleepOptions<string>): Untyped<M>;
  sleepUntil(name: string, until: unknown, options?: TypedSleepOptions<string>): Untyped<M>;
  waitForEvent(name: string, options: TypedWaitOptions<string, t.Mixed | undefined>): Untyped<M>;
}

/** The step fields every builder step kind shares: its name and, when given, its dependencies. */
const baseOf = (name: string, opts: { readonly dependsOn?: readonly string[] } | undefined) => ({
  name,
  ...(opts?.dependsOn === undefined ? {} : { dependsOn: opts.dependsOn }),
});

const builderOf = <M>(name: string, options: TypedPipelineOptions<M>, steps: readonly StepDefinition<M>[]) => {
  const self = {
    name,
    stepNames: steps.map((s) => s.name),
    step(stepName: string, a: unknown, b?: unknown): Untyped<M> {
      const handler = (b === undefined ? a : b) as (ctx: TypedStepContext<M, unknown>) => unknown;
      const opts = (b === undefined ? {} : (a ?? {})) as TypedStepOptions<string, t.Mixed>;
      if (typeof handler !== 'function')
        throw new TypeError(`pipeline ${name}: step ${String(stepName)} has no handler function`);
      const def: StepDefinition<M> = {
        name: stepName,
        handler: toStepHandler(stepName, handler, opts.output === undefined),
        ...(opts.dependsOn === undefined ? {} : { dependsOn: opts.dependsOn }),
        ...(opts.retry === undefined ? {} : { retry: opts.retry }),
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
        ...(opts.output === undefined ? {} : { output: opts.output }),
      };
      return builderOf(name, options, [...steps, def]);
    },
    map(stepName: string, opts: TypedMapOptions<string, string>, handler: unknown): Untyped<M> {
      if (typeof handler !== 'function')
        throw new TypeError(`pipeline ${name}: step ${String(stepName)} has no handler function`);
      const perItem = handler as (item: unknown, ctx: TypedStepContext<M, unknown>) => unknown;
      const def: StepDefinition<M> = {
        name: stepName,
        handler: toStepHandler<M>(stepName, (ctx) => perItem(ctx.item, ctx), true),
        map: { over: opts.over, ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }) },
        ...(opts.dependsOn === undefined ? {} : { dependsOn: opts.dependsOn }),
        ...(opts.retry === undefined ? {} : { retry: opts.retry }),
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      };
      return builderOf(name, options, [...steps, def]);
    },
    // Sleep and wait steps are checked by definePipeline at build(), as written there.
    sleep(stepName: string, duration: string | number, opts?: TypedSleepOptions<string>): Untyped<M> {
      return builderOf(name, options, [...steps, { ...baseOf(stepName, opts), sleep: duration }]);
    },
    sleepUntil(stepName: string, until: unknown, opts?: TypedSleepOptions<string>): Untyped<M> {
      if (typeof until !== 'function')
        throw new TypeError(`pipeline ${name}: step ${String(stepName)}: sleepUntil needs a function of the context`);
      const f = until as (ctx: TypedStepContext<M, unknown>) => Date | string | number;
      const def: StepDefinition<M> = { ...baseOf(stepName, opts), sleepUntil: (ctx) => f(typedContext(ctx)) };
      return builderOf(name, options, [...steps, def]);
    },
    waitForEvent(stepName: string, opts: TypedWaitOptions<string, t.Mixed | undefined>): Untyped<M> {
      if (typeof opts !== 'object' || opts === null)
        throw new TypeError(`pipeline ${name}: step ${String(stepName)}: waitForEvent needs options { event, … }`);
      const def: StepDefinition<M> = {
        ...baseOf(stepName, opts),
        waitForEvent: {
          event: opts.event,
          ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }),
          ...(opts.onTimeout === undefined ? {} : { onTimeout: opts.onTimeout }),
        },
        ...(opts.output === undefined ? {} : { output: opts.output }),
      };
      return builderOf(name, options, [...steps, def]);
    },
    build: (): Pipeline<M> =>
      definePipeline<M>({
        name,
        steps,
        ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
        ...(options.retry === undefined ? {} : { retry: options.retry }),
        ...(options.maxParallel === undefined ? {} : { maxParallel: options.maxParallel }),
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
        ...(options.description === undefined ? {} : { description: options.description }),
      }),
  };
  return self;
};

/**
 * Starts a typed pipeline: add steps with `.step(name, [options,] handler)`, then `.build()`.
 * A handler returns its data (JSON) or throws; `ctx.results` holds, typed, what the steps it
 * depends on returned:
 *
 * ```ts
 * const importer = pipeline('import', { metadata: t.type({ url: t.string }) })
 *   .step('fetch', async (ctx) => ({ rows: await download(ctx.metadata.url) }))
 *   .step('count', async (ctx) => ctx.results.fetch.rows.length)
 *   .build();
 * ```
 */
export const pipeline = <M = JsonObject>(name: string, options: TypedPipelineOptions<M> = {}): PipelineBuilder<M> =>
  builderOf<M>(name, options, []) as unknown as PipelineBuilder<M>;
