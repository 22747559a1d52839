-- The queue's controls and the workers' registry (docs/WORKER.md). None of this is history: the
-- journal still records every run's creation and claim; these rows say when and by whom a queued
-- run may be claimed, and which workers are alive to claim it.

-- Every running worker (`orbit worker`, startWorker), idle or busy, heartbeated by the worker
-- itself: alive while alive_until is ahead of the database clock. `pipelines` maps each pipeline
-- the worker can execute to its definition hash, so the claim takes only runs it can execute and
-- anyone can see which queued runs no live worker can.
CREATE TABLE __SCHEMA__.worker_registry (
  id           text        PRIMARY KEY,
  host         text        NOT NULL,
  pid          integer     NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  alive_until  timestamptz NOT NULL,
  concurrency  integer     NOT NULL CHECK (concurrency > 0),
  pipelines    jsonb       NOT NULL DEFAULT '{}'
);

-- When, in which order and how often a queued run may be claimed; one row per queued run that has
-- any of these (a run queued without them has none). Written just before the run's creation.
--   run_at          not claimed before this moment (database clock); null: at once
--   priority        higher first; ties oldest first
--   dedup_key       one unfinished run per key: a second enqueue with the key gets the first run
CREATE TABLE __SCHEMA__.queue_entries (
  run_id      text        PRIMARY KEY,
  run_at      timestamptz,
  priority    integer     NOT NULL DEFAULT 0,
  dedup_key   text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX queue_entries_dedup ON __SCHEMA__.queue_entries (dedup_key) WHERE dedup_key IS NOT NULL;

-- Cron schedules: from a pipeline's definition (source 'pipeline', written by the workers that
-- register it) or added by `orbit schedule add` (source 'cli'). last_tick_at is the latest tick a
-- run was started for; each tick's run has an id derived from (schedule, tick), so it is created
-- exactly once however many workers see the tick.
CREATE TABLE __SCHEMA__.schedules (
  name         text        PRIMARY KEY,
  pipeline_id  text        NOT NULL,
  cron         text        NOT NULL,
  time_zone    text        NOT NULL DEFAULT 'UTC',
  metadata     jsonb       NOT NULL DEFAULT '{}',
  source       text        NOT NULL CHECK (source IN ('pipeline', 'cli')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_tick_at timestamptz
);
