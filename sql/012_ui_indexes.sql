-- The dashboard (`orbit ui`) pages through runs newest first with a keyset (started_at, id), all
-- of them or one status at a time, and counts runs per status: each is an index range scan, so the
-- runs page costs the same at a million runs as at a hundred.
CREATE INDEX runs_by_start ON __SCHEMA__.runs (started_at, id);
CREATE INDEX runs_by_status_start ON __SCHEMA__.runs (status, started_at, id);
