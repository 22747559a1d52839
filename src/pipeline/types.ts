import type * as t from 'io-ts';

/** What an earlier, succeeded step returned, as handlers read it: `ctx.prevResults['fetch'].data`. */
export interface PrevResult {
  readonly success: true;
  /** The step's `data`, decoded from the journal (with the step's `output` codec when it has one). */
  readonly data?: StepData;
}

/** A JSON value, as metadata and step data are journaled and read back. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;

/**
 * A JSON object. A field may be absent, so reads are `JsonValue | undefined` and the spec's
 * `ctx.metadata?.batchId` compiles under `--strict`.
 */
export interface JsonObject {
  readonly [key: string]: JsonValue | undefined;
}

/**
 * Step data as seen by later steps. JSON objects are the common case, so fields can be read
 * directly (`data?.userId`); a step that returns another JSON value (an array, a number) should
 * declare an `output` codec, and readers narrow with it.
 */
export type StepData = JsonObject;

/**
 * Everything a step handler knows about its run. Rebuilt identically by recovery. `M` is the
 * metadata's type: a JSON object by default, or what the pipeline's `metadata` codec decodes to.
 */
export interface StepContext<M = JsonObject> {
  readonly runId: string;
  readonly pipelineId: string;
  readonly stepName: string;
  /** 1 on the first attempt; continues across crashes and recoveries. */
  readonly attempt: number;
  /** The run's metadata (decoded with the pipeline's `metadata` codec when it has one). */
  readonly metadata: M;
  /**
   * The results of the steps this one depends on, directly or not, by step name: in a pipeline
   * without `dependsOn`, every earlier step's.
   */
  readonly prevResults: Readonly<Record<string, PrevResult | undefined>>;
  /**
   * `<runId>:<stepName>` (in a map step `<runId>:<stepName>:<itemIndex>`): the same on every attempt and after recovery, so a handler can pass it
   * to an external API or use it as a unique key to make its side effect happen once.
   */
  readonly idempotencyKey: string;
  /** Fires on timeout, on cancellation of the run, and when another process took the run over. */
  readonly signal: AbortSignal;
  /** In a map step: the item this attempt runs (absent in other steps). */
  readonly item?: JsonValue;
  /** In a map step: the item's position in the list, from 0 (its key is `<runId>:<stepName>:<itemIndex>`). */
  readonly itemIndex?: number;
}

/** What a map step's `over` function reads: the run's metadata and the results it depends on. */
export interface MapListContext<M = JsonObject> {
  readonly runId: string;
  readonly pipelineId: string;
  readonly metadata: M;
  readonly prevResults: Readonly<Record<string, PrevResult | undefined>>;
}

/** A function type compared bivariantly (as methods are), so a pipeline of specific metadata stays a `Pipeline`. */
type Bivariant<A, R> = { bivarianceHack(ctx: A): R }['bivarianceHack'];

/**
 * Makes a step a map step: its handler runs once per item of a list, each item with its own
 * attempts, retries and idempotency key, up to `concurrency` items at a time; the step's data is
 * the list of the items' data, in order.
 */
export interface MapOptions<M = JsonObject> {
  /**
   * The list: the name of a step this one depends on, whose data is the list, or a function of
   * the run's metadata and earlier results that returns it. The function is evaluated again on
   * recovery, so it must depend on nothing else (the item count is journaled, and a list whose
   * length changed fails the step).
   */
  readonly over: string | Bivariant<MapListContext<M>, readonly JsonValue[]>;
  /** Items running at the same time (default 8, `DEFAULT_MAP_CONCURRENCY`). An item waiting for its retry holds its place. */
  readonly concurrency?: number;
}

/** What a handler returns. Throwing counts as `{ success: false, error }`. */
export type StepResult =
  | { readonly success: true; readonly data?: unknown }
  | { readonly success: false; readonly error: unknown; readonly retryable?: boolean };

export type StepHandler<M = JsonObject> = (ctx: StepContext<M>) => Promise<StepResult> | StepResult;

/** How a failing step is retried. Delays: initialDelayMs * backoffFactor^(attempt-1), capped. */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 1 (no retry). */
  readonly maxAttempts: number;
  /** Delay before the second attempt. Default 1000 ms. */
  readonly initialDelayMs: number;
  /** Growth of the delay per attempt. Default 2. */
  readonly backoffFactor: number;
  /** Upper bound of one delay. Default 60,000 ms. */
  readonly maxDelayMs: number;
  /** Fraction of the delay randomised (0 = none, 0.2 = ±20%), so retries of many runs spread out. Default 0. */
  readonly jitter: number;
}

/**
 * A wait step's event (`waitForEvent`): its name, how long to wait, and what happens then. The
 * event's `data` becomes the step's data.
 */
export interface WaitForEventOptions {
  /** The event's name, as `orbit send <runId> <event>` and `sendEvent(client, runId, event, data)` give it. */
  readonly event: string;
  /** How long to wait, from the moment the step begins waiting (`30m`, `2d`, or milliseconds). Default: no timeout. */
  readonly timeout?: string | number;
  /**
   * When the timeout passes: `'fail'` (default) fails the step and the run, `{ continueWith: data }`
   * succeeds the step with that data instead.
   */
  readonly onTimeout?: 'fail' | { readonly continueWith: JsonValue };
}

