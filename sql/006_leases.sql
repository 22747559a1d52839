-- Ownership by lease, on the database clock (docs/ARCHITECTURE.md and DESIGN "Liveness").
-- Each executing process renews its row: lease_until = now() + its lease, and `held` = exactly the
-- runs it still executes. A run it gave up on leaves `held` at once, so the lease stops covering it.
ALTER TABLE __SCHEMA__.workers
  ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN held        text[]      NOT NULL DEFAULT '{}',
  -- Who the process is on its machine: boot id, pid namespace and /proc start time. A recoverer on
  -- the same machine (same boot, same namespace) can prove the owner dead: pid gone or reused.
  ADD COLUMN identity    text;

-- The liveness rule, written once: detection, single-run checks (resume) and the worker's next
-- wake-up all call this. p_dead: owners proven gone by the caller (same host, process no longer
-- exists); the database cannot see processes, the caller cannot see the database's clock.
--   finished  not pending/running
--   queued    pending, put on the queue (`enqueueRun`): waiting for a worker, not interrupted
--   released  running, nobody holds it (graceful stop): interrupted at once
--   dead      its owner is proven gone: interrupted at once
--   leased    its owner's lease is valid and covers it: never interrupted, whatever the threshold
--   stale     no lease, and no activity (event, or heartbeat of a lease covering it) for longer than the threshold
--   waiting   no lease, still within the threshold
-- interruptible_at: the earliest moment the run can become interrupted (for the worker's wake-up).
CREATE FUNCTION __SCHEMA__.run_liveness(p_run __SCHEMA__.runs, p_threshold_ms float8, p_dead text[])
RETURNS TABLE (verdict text, last_activity_at timestamptz, interruptible_at timestamptz, lease_until timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT CASE
           WHEN p_run.status NOT IN ('pending', 'running') THEN 'finished'
           WHEN p_run.status = 'pending' AND p_run.triggered_by LIKE 'queue:%' THEN 'queued'
           WHEN p_run.status = 'running' AND p_run.owner IS NULL THEN 'released'
           WHEN p_run.owner = ANY (p_dead) THEN 'dead'
           WHEN x.covered AND w.lease_until > now() THEN 'leased'
           WHEN x.activity < now() - make_interval(secs => p_threshold_ms / 1000) THEN 'stale'
           ELSE 'waiting'
         END,
         x.activity,
         CASE
           WHEN x.covered THEN greatest(w.lease_until, x.activity + make_interval(secs => p_threshold_ms / 1000))
           ELSE x.activity + make_interval(secs => p_threshold_ms / 1000)
         END,
         CASE WHEN x.covered THEN w.lease_until END
    FROM (SELECT 1) AS one
    LEFT JOIN __SCHEMA__.workers w ON w.id = p_run.owner
   CROSS JOIN LATERAL (
     SELECT coalesce(p_run.id = ANY (w.held), false) AS covered,
            greatest(p_run.last_event_at, CASE WHEN p_run.id = ANY (w.held) THEN w.heartbeat_at END) AS activity
   ) x
$$;

-- The queue: pending runs put there by `enqueueRun`, oldest first; workers claim with SKIP LOCKED.
CREATE INDEX runs_queued ON __SCHEMA__.runs (started_at) WHERE status = 'pending' AND triggered_by LIKE 'queue:%';
