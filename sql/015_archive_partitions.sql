-- Archive by partition (issue 22 item 5; docs/OPERATIONS.md, "Journal partitions"): when an
-- archive holds every run of a past month's partition, `orbit archive` drops the partition instead
-- of deleting its rows one run at a time.
--
-- 1. journal_month_partitions lists the monthly partitions (run_events_YYYY_MM, sql/014) whose
--    month is over (no Orbit run id made now can fall in them), with their bounds. Every role may
--    call it: it reads the catalogs only.
-- 2. archive_drop_partition (SECURITY DEFINER, owned by the role that migrates, EXECUTE granted to
--    nobody, like archive_remove_runs) drops one such partition, in one transaction, only when the
--    runs given are exactly the runs in it: every run in the partition is given and every given
--    run is in it, each with exactly its seqs 1..last_seq, its event at last_seq is the archive's
--    head, and its runs row says finished. Each run gets its archive_ledger row and loses its
--    projection rows as with archive_remove_runs; the partition is locked against appends while it
--    is checked, then dropped (a short exclusive lock of run_events). Anything else: 'kept', and
--    nothing changed (the archive then removes those runs row by row).
-- 3. A journal that was empty when 014 partitioned it (a new install) keeps no pre-014 partition:
--    that one covered every id below next month, so no earlier month could have a partition of
--    its own. Its month becomes a monthly partition like any other.
-- 4. journal_add_partitions stays as it was (sql/014); `orbit migrate` and `orbit archive` call it.

DO $$
BEGIN
  IF to_regclass('__SCHEMA__.run_events_before_partitioning') IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM __SCHEMA__.run_events_before_partitioning) THEN
    ALTER TABLE __SCHEMA__.run_events DETACH PARTITION __SCHEMA__.run_events_before_partitioning;
    DROP TABLE __SCHEMA__.run_events_before_partitioning;
  END IF;
END
$$;
SELECT __SCHEMA__.journal_add_partitions(now(), 13);

CREATE FUNCTION __SCHEMA__.journal_month_partitions()
RETURNS TABLE (name text, lo text, hi text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT m.name, __SCHEMA__.run_id_at(m.month), __SCHEMA__.run_id_at(m.month + interval '1 month')
    FROM (SELECT c.relname::text AS name,
                 to_date(substr(c.relname, 12), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC' AS month
            FROM pg_catalog.pg_inherits i
            JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '__SCHEMA__.run_events'::regclass
             AND c.relname ~ '^run_events_[0-9]{4}_[0-9]{2}$') m
   WHERE m.month + interval '1 month' <= now()
   ORDER BY m.name
$$;

CREATE FUNCTION __SCHEMA__.archive_drop_partition(
  p_manifest_digest text,
  p_location        text,
  p_partition       text,
  p_run_ids         text[],
  p_last_seqs       integer[],
  p_head_hashes     bytea[]
) RETURNS TABLE (outcome text, runs integer, events bigint, bytes bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_rel    regclass;
  v_bad    bigint;
  v_events bigint;
  v_bytes  bigint;
BEGIN
  IF cardinality(p_run_ids) IS DISTINCT FROM cardinality(p_last_seqs)
     OR cardinality(p_run_ids) IS DISTINCT FROM cardinality(p_head_hashes) THEN
    RAISE EXCEPTION 'archive refused: run ids, last seqs and head hashes differ in number' USING ERRCODE = 'check_violation';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM __SCHEMA__.journal_month_partitions() m WHERE m.name = p_partition) THEN
    -- Not a monthly partition whose month is over (or already dropped).
    RETURN QUERY SELECT 'kept'::text, 0, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  v_rel := ('__SCHEMA__.' || quote_ident(p_partition))::regclass;
  -- No append into the partition until it is dropped (or this transaction ends).
  EXECUTE format('LOCK TABLE %s IN SHARE MODE', v_rel);

  -- The partition's runs are exactly the given ones, each with exactly seqs 1..last_seq.
  EXECUTE format(
    'SELECT count(*) FROM (SELECT e.run_id, count(*) AS n, max(e.seq) AS m FROM %s e GROUP BY e.run_id) j
       FULL JOIN unnest($1, $2) AS g(id, last) ON g.id = j.run_id
      WHERE j.run_id IS NULL OR g.id IS NULL OR j.n <> g.last OR j.m <> g.last', v_rel)
    INTO v_bad USING p_run_ids, p_last_seqs;
  IF v_bad = 0 THEN
    -- Each head is the archive's.
    EXECUTE format(
      'SELECT count(*) FROM unnest($1, $2, $3) AS g(id, last, head)
         LEFT JOIN %s e ON e.run_id = g.id AND e.seq = g.last
        WHERE e.hash IS DISTINCT FROM g.head', v_rel)
      INTO v_bad USING p_run_ids, p_last_seqs, p_head_hashes;
  END IF;
  IF v_bad = 0 THEN
    -- Each is finished (and stays so: its rows are locked until the drop commits).
    PERFORM 1 FROM __SCHEMA__.runs r WHERE r.id = ANY (p_run_ids) FOR UPDATE;
    SELECT count(*) INTO v_bad
      FROM unnest(p_run_ids) AS g(id)
      LEFT JOIN __SCHEMA__.runs r ON r.id = g.id
     WHERE r.status IS NULL OR r.status NOT IN ('success', 'failed', 'cancelled');
  END IF;
  IF v_bad <> 0 THEN
    RETURN QUERY SELECT 'kept'::text, 0, 0::bigint, 0::bigint;
    RETURN;
  END IF;

  INSERT INTO __SCHEMA__.archive_ledger (run_id, events, last_seq, head_hash, manifest_digest, location, archived_by)
  SELECT g.id, g.last, g.last, g.head, p_manifest_digest, p_location, session_user
    FROM unnest(p_run_ids, p_last_seqs, p_head_hashes) AS g(id, last, head);
  DELETE FROM __SCHEMA__.steps s WHERE s.run_id = ANY (p_run_ids);
  DELETE FROM __SCHEMA__.runs r WHERE r.id = ANY (p_run_ids);
  SELECT coalesce(sum(g.last), 0) INTO v_events FROM unnest(p_last_seqs) AS g(last);
  v_bytes := pg_catalog.pg_total_relation_size(v_rel);
  EXECUTE format('DROP TABLE %s', v_rel);
  RETURN QUERY SELECT 'dropped'::text, cardinality(p_run_ids), v_events, v_bytes;
END
$$;

REVOKE ALL ON FUNCTION __SCHEMA__.archive_drop_partition(text, text, text, text[], integer[], bytea[]) FROM PUBLIC;
