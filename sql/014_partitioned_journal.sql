-- A partitioned journal (issue 22 item 5; docs/OPERATIONS.md, "Journal partitions"), so that
-- removing archived runs at scale is dropping a partition rather than deleting rows.
--
-- 1. run_events is partitioned by RANGE (run_id), in the database's collation. Run ids made by
--    Orbit are `run_<base-36 milliseconds><random>`: they sort by creation time, so a month of runs is one
--    range of ids, one partition: run_events_YYYY_MM holds the runs created in that month (UTC).
--    The (run_id, seq) key, the per-run chain and the seq fence are unchanged: a run's events all
--    live in one partition, and the key includes the partition key.
-- 2. run_events_default (the DEFAULT partition) takes any run id outside every month's range: ids
--    given by users (`--run-id order-42`), or Orbit ids of a month whose partition does not exist
--    yet. They work the same; they are only removed by row deletion when archived.
-- 3. run_events_before_partitioning is the journal as it was before this migration, attached as
--    it is (no copy): ids below the first month's partition. Rows of the old table above that
--    bound (user-given ids that sort higher) move to the DEFAULT partition.
-- 4. position stays the global order (identity, continued from the old sequence); it is indexed,
--    no longer a primary key (a unique key of a partitioned table must include run_id).
-- 5. Every invariant trigger is on the partitioned table: the row trigger refusing UPDATE and
--    DELETE is cloned to every partition by PostgreSQL; the statement triggers (TRUNCATE, direct
--    INSERT) are added to every partition too, as journal_add_partitions creates it. Partitions
--    carry no grants: other roles reach the rows only through run_events.
-- 6. journal_add_partitions (SECURITY DEFINER, owned by the role that migrates; EXECUTE granted to
--    nobody else) creates the monthly partitions ahead of time. `orbit migrate` and `orbit archive`
--    call it (12 months ahead); nothing on the append path does.

-- The run id prefix of a moment: `run_` and the milliseconds in base 36, as newRunId writes them
-- (src/executor/runId.ts). Every Orbit run id created at or after t sorts at or above it.
CREATE FUNCTION __SCHEMA__.run_id_at(t timestamptz) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  v_ms   bigint := floor(extract(epoch FROM t) * 1000)::bigint;
  v_out  text := '';
BEGIN
  IF v_ms <= 0 THEN
    RETURN 'run_0';
  END IF;
  WHILE v_ms > 0 LOOP
    v_out := substr('0123456789abcdefghijklmnopqrstuvwxyz', (v_ms % 36)::integer + 1, 1) || v_out;
    v_ms := v_ms / 36;
  END LOOP;
  RETURN 'run_' || v_out;
END
$$;

-- The old journal steps aside: its triggers and primary key go (the partitioned table's own are
-- cloned onto it when it is attached), its indexes keep their content under new names.
ALTER TABLE __SCHEMA__.run_events RENAME TO run_events_before_partitioning;
DROP TRIGGER run_events_no_update ON __SCHEMA__.run_events_before_partitioning;
DROP TRIGGER run_events_no_truncate ON __SCHEMA__.run_events_before_partitioning;
DROP TRIGGER run_events_append_guard ON __SCHEMA__.run_events_before_partitioning;
ALTER TABLE __SCHEMA__.run_events_before_partitioning
  RENAME CONSTRAINT run_events_run_seq_key TO run_events_before_partitioning_run_seq_key;
ALTER INDEX __SCHEMA__.run_events_resumed RENAME TO run_events_before_partitioning_resumed;
ALTER TABLE __SCHEMA__.run_events_before_partitioning DROP CONSTRAINT run_events_pkey;

CREATE TABLE __SCHEMA__.run_events (
  position    bigint      GENERATED ALWAYS AS IDENTITY,
  run_id      text        NOT NULL,
  seq         integer     NOT NULL CONSTRAINT run_events_seq_check CHECK (seq > 0),
  type        text        NOT NULL CONSTRAINT run_events_type_check CHECK (type ~ '^[a-z]+(\.[a-z_]+)+$'),
  step_name   text,
  attempt     integer     CONSTRAINT run_events_attempt_check CHECK (attempt > 0),
  payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  occurred_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  writer      text        NOT NULL,
  event_id    uuid        NOT NULL,
  hash        bytea       NOT NULL,
  CONSTRAINT run_events_run_seq_key UNIQUE (run_id, seq)
) PARTITION BY RANGE (run_id);

COMMENT ON TABLE __SCHEMA__.run_events IS
  'Append-only journal of Orbit runs, partitioned by run id (creation month). position: global order; seq: per-run order from 1; hash: sha256 chained to the run''s previous event.';

CREATE INDEX run_events_position ON __SCHEMA__.run_events (position);
CREATE INDEX run_events_resumed ON __SCHEMA__.run_events (occurred_at) WHERE type = 'run.resumed';

CREATE TRIGGER run_events_no_update BEFORE UPDATE OR DELETE ON __SCHEMA__.run_events
  FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.reject_journal_change();
CREATE TRIGGER run_events_no_truncate BEFORE TRUNCATE ON __SCHEMA__.run_events
  FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_journal_change();
CREATE TRIGGER run_events_append_guard BEFORE INSERT ON __SCHEMA__.run_events
  FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.guard_journal_insert();

