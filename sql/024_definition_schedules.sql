-- Schedules carried by a pipeline definition (`definePipeline({ schedule })`, docs/WORKER.md
-- "Schedules"). definition_of: the pipeline whose definition owns the schedule (null for one added
-- with `orbit schedule add`). At most one per pipeline: every worker that registers the pipeline
-- upserts it on that key, so workers starting together create one row and a changed definition
-- updates it in place (same id, so its ticks and the catch-up cursor carry on).
ALTER TABLE __SCHEMA__.schedules ADD COLUMN definition_of text;
CREATE UNIQUE INDEX schedules_definition_of ON __SCHEMA__.schedules (definition_of) WHERE definition_of IS NOT NULL;
