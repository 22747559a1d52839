-- Map steps (issue 18 item 2): each item of a map step is journaled as attempts of its own.
-- Item events carry the map step's name and the item's attempt in step_name and attempt, and the
-- item's index in their payload.
INSERT INTO __SCHEMA__.event_rules (type, starts_run, ends_run, reopenable, reopens, step_event) VALUES
  ('item.started',         false, false, false, false, true),
  ('item.succeeded',       false, false, false, false, true),
  ('item.failed',          false, false, false, false, true),
  ('item.retry_scheduled', false, false, false, false, true);