-- The statement triggers a partition needs of its own (a row trigger is cloned by PostgreSQL).
CREATE FUNCTION __SCHEMA__.guard_journal_partition(p_partition regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  EXECUTE format('CREATE TRIGGER run_events_no_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_journal_change()',
                 p_partition);
  EXECUTE format('CREATE TRIGGER run_events_append_guard BEFORE INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.guard_journal_insert()',
                 p_partition);
END
$$;
REVOKE ALL ON FUNCTION __SCHEMA__.guard_journal_partition(regclass) FROM PUBLIC;

-- Whoever could read the old journal reads the new one (INSERT was revoked from everyone but the
-- owner by 008 and stays so); the old table, now a partition, keeps no grants of its own.
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(g.rolname) END AS who
      FROM pg_catalog.pg_class c
      CROSS JOIN LATERAL aclexplode(c.relacl) a
      LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee
     WHERE c.oid = '__SCHEMA__.run_events_before_partitioning'::regclass AND a.grantee <> c.relowner
  LOOP
    IF r.privilege_type <> 'INSERT' THEN
      EXECUTE format('GRANT %s ON __SCHEMA__.run_events TO %s', r.privilege_type, r.who);
    END IF;
    EXECUTE format('REVOKE %s ON __SCHEMA__.run_events_before_partitioning FROM %s', r.privilege_type, r.who);
  END LOOP;
END
$$;

CREATE TABLE __SCHEMA__.run_events_default PARTITION OF __SCHEMA__.run_events DEFAULT;
SELECT __SCHEMA__.guard_journal_partition('__SCHEMA__.run_events_default'::regclass);

-- The old rows keep their positions; new ones continue after the old sequence (never below it,
-- so a reader tailing by position misses nothing), then the old table attaches as a partition.
DO $$
DECLARE
  v_bound text := __SCHEMA__.run_id_at(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 month');
  v_next  bigint;
BEGIN
  SELECT greatest(coalesce((SELECT max(position) FROM __SCHEMA__.run_events_before_partitioning), 0),
                  (SELECT CASE WHEN s.is_called THEN s.last_value ELSE s.last_value - 1 END
                     FROM __SCHEMA__.run_events_position_seq s)) + 1
    INTO v_next;
  ALTER TABLE __SCHEMA__.run_events_before_partitioning ALTER COLUMN position DROP IDENTITY;
  EXECUTE format('ALTER SEQUENCE %s RENAME TO run_events_position_seq', pg_get_serial_sequence('__SCHEMA__.run_events', 'position'));
  EXECUTE format('ALTER TABLE __SCHEMA__.run_events ALTER COLUMN position RESTART WITH %s', v_next);

  -- OVERRIDING SYSTEM VALUE: on PostgreSQL 17+ a partition inherits the identity of position and
  -- refuses the old rows' explicit values without it.
  INSERT INTO __SCHEMA__.run_events_default OVERRIDING SYSTEM VALUE
  SELECT * FROM __SCHEMA__.run_events_before_partitioning WHERE run_id >= v_bound;
  DELETE FROM __SCHEMA__.run_events_before_partitioning WHERE run_id >= v_bound;

  EXECUTE format('ALTER TABLE __SCHEMA__.run_events ATTACH PARTITION __SCHEMA__.run_events_before_partitioning FOR VALUES FROM (MINVALUE) TO (%L)',
                 v_bound);
  PERFORM __SCHEMA__.guard_journal_partition('__SCHEMA__.run_events_before_partitioning'::regclass);
END
$$;

-- Monthly partitions from the month of p_from, p_months of them. A month that exists, overlaps
-- another partition (the one before partitioning), or already has rows in the DEFAULT partition
-- is skipped (those runs stay where they are). Returns the partitions it created.
CREATE FUNCTION __SCHEMA__.journal_add_partitions(p_from timestamptz, p_months integer)
RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_month timestamptz;
  v_lo    text;
  v_hi    text;
  v_name  text;
BEGIN
  FOR i IN 0 .. p_months - 1 LOOP
    v_month := (date_trunc('month', p_from AT TIME ZONE 'UTC') + make_interval(months => i)) AT TIME ZONE 'UTC';
    v_name  := 'run_events_' || to_char(v_month AT TIME ZONE 'UTC', 'YYYY_MM');
    CONTINUE WHEN to_regclass('__SCHEMA__.' || quote_ident(v_name)) IS NOT NULL;
    v_lo := __SCHEMA__.run_id_at(v_month);
    v_hi := __SCHEMA__.run_id_at(v_month + interval '1 month');
    CONTINUE WHEN EXISTS (SELECT 1 FROM __SCHEMA__.run_events_default d
                           WHERE d.run_id >= v_lo AND d.run_id < v_hi);
    BEGIN
      EXECUTE format('CREATE TABLE __SCHEMA__.%I PARTITION OF __SCHEMA__.run_events FOR VALUES FROM (%L) TO (%L)',
                     v_name, v_lo, v_hi);
    EXCEPTION WHEN invalid_object_definition THEN
      CONTINUE;  -- overlaps another partition
    END;
    PERFORM __SCHEMA__.guard_journal_partition(('__SCHEMA__.' || quote_ident(v_name))::regclass);
    RETURN NEXT v_name;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION __SCHEMA__.journal_add_partitions(timestamptz, integer) FROM PUBLIC;

SELECT __SCHEMA__.journal_add_partitions(now(), 13);
