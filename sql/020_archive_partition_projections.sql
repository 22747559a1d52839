-- Archive by partition, projections by range (issue 22 items 4–5; docs/OPERATIONS.md, "Journal
-- partitions"). archive_drop_partition (sql/015) locked every archived run's `runs` row by id
-- (`= ANY` of the whole month's ids), then deleted `steps` and `runs` by id the same way: at a
-- million runs that is millions of index probes and every row written twice (lock, then delete),
-- far more than the DROP of the journal partition it goes with. Here the projection rows go by
-- the partition's run-id range instead, one statement per table, and the checks read that range.
--
-- 1. The journal partition's runs are exactly the runs given, each with seqs 1..last_seq and the
--    archive's head (as in 015).
-- 2. The `runs` rows in the partition's range are exactly the runs given, each finished. A `runs`
--    row in the range that is not given (a projection with no journal in this partition) keeps
--    the partition: 'kept', nothing changed, as any other mismatch.
-- 3. No row lock is taken first: a run's status changes only by an append, and appends into the
--    partition wait on its SHARE lock (taken before the checks) until this transaction ends. The
--    DELETE locks each row it removes; it must remove exactly the runs given, or the function
--    raises and nothing is changed (never expected, given 2 and the lock).
-- 4. `steps` rows in the range go too, with one range DELETE (`steps` is keyed (run_id, name)):
--    after 2, they are the given runs' steps (or orphans of runs that have no `runs` row).
-- 5. The range is the partition's own bounds (journal_month_partitions), compared in the column's
--    collation as PostgreSQL routes rows to the partition, so a run id is in the range exactly
--    when its events are in the partition.
-- Signature, grants (none: owner only) and result are unchanged; every ledger row is written as
-- before, in one INSERT.

CREATE OR REPLACE FUNCTION __SCHEMA__.archive_drop_partition(
  p_manifest_digest text,
  p_location        text,
  p_partition       text,
  p_run_ids         text[],
  p_last_seqs       integer[],
  p_head_hashes     bytea[]
) RETURNS TABLE (outcome text, runs integer, events bigint, bytes bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_rel     regclass;
  v_lo      text;
  v_hi      text;
  v_bad     bigint;
  v_events  bigint;
  v_bytes   bigint;
  v_deleted bigint;
BEGIN
  IF cardinality(p_run_ids) IS DISTINCT FROM cardinality(p_last_seqs)
     OR cardinality(p_run_ids) IS DISTINCT FROM cardinality(p_head_hashes) THEN
    RAISE EXCEPTION 'archive refused: run ids, last seqs and head hashes differ in number' USING ERRCODE = 'check_violation';
  END IF;
  SELECT m.lo, m.hi INTO v_lo, v_hi FROM __SCHEMA__.journal_month_partitions() m WHERE m.name = p_partition;
  IF NOT FOUND THEN
    -- Not a monthly partition whose month is over (or already dropped).
    RETURN QUERY SELECT 'kept'::text, 0, 0::bigint, 0::bigint;
    RETURN;
  END IF;
  v_rel := ('__SCHEMA__.' || quote_ident(p_partition))::regclass;
  -- No append into the partition until it is dropped (or this transaction ends).
  EXECUTE format('LOCK TABLE %s IN SHARE MODE', v_rel);

  -- 1. The partition's runs are exactly the given ones, each with exactly seqs 1..last_seq.
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
    -- 2. The range's runs rows are exactly the given runs, each finished.
    SELECT count(*) INTO v_bad
      FROM (SELECT r.id, r.status FROM __SCHEMA__.runs r WHERE r.id >= v_lo AND r.id < v_hi) r
      FULL JOIN unnest(p_run_ids) AS g(id) ON g.id = r.id
     WHERE r.id IS NULL OR g.id IS NULL OR r.status NOT IN ('success', 'failed', 'cancelled');
  END IF;
  IF v_bad <> 0 THEN
    RETURN QUERY SELECT 'kept'::text, 0, 0::bigint, 0::bigint;
    RETURN;
  END IF;

  INSERT INTO __SCHEMA__.archive_ledger (run_id, events, last_seq, head_hash, manifest_digest, location, archived_by)
  SELECT g.id, g.last, g.last, g.head, p_manifest_digest, p_location, session_user
    FROM unnest(p_run_ids, p_last_seqs, p_head_hashes) AS g(id, last, head);
  DELETE FROM __SCHEMA__.steps s WHERE s.run_id >= v_lo AND s.run_id < v_hi;
  DELETE FROM __SCHEMA__.runs r WHERE r.id >= v_lo AND r.id < v_hi;
  GET DIAGNOSTICS v_deleted = ROW_COUNT;
  IF v_deleted <> cardinality(p_run_ids) THEN
    RAISE EXCEPTION 'archive refused: % runs rows in the range of %, % runs given', v_deleted, p_partition, cardinality(p_run_ids)
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT coalesce(sum(g.last), 0) INTO v_events FROM unnest(p_last_seqs) AS g(last);
  v_bytes := pg_catalog.pg_total_relation_size(v_rel);
  EXECUTE format('DROP TABLE %s', v_rel);
  RETURN QUERY SELECT 'dropped'::text, cardinality(p_run_ids), v_events, v_bytes;
END
$$;

REVOKE ALL ON FUNCTION __SCHEMA__.archive_drop_partition(text, text, text, text[], integer[], bytea[]) FROM PUBLIC;
