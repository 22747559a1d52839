-- A wait step turns away an event whose data its codec does not decode (`event.rejected`, docs/
-- PIPELINES.md "Waiting for an event"): the event leaves the run's inbox unused and the step waits
-- on. Until now such data failed the step for good, and the event stayed in the inbox, so even
-- `orbit resume --retry-failed` took it again and failed again. A run-level event, like
-- `event.received`: it neither starts nor ends a run, and names its step in its payload.
INSERT INTO __SCHEMA__.event_rules (type, starts_run, ends_run, reopenable, reopens, step_event) VALUES
  ('event.rejected', false, false, false, false, false);
