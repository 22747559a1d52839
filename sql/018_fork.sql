-- Forked runs (issue 19 item 6): `orbit fork <runId> --from-step <step>` creates a run whose
-- run.created names the source (payload forkedFrom: {runId, step}) and which takes over the
-- journaled results of the steps it does not run again, one step.reused event each (payload:
-- result, fromRun, fromSeq), written with its creation, before its claim.
INSERT INTO __SCHEMA__.event_rules (type, starts_run, ends_run, reopenable, reopens, step_event) VALUES
  ('step.reused', false, false, false, false, true);
