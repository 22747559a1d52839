import type { Client } from 'pg';
import { definitionHashOf } from '../../src/pipeline/definePipeline';
import { stepNames } from './pipelines';

/**
 * Seeds large journals directly in SQL, not through the executor: a recursive CTE walks every run
 * one seq at a time, so each event's hash is chained to its predecessor's with the schema's own
 * `event_hash(...)`. Events follow a template (below) that the fold accepts; the projection rows
 * are written from the same template. `checkSample` replays a few seeded runs through the
 * library's own verifier and projection check, so a seed that drifted from the code fails loudly.
 *
 * Templates (seq: event):
 * - linear: 1 run.created, 2 run.claimed, then per step i: started, succeeded ({result: {i}}),
 *   and, for a finished run, run.succeeded. A running run stops after k succeeded steps,
 *   optionally with step k+1 started (in flight).
 * - retry: steps [fetch, poll, publish]; fetch succeeds (seq 3, 4), then poll fails over and over:
 *   started, failed, retry_scheduled (a polling step waiting on an upstream system).
 * Event n of a run happens at t0 + n ms.
 */

export type Mode = 'linear' | 'retry';

const q = (schema: string) => `"${schema}"`;

/** The template as a SQL function in the bench schema (dropped with it). */
export const installSeedFunctions = async (pg: Client, schema: string): Promise<void> => {
  const s = q(schema);
  await pg.query(`
    CREATE OR REPLACE FUNCTION ${s}.bench_seed_event(
      p_mode text, p_seq integer, p_last integer, p_done boolean, p_owner text,
      p_steps jsonb, p_pipeline text, p_hash text)
    RETURNS TABLE (type text, step_name text, attempt integer, payload jsonb)
    LANGUAGE sql IMMUTABLE AS $$
      SELECT k.type,
             CASE WHEN k.type LIKE 'step.%' THEN p_steps ->> k.step_index END,
             CASE WHEN k.type LIKE 'step.%' THEN k.attempt END,
             CASE k.type
               WHEN 'run.created' THEN jsonb_build_object('pipelineId', p_pipeline, 'steps', p_steps,
                 'definitionHash', p_hash, 'metadata', '{"bench": true}'::jsonb, 'triggeredBy', 'bench')
               WHEN 'run.claimed' THEN jsonb_build_object('worker', p_owner)
               WHEN 'step.succeeded' THEN jsonb_build_object('result', jsonb_build_object('i', k.step_index))
               WHEN 'step.failed' THEN '{"error": {"name": "Error", "message": "upstream not ready"}, "retryable": true}'::jsonb
               WHEN 'step.retry_scheduled' THEN '{"delayMs": 1000}'::jsonb
               ELSE '{}'::jsonb
             END
        FROM (
          SELECT CASE
                   WHEN p_seq = 1 THEN 'run.created'
                   WHEN p_seq = 2 THEN 'run.claimed'
                   WHEN p_done AND p_seq = p_last THEN 'run.succeeded'
                   WHEN p_mode = 'linear' OR p_seq <= 4 THEN
                     CASE WHEN (p_seq - 3) % 2 = 0 THEN 'step.started' ELSE 'step.succeeded' END
                   ELSE (ARRAY['step.started', 'step.failed', 'step.retry_scheduled'])[(p_seq - 5) % 3 + 1]
                 END AS type,
                 CASE WHEN p_mode = 'linear' OR p_seq <= 4 THEN (p_seq - 3) / 2 ELSE 1 END AS step_index,
                 CASE WHEN p_mode = 'linear' OR p_seq <= 4 THEN 1 ELSE (p_seq - 5) / 3 + 1 END AS attempt
        ) k
    $$`);
};

/** One seeded run: what the plan table holds. */
export interface PlanShape {
  readonly mode: Mode;
  readonly pipeline: string;
  readonly steps: number;
}

export const shapeInfo = (shape: PlanShape) => {
  const names = shape.mode === 'retry' ? ['fetch', 'poll', 'publish'] : stepNames(shape.steps);
  return { names, hash: definitionHashOf(shape.pipeline, names) };
};

/**
 * Inserts the events of the runs in the temp table `bench_plan` (run_id, mode, last_seq, done,
 * owner, t0, steps, pipeline, def_hash) with chained hashes. Returns the number of events.
 */
