-- Recovery metrics (`orbit stats`) read every run.resumed event; resumptions are rare, so a
-- partial index keeps that read small however long the journal grows.
CREATE INDEX run_events_resumed ON __SCHEMA__.run_events (occurred_at) WHERE type = 'run.resumed';
