-- Delayed queued runs (docs/WORKER.md, `enqueueRun(…, { runAt })`, `orbit run --queue --at`): a
-- queued run with a row here waits on the queue until run_at (database clock); workers do not claim
-- it before, and wake at its time through their deadline timer (no polling). Written by enqueueRun
-- just before the run's creation is journaled; a run without a row is due at once.
CREATE TABLE __SCHEMA__.delayed_runs (
  run_id text        PRIMARY KEY,
  run_at timestamptz NOT NULL
);
CREATE INDEX delayed_runs_by_time ON __SCHEMA__.delayed_runs (run_at);
