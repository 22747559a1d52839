-- Archive and trim (issue 22 item 4; docs/OPERATIONS.md, "Retention"). `orbit archive` writes
-- finished runs to a verified export, then removes them here through archive_remove_runs, the one
-- path by which journal rows ever leave run_events:
--
-- 1. archive_ledger records every removal (which run, its head, the archive manifest's sha256,
--    where it was written, when, by which login). It is append-only like the journal, and
--    `verify` reads it (through archived_runs, executable by every role) so an archived run is
--    reported as archived, not as deleted.
-- 2. archive_remove_runs is SECURITY DEFINER and owned by the role that migrates; EXECUTE is not
--    granted to PUBLIC, so the runtime role cannot call it. It removes a run only when it is
--    finished and its journal head is the one the archive holds.
-- 3. The append-only trigger lets a DELETE through only while that function runs (it sets
--    orbit.archive_removal for its own duration) and only for the table's owner: for every other
--    role run_events stays append-only, and TRUNCATE and UPDATE stay refused for everyone.

CREATE TABLE __SCHEMA__.archive_ledger (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id          text        NOT NULL,
  events          integer     NOT NULL,
  last_seq        integer     NOT NULL,
  head_hash       bytea       NOT NULL,
  -- sha256 (hex) of the archive's manifest line, as written to the file.
  manifest_digest text        NOT NULL CHECK (manifest_digest ~ '^[0-9a-f]{64}$'),
  -- Where the archive was written, as the archiver named it.
  location        text        NOT NULL,
  archived_at     timestamptz NOT NULL DEFAULT now(),
  archived_by     text        NOT NULL DEFAULT session_user
);

CREATE INDEX archive_ledger_by_run ON __SCHEMA__.archive_ledger (run_id, id);

COMMENT ON TABLE __SCHEMA__.archive_ledger IS
  'Append-only record of every run removed from run_events by archive_remove_runs (orbit archive).';

CREATE FUNCTION __SCHEMA__.reject_ledger_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'archive_ledger is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER archive_ledger_no_update BEFORE UPDATE OR DELETE ON __SCHEMA__.archive_ledger
  FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.reject_ledger_change();
CREATE TRIGGER archive_ledger_no_truncate BEFORE TRUNCATE ON __SCHEMA__.archive_ledger
  FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_ledger_change();

-- The journal's append-only trigger, with the one exception: a DELETE made by the owner while
-- archive_remove_runs runs (the setting is scoped to that function's execution).
CREATE OR REPLACE FUNCTION __SCHEMA__.reject_journal_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('orbit.archive_removal', true) = 'on'
     AND pg_catalog.pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'run_events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- Removes archived runs: for each run, its journal, its projection rows, and one ledger row.
-- A run that is not finished, or whose head is not the archive's (it changed since the export),
-- is left as it is ('changed'); one already removed under this manifest is 'already archived'
-- (a resumed archive). The arrays are parallel, one element per run.
CREATE FUNCTION __SCHEMA__.archive_remove_runs(
  p_manifest_digest text,
  p_location        text,
  p_run_ids         text[],
  p_last_seqs       integer[],
  p_head_hashes     bytea[]
) RETURNS TABLE (run_id text, outcome text, events integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET orbit.archive_removal = 'on' AS $$
DECLARE
  v_id     text;
  v_status text;
  v_last   integer;
  v_hash   bytea;
  v_count  integer;
BEGIN
  IF cardinality(p_run_ids) IS DISTINCT FROM cardinality(p_last_seqs)
     OR cardinality(p_run_ids) IS DISTINCT FROM cardinality(p_head_hashes) THEN
    RAISE EXCEPTION 'archive refused: run ids, last seqs and head hashes differ in number' USING ERRCODE = 'check_violation';
  END IF;
  FOR i IN 1 .. coalesce(cardinality(p_run_ids), 0) LOOP
    v_id := p_run_ids[i];
    SELECT r.status INTO v_status FROM __SCHEMA__.runs r WHERE r.id = v_id FOR UPDATE;
    IF NOT FOUND THEN
      IF EXISTS (SELECT 1 FROM __SCHEMA__.archive_ledger l WHERE l.run_id = v_id AND l.manifest_digest = p_manifest_digest)
         AND NOT EXISTS (SELECT 1 FROM __SCHEMA__.run_events ev WHERE ev.run_id = v_id) THEN
        RETURN QUERY SELECT v_id, 'already archived'::text, 0;
      ELSE
        RETURN QUERY SELECT v_id, 'changed'::text, 0;
      END IF;
      CONTINUE;
    END IF;
    SELECT ev.seq, ev.hash INTO v_last, v_hash FROM __SCHEMA__.run_events ev
     WHERE ev.run_id = v_id ORDER BY ev.seq DESC LIMIT 1;
    IF v_status NOT IN ('success', 'failed', 'cancelled')
       OR v_last IS DISTINCT FROM p_last_seqs[i] OR v_hash IS DISTINCT FROM p_head_hashes[i] THEN
      RETURN QUERY SELECT v_id, 'changed'::text, 0;
      CONTINUE;
    END IF;
    DELETE FROM __SCHEMA__.run_events ev WHERE ev.run_id = v_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    DELETE FROM __SCHEMA__.steps s WHERE s.run_id = v_id;
    DELETE FROM __SCHEMA__.runs r WHERE r.id = v_id;
    INSERT INTO __SCHEMA__.archive_ledger (run_id, events, last_seq, head_hash, manifest_digest, location, archived_by)
    VALUES (v_id, v_count, v_last, v_hash, p_manifest_digest, p_location, session_user);
    RETURN QUERY SELECT v_id, 'archived'::text, v_count;
  END LOOP;
END
$$;

REVOKE ALL ON FUNCTION __SCHEMA__.archive_remove_runs(text, text, text[], integer[], bytea[]) FROM PUBLIC;

-- What `verify` needs from the ledger, for any role that can use the schema (no grant on the
-- table needed): the latest ledger row of each run asked for.
CREATE FUNCTION __SCHEMA__.archived_runs(p_run_ids text[])
RETURNS TABLE (run_id text, events integer, last_seq integer, head_hash text, manifest_digest text, location text,
               archived_at timestamptz, archived_by text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT DISTINCT ON (l.run_id) l.run_id, l.events, l.last_seq, encode(l.head_hash, 'hex'), l.manifest_digest, l.location,
         l.archived_at, l.archived_by
    FROM __SCHEMA__.archive_ledger l
   WHERE l.run_id = ANY(p_run_ids)
   ORDER BY l.run_id, l.id DESC
$$;
