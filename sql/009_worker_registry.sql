-- The workers' registry (docs/WORKER.md). None of this is history: the journal still records every
-- run's creation and claim; these rows say which workers are alive to claim a queued run.

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
