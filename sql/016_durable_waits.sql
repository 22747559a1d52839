-- Runs that wait (issue 19 items 1, 2 and 7; docs/PIPELINES.md "Sleep steps" and "Waiting for an
-- event"). A sleeping or waiting step is one more state of a step; a run whose only open steps
-- sleep or wait is suspended: it holds no worker, no lease, and is not interrupted. Workers wake
-- it at the time kept in steps.next_retry_at (its end, or its timeout) through their deadline
-- timer, and at once when an event it waits for is journaled.
INSERT INTO __SCHEMA__.event_rules (type, starts_run, ends_run, reopenable, reopens, step_event) VALUES
  ('step.sleeping',  false, false, false, false, true),
  ('step.waiting',   false, false, false, false, true),
  ('run.suspended',  false, false, false, false, false),
  ('event.received', false, false, false, false, false);

ALTER TABLE __SCHEMA__.runs DROP CONSTRAINT runs_status_check;
ALTER TABLE __SCHEMA__.runs ADD CONSTRAINT runs_status_check
  CHECK (status IN ('pending', 'running', 'success', 'failed', 'cancelled', 'sleeping', 'waiting'));
ALTER TABLE __SCHEMA__.steps DROP CONSTRAINT steps_status_check;
ALTER TABLE __SCHEMA__.steps ADD CONSTRAINT steps_status_check
  CHECK (status IN ('pending', 'running', 'success', 'failed', 'retrying', 'sleeping', 'waiting'));

-- The next wake-up (workers' deadline timer) and the runs due now: the earliest end or timeout
-- of a sleeping or waiting step.
CREATE INDEX steps_suspended_by_time ON __SCHEMA__.steps (next_retry_at) WHERE status IN ('sleeping', 'waiting');