export interface StepDefinition<M = JsonObject> {
  readonly name: string;
  /**
   * What the step does. Every step has exactly one of `handler`, `sleep`, `sleepUntil` and
   * `waitForEvent`.
   */
  // Method syntax on purpose: it makes a step (and a pipeline) of specific metadata usable where
  // any pipeline is expected (the registry, the executor), which a function property would not.
  handler?(ctx: StepContext<M>): Promise<StepResult> | StepResult;
  /**
   * A sleep step: waits this long (`90s`, `2h`, `3d`, or milliseconds), counted on the database
   * clock from the moment it begins. The run holds no worker while it sleeps; a worker (`orbit
   * worker`) wakes it at its time, after any restart. Its data is null.
   */
  readonly sleep?: string | number;
  /** A sleep step that waits until the time this returns (a Date, an ISO string or epoch milliseconds). */
  sleepUntil?(ctx: StepContext<M>): Date | string | number;
  /** A wait step: waits for an event sent to the run (`orbit send`, `sendEvent`). */
  readonly waitForEvent?: WaitForEventOptions;
  /** Overrides the pipeline's retry policy for this step. */
  readonly retry?: Partial<RetryPolicy>;
  /** Abort the attempt (and count it failed, retryable) after this long. */
  readonly timeoutMs?: number;
  /** Validates `data` before it is journaled, and decodes it for later steps. */
  readonly output?: t.Mixed;
  /**
   * The steps that must succeed before this one starts. Default: the step before it in the list
   * (none for the first), so a pipeline without `dependsOn` runs its steps one after another.
   * `[]` makes a step start with the run. Steps whose dependencies have all succeeded run at
   * the same time, up to the pipeline's `maxParallel`.
   */
  readonly dependsOn?: readonly string[];
  /**
   * Runs the handler once per item of a list (`ctx.item`, `ctx.itemIndex`); the step's data is
   * the list of the items' data. The retry policy and `timeoutMs` apply to each item, and
   * `output` validates each item's data.
   */
  readonly map?: MapOptions<M>;
}

/**
 * What Orbit needs of a metadata codec; every io-ts codec is one. Methods, not function
 * properties, so that a pipeline of specific metadata is still a `Pipeline` (of unknown metadata)
 * where the registry and the executor take any pipeline.
 */
export interface MetadataCodec<M> {
  readonly name: string;
  decode(input: unknown): t.Validation<M>;
  encode(value: M): unknown;
}

export interface PipelineConfig<M = unknown> {
  readonly name: string;
  readonly steps: readonly StepDefinition<M>[];
  /**
   * Validates the run's metadata before anything is journaled, and types it: an io-ts codec such
   * as `t.type({ batchId: t.string })` makes `ctx.metadata` a `{ batchId: string }`.
   */
  readonly metadata?: MetadataCodec<M>;
  /** Default retry policy of every step. */
  readonly retry?: Partial<RetryPolicy>;
  /** How many steps of one run may run at the same time (default 8, `DEFAULT_MAX_PARALLEL`). */
  readonly maxParallel?: number;
  /**
   * How many runs of this pipeline workers execute at the same time, counted across all workers
   * (default: no limit). Queued runs beyond it wait on the queue (docs/WORKER.md, "Concurrency per
   * pipeline"). A worker's `pipelineConcurrency` option overrides it. Not part of the definition hash.
   */
  readonly concurrency?: number;
  /**
   * A cron schedule the pipeline carries: every worker that registers the pipeline keeps it in the
   * database (docs/WORKER.md, "Schedules"). Not part of the definition hash.
   */
  readonly schedule?: PipelineSchedule;
  readonly description?: string;
}

/** A schedule carried by a pipeline's definition (`definePipeline({ schedule })`). */
export interface PipelineSchedule {
  /** A cron expression: 5 fields, or 6 with seconds first (croner syntax), e.g. `0 9 * * 1-5`. */
  readonly cron: string;
  /** The IANA time zone the expression is read in. Default `UTC`. */
  readonly timezone?: string;
  /** Ticks missed while no worker ran: `skip` them (default) or run the most recent one once (`last`). */
  readonly catchUp?: 'skip' | 'last';
  /** Each run's metadata (as journaled: it must decode with the pipeline's metadata codec). Default `{}`. */
  readonly metadata?: JsonObject;
}

/** A validated pipeline, ready to register. */
export interface Pipeline<M = unknown> extends PipelineConfig<M> {
  readonly kind: 'orbit.pipeline';
  /**
   * sha256 of the pipeline's name and ordered step names (and, for a pipeline whose steps do not
   * all follow the step before them, of their dependencies): what drift detection compares.
   */
  readonly definitionHash: string;
  readonly stepNames: readonly string[];
  /**
   * Every step's dependencies by name, or null when each step depends on the one before it (a
   * linear pipeline: its journal carries no dependency list).
   */
  readonly dependencies: Readonly<Record<string, readonly string[]>> | null;
}
