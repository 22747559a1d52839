-- Archive removes every per-run row (issue 22 item 4; docs/OPERATIONS.md, "Retention"). The
-- removal functions of 011/015/020 removed a run's journal, `runs` and `steps` rows but left the
-- run's rows in the tables added later with a run_id column: dedup_keys (017), run_priorities
-- (017), delayed_runs (013) and schedule_ticks (019). They now go in the same owner-only
-- functions, in the same transaction as the run's journal:
--
-- 1. delayed_runs, run_priorities: a queued run's start time and priority; nothing reads them once
--    the run has started, and an archived run has finished.
-- 2. dedup_keys: a key naming a finished run refuses nothing (the next enqueue takes it over,
--    sql/017), so the row of an archived run goes. Only a row still naming the run goes: a key
--    taken over by a newer run since is that run's.
-- 3. schedule_ticks: each archived run's tick goes, except the latest tick of its schedule. That
--    row is the schedule's cursor (a starting worker continues from max(tick_at): src/worker/
--    scheduler.ts); without it a schedule whose ticks were all archived would count its missed
--    ticks from its creation, and catch-up 'last' would queue a tick that already ran. That one
--    row per schedule stays, naming the archived run.
-- 4. archive_drop_partition's checks are 020's. Its "two reads" of the partition are an
--    index-only scan of (run_id, seq) and one index probe per run for its head's hash; one
--    grouped pass joined to the archive's runs must read every event's row for its hash, and
--    measured slower (100k runs, 1.1M events, PG15: 1.06-1.18 s against 0.57-0.61 s for both;
--    docs/PERFORMANCE.md).
-- dedup_keys and schedule_ticks get an index on run_id (each run's rows are found by it; their
-- keys start with other columns). Signatures, grants (none: owner only) and results unchanged.

CREATE INDEX dedup_keys_by_run ON __SCHEMA__.dedup_keys (run_id);
CREATE INDEX schedule_ticks_by_run ON __SCHEMA__.schedule_ticks (run_id);

CREATE OR REPLACE FUNCTION __SCHEMA__.archive_remove_runs(
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
    DELETE FROM __SCHEMA__.delayed_runs d WHERE d.run_id = v_id;
    DELETE FROM __SCHEMA__.run_priorities p WHERE p.run_id = v_id;
    DELETE FROM __SCHEMA__.dedup_keys k WHERE k.run_id = v_id;
    DELETE FROM __SCHEMA__.schedule_ticks t WHERE t.run_id = v_id
       AND t.tick_at < (SELECT max(x.tick_at) FROM __SCHEMA__.schedule_ticks x WHERE x.schedule_id = t.schedule_id);
    DELETE FROM __SCHEMA__.runs r WHERE r.id = v_id;
    INSERT INTO __SCHEMA__.archive_ledger (run_id, events, last_seq, head_hash, manifest_digest, location, archived_by)
    VALUES (v_id, v_count, v_last, v_hash, p_manifest_digest, p_location, session_user);
    RETURN QUERY SELECT v_id, 'archived'::text, v_count;
  END LOOP;
END
$$;

REVOKE ALL ON FUNCTION __SCHEMA__.archive_remove_runs(text, text, text[], integer[], bytea[]) FROM PUBLIC;

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

  -- 1. The partition's runs are exactly the given ones, each with exactly seqs 1..last_seq (an
  -- index-only scan of (run_id, seq)).
  EXECUTE format(
    'SELECT count(*) FROM (SELECT e.run_id, count(*) AS n, max(e.seq) AS m FROM %s e GROUP BY e.run_id) j
       FULL JOIN unnest($1, $2) AS g(id, last) ON g.id = j.run_id
      WHERE j.run_id IS NULL OR g.id IS NULL OR j.n <> g.last OR j.m <> g.last', v_rel)
    INTO v_bad USING p_run_ids, p_last_seqs;
  IF v_bad = 0 THEN
    -- Each head is the archive's (one index probe per run, reading its head event's row).
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
  DELETE FROM __SCHEMA__.delayed_runs d WHERE d.run_id >= v_lo AND d.run_id < v_hi;
  DELETE FROM __SCHEMA__.run_priorities p WHERE p.run_id >= v_lo AND p.run_id < v_hi;
  DELETE FROM __SCHEMA__.dedup_keys k WHERE k.run_id >= v_lo AND k.run_id < v_hi;
  DELETE FROM __SCHEMA__.schedule_ticks t WHERE t.run_id >= v_lo AND t.run_id < v_hi
     AND t.tick_at < (SELECT max(x.tick_at) FROM __SCHEMA__.schedule_ticks x WHERE x.schedule_id = t.schedule_id);
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