const insertEvents = async (pg: Client, schema: string): Promise<number> => {
  const s = q(schema);
  const res = await pg.query(`
    WITH RECURSIVE c AS (
      SELECT p.run_id, p.mode, p.last_seq, p.done, p.owner, p.t0, p.steps, p.pipeline, p.def_hash,
             1 AS seq, e.type, e.step_name, e.attempt, e.payload,
             p.t0 + interval '1 ms' AS at,
             md5(p.run_id || ':1')::uuid AS event_id,
             ${s}.event_hash(NULL, p.run_id, 1, e.type, e.step_name, e.attempt, e.payload,
                             p.t0 + interval '1 ms', p.owner, md5(p.run_id || ':1')::uuid) AS hash
        FROM bench_plan p
       CROSS JOIN LATERAL ${s}.bench_seed_event(p.mode, 1, p.last_seq, p.done, p.owner, p.steps, p.pipeline, p.def_hash) e
      UNION ALL
      SELECT c.run_id, c.mode, c.last_seq, c.done, c.owner, c.t0, c.steps, c.pipeline, c.def_hash,
             c.seq + 1, e.type, e.step_name, e.attempt, e.payload,
             c.t0 + (c.seq + 1) * interval '1 ms',
             md5(c.run_id || ':' || (c.seq + 1))::uuid,
             ${s}.event_hash(c.hash, c.run_id, c.seq + 1, e.type, e.step_name, e.attempt, e.payload,
                             c.t0 + (c.seq + 1) * interval '1 ms', c.owner, md5(c.run_id || ':' || (c.seq + 1))::uuid)
        FROM c
       CROSS JOIN LATERAL ${s}.bench_seed_event(c.mode, c.seq + 1, c.last_seq, c.done, c.owner, c.steps, c.pipeline, c.def_hash) e
       WHERE c.seq < c.last_seq
    )
    INSERT INTO ${s}.run_events (run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id, hash)
    SELECT run_id, seq, type, step_name, attempt, payload, at, owner, event_id, hash FROM c`);
  return res.rowCount ?? 0;
};

/** Projection rows for linear-mode runs in `bench_plan` (what the fold of their journal gives). */
const insertLinearProjections = async (pg: Client, schema: string): Promise<void> => {
  const s = q(schema);
  const ms = (expr: string) => `p.t0 + (${expr}) * interval '1 ms'`;
  await pg.query(`
    INSERT INTO ${s}.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names,
                           started_at, finished_at, owner, error, recovery_count, last_seq, last_event_at)
    SELECT p.run_id, p.pipeline, CASE WHEN p.done THEN 'success' ELSE 'running' END, 'bench', '{"bench": true}',
           p.def_hash, p.steps, ${ms('1')}, CASE WHEN p.done THEN ${ms('p.last_seq')} END,
           CASE WHEN p.done THEN NULL ELSE p.owner END, NULL, 0, p.last_seq, ${ms('p.last_seq')}
      FROM bench_plan p WHERE p.mode = 'linear'`);
  await pg.query(`
    INSERT INTO ${s}.steps (run_id, name, step_index, status, started_at, finished_at, attempt_count, error, result, next_retry_at)
    SELECT p.run_id, p.steps ->> i, i,
           CASE WHEN i < k.done_steps THEN 'success' WHEN i = k.done_steps AND k.in_flight THEN 'running' ELSE 'pending' END,
           CASE WHEN i < k.done_steps OR (i = k.done_steps AND k.in_flight) THEN ${ms('3 + 2 * i')} END,
           CASE WHEN i < k.done_steps THEN ${ms('4 + 2 * i')} END,
           CASE WHEN i < k.done_steps OR (i = k.done_steps AND k.in_flight) THEN 1 ELSE 0 END,
           NULL,
           CASE WHEN i < k.done_steps THEN jsonb_build_object('i', i) END,
           NULL
      FROM bench_plan p
     CROSS JOIN LATERAL (
       SELECT CASE WHEN p.done THEN jsonb_array_length(p.steps) ELSE (p.last_seq - 2) / 2 END AS done_steps,
              NOT p.done AND (p.last_seq - 2) % 2 = 1 AS in_flight) k
     CROSS JOIN LATERAL generate_series(0, jsonb_array_length(p.steps) - 1) i
     WHERE p.mode = 'linear'`);
};

