-- The runs page's search by metadata value (`orbit ui`, `searchRuns({ search })`, issue 21): "a
-- top-level metadata field equals this" had no index, so a value few runs have walked every run
-- (10.9 s at a million runs). This indexes each run's top-level scalar values (strings, numbers,
-- booleans; not nested objects or arrays, not keys) as a jsonb array, and the search asks for
-- containment (src/queries/listRunPage.ts repeats the expression exactly, or the index is not
-- used): `… @> '["customer-42"]'` or `@> '[42]'`. jsonb_path_ops hashes each value, so a value of
-- any length is indexed (a text[] index would refuse long ones).
--
-- Every step updates its run's row, not HOT (last_event_at is indexed), so the index takes its
-- entries again at every step. The pending list (fastupdate) keeps that cheap: an update appends
-- to the list, merged into the tree in batches by autovacuum or by the writer that fills it. Kept
-- small (256 kB, about 2,500 row versions, merged in about 4 ms; the default 4 MB takes about
-- 30 ms) because that writer's step waits for the merge and every search reads the whole list.
-- Server CPU per row update, measured: +4–6 µs with this, +13 µs with fastupdate off
-- (docs/PERFORMANCE.md, UI).
CREATE INDEX runs_by_metadata_value ON __SCHEMA__.runs
  USING gin (jsonb_path_query_array(metadata, 'strict $.* ? (@.type() == "string" || @.type() == "number" || @.type() == "boolean")', '{}', true) jsonb_path_ops)
  WITH (gin_pending_list_limit = 256);

-- The planner picks the index or the walk back by started_at from this index's statistics (a
-- value few runs have: the index; one many have: the walk, which fills a page at once). A new
-- index has none until the table is analyzed, and without them every search walks: on a schema
-- that already holds runs, that is the 10 s search again until autovacuum gets to it.
ANALYZE __SCHEMA__.runs;
