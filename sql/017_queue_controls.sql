-- Queue controls (docs/WORKER.md, issue 19 item 5).
--
-- run_priorities: a queued run's priority (`enqueueRun(…, { priority })`, `orbit run --queue
-- --priority N`). Workers claim the highest priority first, then the oldest; a run without a row has
-- priority 0. Written by enqueueRun just before the run's creation is journaled.
CREATE TABLE __SCHEMA__.run_priorities (
  run_id   text    PRIMARY KEY,
  priority integer NOT NULL
);

-- dedup_keys: a deduplication key of a pipeline (`enqueueRun(…, { dedupKey })`, `orbit run --queue
-- --dedup-key K`) and the run it names. While that run has not ended (pending, running), an enqueue
-- with the same pipeline and key returns it instead of creating a second run; once it has ended
-- (success, failed, cancelled) the next enqueue takes the key over for its new run. One row per
-- key: the unique key is what makes two concurrent enqueues agree on one run.
CREATE TABLE __SCHEMA__.dedup_keys (
  pipeline_id text        NOT NULL,
  dedup_key   text        NOT NULL,
  run_id      text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline_id, dedup_key)
);
