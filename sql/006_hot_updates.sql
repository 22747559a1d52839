-- Every append updates its run's row and one or two step rows. Leave room on each page and keep
-- indexes off the columns that change at every step, so those updates are HOT (heap-only: no
-- index entries rewritten). Detection reads the unfinished runs through a partial index on
-- status, whose rows change only when a run starts or ends; its cost still follows the number
-- of unfinished runs, never the length of the journal.
ALTER TABLE __SCHEMA__.runs SET (fillfactor = 80);
ALTER TABLE __SCHEMA__.steps SET (fillfactor = 80);
DROP INDEX __SCHEMA__.runs_unfinished_by_activity;
CREATE INDEX runs_unfinished ON __SCHEMA__.runs (status) WHERE status IN ('pending', 'running');
