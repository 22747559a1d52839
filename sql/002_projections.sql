-- Projections: a cache of the fold of run_events, kept current inside the appending transaction.
-- fold(journal) == these tables for every run; `orbit rebuild-projections` recreates them.

CREATE TABLE __SCHEMA__.runs (
  id              text        PRIMARY KEY,
  pipeline_id     text        NOT NULL,
  status          text        NOT NULL CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled')),
  triggered_by    text,
  metadata        jsonb       NOT NULL,
  definition_hash text        NOT NULL,
  step_names      jsonb       NOT NULL,
  started_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  -- The worker that holds the run (claimed or resumed it); NULL once released or finished.
  owner           text,
  error           text,
  recovery_count  integer     NOT NULL,
  last_seq        integer     NOT NULL,
  last_event_at   timestamptz NOT NULL
);

-- "Unfinished runs with no activity since T" scans only unfinished runs, however long the journal grows.
CREATE INDEX runs_unfinished_by_activity ON __SCHEMA__.runs (last_event_at) WHERE status IN ('pending', 'running');
CREATE INDEX runs_by_pipeline ON __SCHEMA__.runs (pipeline_id, started_at);

CREATE TABLE __SCHEMA__.steps (
  run_id        text        NOT NULL,
  name          text        NOT NULL,
  step_index    integer     NOT NULL,
  status        text        NOT NULL CHECK (status IN ('pending', 'running', 'success', 'failed', 'retrying')),
  started_at    timestamptz,
  finished_at   timestamptz,
  attempt_count integer     NOT NULL,
  error         text,
  result        jsonb,
  next_retry_at timestamptz,
  PRIMARY KEY (run_id, name)
);

-- Liveness, not history: one row per executing process, renewed by its heartbeat.
-- Kept out of the journal on purpose (see docs/ARCHITECTURE.md, "Liveness").
CREATE TABLE __SCHEMA__.workers (
  id           text        PRIMARY KEY,
  host         text        NOT NULL,
  pid          integer     NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);