export interface JournalSpec {
  /** Run numbers [from, to): run ids are `<prefix>-<number, zero-padded>`. */
  readonly from: number;
  readonly to: number;
  readonly prefix: string;
  readonly shape: PlanShape;
  /** SQL expressions over the run number `g` (an integer). */
  readonly lastSeqSql: string;
  readonly doneSql: string;
  readonly ownerSql: string;
  /** The first event of run g happens at base + g * spacingMs. */
  readonly baseSql: string;
  readonly spacingMs: number;
}

/** Seeds the runs of `spec`; linear runs also get their projection rows. Returns events written. */
export const seedJournal = async (pg: Client, schema: string, spec: JournalSpec): Promise<number> => {
  const { names, hash } = shapeInfo(spec.shape);
  await pg.query('DROP TABLE IF EXISTS bench_plan');
  await pg.query(
    `CREATE TEMP TABLE bench_plan AS
     SELECT format('%s-%s', $1::text, lpad(g::text, 8, '0')) AS run_id, $2::text AS mode,
            (${spec.lastSeqSql})::integer AS last_seq, (${spec.doneSql})::boolean AS done, (${spec.ownerSql})::text AS owner,
            date_trunc('milliseconds', ${spec.baseSql}) + g * $3::integer * interval '1 ms' AS t0,
            $4::jsonb AS steps, $5::text AS pipeline, $6::text AS def_hash
       FROM generate_series($7::integer, $8::integer - 1) g`,
    [spec.prefix, spec.shape.mode, spec.spacingMs, JSON.stringify(names), spec.shape.pipeline, hash, spec.from, spec.to],
  );
  const events = await insertEvents(pg, schema);
  if (spec.shape.mode === 'linear') await insertLinearProjections(pg, schema);
  await pg.query('DROP TABLE bench_plan');
  return events;
};

/**
 * Runs `work` (a bulk seed) with the secondary indexes and unique constraints of `tables` dropped,
 * then recreates them from their own definitions (read from the catalog, so a schema change
 * needs no change here). Building an index once over 10M rows is several times faster than
 * maintaining it row by row, above all the random `event_id` index once it outgrows
 * shared_buffers. Primary keys stay (their keys arrive in order). The recreated indexes are
 * freshly packed, which a grown journal's are not: a detail for S3, whose detection reads the
 * `runs` projection through its partial index.
 */
export const withIndexesDeferred = async <A>(pg: Client, schema: string, tables: readonly string[], work: () => Promise<A>): Promise<A> => {
  const rels = tables.map((t) => `${q(schema)}."${t}"`);
  const defs = (
    await pg.query<{ kind: 'constraint' | 'index'; rel: string; name: string; def: string }>(
      `SELECT 'constraint' AS kind, c.conrelid::regclass::text AS rel, c.conname AS name, pg_get_constraintdef(c.oid) AS def
         FROM pg_constraint c WHERE c.conrelid = ANY ($1::regclass[]) AND c.contype IN ('u', 'x')
       UNION ALL
       SELECT 'index', x.indrelid::regclass::text, i.relname, pg_get_indexdef(x.indexrelid)
         FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
        WHERE x.indrelid = ANY ($1::regclass[]) AND NOT x.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
      [rels],
    )
  ).rows;
  for (const d of defs) {
    await pg.query(d.kind === 'constraint' ? `ALTER TABLE ${d.rel} DROP CONSTRAINT "${d.name}"` : `DROP INDEX ${q(schema)}."${d.name}"`);
  }
  try {
    return await work();
  } finally {
    await pg.query(`SET maintenance_work_mem = '256MB'`);
    // An index of the partitioned journal (sql/014) reads back as `ON ONLY`: made again on the
    // table and every partition.
    for (const d of defs) {
      await pg.query(d.kind === 'constraint' ? `ALTER TABLE ${d.rel} ADD CONSTRAINT "${d.name}" ${d.def}` : d.def.replace(' ON ONLY ', ' ON '));
    }
    await pg.query(`RESET maintenance_work_mem`);
  }
};
