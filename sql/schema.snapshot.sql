-- The schema every migration in sql/ builds, from pg_dump --schema-only (__SCHEMA__ is the
-- schema's name and __CHANNEL__ its NOTIFY channel, as in the migrations). Generated: do not edit; after adding a migration, run
-- `npm run schema:snapshot`. test/db/schema-snapshot.test.ts fails when the two disagree.
--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: __SCHEMA__; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA __SCHEMA__;

--
-- Name: append_run_events(text, integer, text, uuid[], text[], text[], integer[], jsonb, text, timestamp with time zone, text, text, integer, timestamp with time zone, text[], text[], timestamp with time zone[], timestamp with time zone[], integer[], text[], jsonb, timestamp with time zone[], boolean, jsonb); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.append_run_events(p_run_id text, p_expected_seq integer, p_writer text, p_event_ids uuid[], p_types text[], p_step_names text[], p_attempts integer[], p_payloads jsonb, p_status text, p_finished_at timestamp with time zone, p_owner text, p_error text, p_recovery_count integer, p_last_event_at timestamp with time zone, p_step_rows text[], p_step_status text[], p_step_started timestamp with time zone[], p_step_finished timestamp with time zone[], p_step_attempts integer[], p_step_errors text[], p_step_results jsonb, p_step_next_retry timestamp with time zone[], p_notify boolean, p_created jsonb) RETURNS TABLE(outcome text, last_seq integer, committed_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
  v_now    timestamptz := date_trunc('milliseconds', now());
  v_rule   __SCHEMA__.event_rules%ROWTYPE;
  v_tail   text := 'open';   -- what the run's last event allows next: open, reopenable, final
  v_type   text;
  v_n      integer := cardinality(p_event_ids);
  v_last   integer := p_expected_seq + cardinality(p_event_ids);
  v_prev   bytea;
  v_hashes bytea[] := '{}';
BEGIN
  -- The runs row is the lock: a second writer with the same expected seq waits here, then finds
  -- last_seq moved on and reports a conflict instead of writing.
  IF p_expected_seq = 0 THEN
    INSERT INTO __SCHEMA__.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names,
                                 started_at, finished_at, owner, error, recovery_count, last_seq, last_event_at)
    VALUES (p_run_id, p_created ->> 'pipeline_id', p_status, p_created ->> 'triggered_by', p_created -> 'metadata',
            p_created ->> 'definition_hash', p_created -> 'step_names', v_now, __SCHEMA__.txn_time(p_finished_at),
            p_owner, p_error, p_recovery_count, v_last, __SCHEMA__.txn_time(p_last_event_at))
    ON CONFLICT (id) DO NOTHING;
  ELSE
    UPDATE __SCHEMA__.runs AS r SET
      status = p_status, finished_at = __SCHEMA__.txn_time(p_finished_at), owner = p_owner, error = p_error,
      recovery_count = p_recovery_count, last_seq = v_last, last_event_at = __SCHEMA__.txn_time(p_last_event_at)
    WHERE r.id = p_run_id AND r.last_seq = p_expected_seq;
  END IF;

  IF NOT FOUND THEN
    -- Either another writer won, or this is a retry of an append whose COMMIT reached the server
    -- but whose reply was lost: then its last event is at v_last, with the same id.
    RETURN QUERY
      SELECT 'duplicate'::text, ev.seq, ev.occurred_at
        FROM __SCHEMA__.run_events ev
       WHERE ev.run_id = p_run_id AND ev.seq = v_last AND ev.event_id = p_event_ids[v_n];
    IF NOT FOUND THEN
      RETURN QUERY
        SELECT 'conflict'::text, (SELECT r.last_seq FROM __SCHEMA__.runs r WHERE r.id = p_run_id), NULL::timestamptz;
    END IF;
    RETURN;
  END IF;

  -- The fence is the journal itself, not the runs row (which the runtime role may update): the
  -- event at the expected seq must exist, and the unique (run_id, seq) key refuses a second one.
  IF p_expected_seq > 0 THEN
    SELECT ev.hash, ev.type INTO v_prev, v_type FROM __SCHEMA__.run_events ev
     WHERE ev.run_id = p_run_id AND ev.seq = p_expected_seq;
    IF v_prev IS NULL THEN
      RAISE EXCEPTION 'append refused: run % has no event at seq %', p_run_id, p_expected_seq USING ERRCODE = 'check_violation';
    END IF;
    SELECT * INTO v_rule FROM __SCHEMA__.event_rules r WHERE r.type = v_type;
    v_tail := CASE WHEN NOT coalesce(v_rule.ends_run, false) THEN 'open' WHEN v_rule.reopenable THEN 'reopenable' ELSE 'final' END;
  END IF;
  -- Legality, from the rules table: a known type, run.created first and only first, nothing after
  -- a run ended (but a reopening event after a reopenable end), step columns on step events only,
  -- a JSON object as payload. Payload keys are not checked: the application's codecs own them.
  FOR i IN 1 .. v_n LOOP
    SELECT * INTO v_rule FROM __SCHEMA__.event_rules r WHERE r.type = p_types[i];
    IF NOT FOUND THEN
      RAISE EXCEPTION 'append refused: % is not an event type of this journal', p_types[i] USING ERRCODE = 'check_violation';
    END IF;
    IF v_rule.starts_run <> (p_expected_seq + i = 1) THEN
      RAISE EXCEPTION 'append refused: % at seq % (a run begins with its one creating event)', p_types[i], p_expected_seq + i
        USING ERRCODE = 'check_violation';
    END IF;
    IF v_tail = 'final' OR (v_tail = 'reopenable' AND NOT v_rule.reopens) THEN
      RAISE EXCEPTION 'append refused: run % already ended, % cannot follow', p_run_id, p_types[i] USING ERRCODE = 'check_violation';
    END IF;
    IF v_rule.step_event <> (p_step_names[i] IS NOT NULL AND p_attempts[i] IS NOT NULL)
       OR (NOT v_rule.step_event AND (p_step_names[i] IS NOT NULL OR p_attempts[i] IS NOT NULL)) THEN
      RAISE EXCEPTION 'append refused: % %', p_types[i],
        CASE WHEN v_rule.step_event THEN 'needs a step name and an attempt' ELSE 'takes no step name or attempt' END
        USING ERRCODE = 'check_violation';
    END IF;
    IF jsonb_typeof(p_payloads -> (i - 1)) IS DISTINCT FROM 'object' THEN
      RAISE EXCEPTION 'append refused: the payload of % is not a JSON object', p_types[i] USING ERRCODE = 'check_violation';
    END IF;
    v_tail := CASE WHEN NOT v_rule.ends_run THEN 'open' WHEN v_rule.reopenable THEN 'reopenable' ELSE 'final' END;
  END LOOP;
  FOR i IN 1 .. v_n LOOP
    v_prev := __SCHEMA__.event_hash(v_prev, p_run_id, p_expected_seq + i, p_types[i], p_step_names[i], p_attempts[i],
                                    p_payloads -> (i - 1), v_now, p_writer, p_event_ids[i]);
    v_hashes[i] := v_prev;
  END LOOP;

  INSERT INTO __SCHEMA__.run_events (run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id, hash)
  SELECT p_run_id, p_expected_seq + e.i::integer, e.type, e.step_name, e.attempt, p_payloads -> (e.i::integer - 1),
         v_now, p_writer, e.event_id, e.hash
    FROM unnest(p_types, p_step_names, p_attempts, p_event_ids, v_hashes)
         WITH ORDINALITY AS e(type, step_name, attempt, event_id, hash, i);

  IF p_expected_seq = 0 THEN
    INSERT INTO __SCHEMA__.steps (run_id, name, step_index, status, attempt_count)
    SELECT p_run_id, s.name, s.i::integer - 1, 'pending', 0
      FROM jsonb_array_elements_text(p_created -> 'step_names') WITH ORDINALITY AS s(name, i);
  END IF;
  FOR i IN 1 .. coalesce(cardinality(p_step_rows), 0) LOOP
    UPDATE __SCHEMA__.steps AS s SET
      status = p_step_status[i], started_at = __SCHEMA__.txn_time(p_step_started[i]),
      finished_at = __SCHEMA__.txn_time(p_step_finished[i]), attempt_count = p_step_attempts[i],
      error = p_step_errors[i], result = nullif(p_step_results -> (i - 1), 'null'::jsonb),
      next_retry_at = __SCHEMA__.txn_time(p_step_next_retry[i])
     WHERE s.run_id = p_run_id AND s.name = p_step_rows[i];
  END LOOP;

  -- Ids only: NOTIFY payloads are capped at 8000 bytes and results can be large.
  IF p_notify THEN
    PERFORM pg_notify('__CHANNEL__', json_build_object('run_id', p_run_id, 'seq', v_last, 'type', p_types[v_n])::text);
  END IF;

  RETURN QUERY SELECT 'ok'::text, v_last, v_now;
END
$$;

--
-- Name: archive_drop_partition(text, text, text, text[], integer[], bytea[]); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.archive_drop_partition(p_manifest_digest text, p_location text, p_partition text, p_run_ids text[], p_last_seqs integer[], p_head_hashes bytea[]) RETURNS TABLE(outcome text, runs integer, events bigint, bytes bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
$_$;

--
-- Name: archive_remove_runs(text, text, text[], integer[], bytea[]); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.archive_remove_runs(p_manifest_digest text, p_location text, p_run_ids text[], p_last_seqs integer[], p_head_hashes bytea[]) RETURNS TABLE(run_id text, outcome text, events integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET "orbit.archive_removal" TO 'on'
    AS $$
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

--
-- Name: archived_runs(text[]); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.archived_runs(p_run_ids text[]) RETURNS TABLE(run_id text, events integer, last_seq integer, head_hash text, manifest_digest text, location text, archived_at timestamp with time zone, archived_by text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
  SELECT DISTINCT ON (l.run_id) l.run_id, l.events, l.last_seq, encode(l.head_hash, 'hex'), l.manifest_digest, l.location,
         l.archived_at, l.archived_by
    FROM __SCHEMA__.archive_ledger l
   WHERE l.run_id = ANY(p_run_ids)
   ORDER BY l.run_id, l.id DESC
$$;

--
-- Name: event_hash(bytea, text, integer, text, text, integer, jsonb, timestamp with time zone, text, uuid); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.event_hash(prev bytea, run_id text, seq integer, type text, step_name text, attempt integer, payload jsonb, occurred_at timestamp with time zone, writer text, event_id uuid) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
  SELECT sha256(
    coalesce(prev, '\x'::bytea) ||
    convert_to(
      concat_ws(E'\x1f', run_id, seq::text, type, coalesce(step_name, ''), coalesce(attempt::text, ''),
                payload::text, (extract(epoch FROM occurred_at) * 1000)::bigint::text, writer, event_id::text),
      'UTF8'))
$$;

--
-- Name: guard_journal_insert(); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.guard_journal_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF NOT pg_catalog.pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
    RAISE EXCEPTION 'run_events: append through %.append_run_events, not INSERT', quote_ident(TG_TABLE_SCHEMA)
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END
$$;

--
-- Name: guard_journal_partition(regclass); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.guard_journal_partition(p_partition regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
  EXECUTE format('CREATE TRIGGER run_events_no_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_journal_change()',
                 p_partition);
  EXECUTE format('CREATE TRIGGER run_events_append_guard BEFORE INSERT ON %s FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.guard_journal_insert()',
                 p_partition);
END
$$;

--
-- Name: journal_add_partitions(timestamp with time zone, integer); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.journal_add_partitions(p_from timestamp with time zone, p_months integer) RETURNS SETOF text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

--
-- Name: journal_month_partitions(); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.journal_month_partitions() RETURNS TABLE(name text, lo text, hi text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
  SELECT m.name, __SCHEMA__.run_id_at(m.month), __SCHEMA__.run_id_at(m.month + interval '1 month')
    FROM (SELECT c.relname::text AS name,
                 to_date(substr(c.relname, 12), 'YYYY_MM')::timestamp AT TIME ZONE 'UTC' AS month
            FROM pg_catalog.pg_inherits i
            JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = '__SCHEMA__.run_events'::regclass
             AND c.relname ~ '^run_events_[0-9]{4}_[0-9]{2}$') m
   WHERE m.month + interval '1 month' <= now()
   ORDER BY m.name
$_$;

--
-- Name: reject_journal_change(); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.reject_journal_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('orbit.archive_removal', true) = 'on'
     AND pg_catalog.pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'run_events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

--
-- Name: reject_ledger_change(); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.reject_ledger_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  RAISE EXCEPTION 'archive_ledger is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

--
-- Name: run_id_at(timestamp with time zone); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.run_id_at(t timestamp with time zone) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
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

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: runs; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.runs (
    id text NOT NULL,
    pipeline_id text NOT NULL,
    status text NOT NULL,
    triggered_by text,
    metadata jsonb NOT NULL,
    definition_hash text NOT NULL,
    step_names jsonb NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    owner text,
    error text,
    recovery_count integer NOT NULL,
    last_seq integer NOT NULL,
    last_event_at timestamp with time zone NOT NULL,
    CONSTRAINT runs_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'success'::text, 'failed'::text, 'cancelled'::text, 'sleeping'::text, 'waiting'::text])))
);

--
-- Name: run_liveness(__SCHEMA__.runs, double precision, text[]); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.run_liveness(p_run __SCHEMA__.runs, p_threshold_ms double precision, p_dead text[]) RETURNS TABLE(verdict text, last_activity_at timestamp with time zone, interruptible_at timestamp with time zone, lease_until timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  SELECT CASE
           WHEN p_run.status NOT IN ('pending', 'running') THEN 'finished'
           WHEN p_run.status = 'pending' AND p_run.triggered_by LIKE 'queue:%' THEN 'queued'
           WHEN p_run.status = 'running' AND p_run.owner IS NULL THEN 'released'
           WHEN p_run.owner = ANY (p_dead) THEN 'dead'
           WHEN x.covered AND w.lease_until > now() THEN 'leased'
           WHEN x.activity < now() - make_interval(secs => p_threshold_ms / 1000) THEN 'stale'
           ELSE 'waiting'
         END,
         x.activity,
         CASE
           WHEN x.covered THEN greatest(w.lease_until, x.activity + make_interval(secs => p_threshold_ms / 1000))
           ELSE x.activity + make_interval(secs => p_threshold_ms / 1000)
         END,
         CASE WHEN x.covered THEN w.lease_until END
    FROM (SELECT 1) AS one
    LEFT JOIN __SCHEMA__.workers w ON w.id = p_run.owner
   CROSS JOIN LATERAL (
     SELECT coalesce(p_run.id = ANY (w.held), false) AS covered,
            greatest(p_run.last_event_at, CASE WHEN p_run.id = ANY (w.held) THEN w.heartbeat_at END) AS activity
   ) x
$$;

--
-- Name: txn_time(timestamp with time zone); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.txn_time(t timestamp with time zone) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    AS $$
  SELECT CASE
    WHEN t < '0002-01-01 00:00:00+00'::timestamptz
      THEN date_trunc('milliseconds', now()) + (t - '0001-01-01 00:00:00+00'::timestamptz)
    ELSE t
  END
$$;

--
-- Name: archive_ledger; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.archive_ledger (
    id bigint NOT NULL,
    run_id text NOT NULL,
    events integer NOT NULL,
    last_seq integer NOT NULL,
    head_hash bytea NOT NULL,
    manifest_digest text NOT NULL,
    location text NOT NULL,
    archived_at timestamp with time zone DEFAULT now() NOT NULL,
    archived_by text DEFAULT SESSION_USER NOT NULL,
    CONSTRAINT archive_ledger_manifest_digest_check CHECK (((length(manifest_digest) = 64) AND (manifest_digest !~ '[^0-9a-f]'::text)))
);

--
-- Name: TABLE archive_ledger; Type: COMMENT; Schema: __SCHEMA__; Owner: -
--

COMMENT ON TABLE __SCHEMA__.archive_ledger IS 'Append-only record of every run removed from run_events by archive_remove_runs (orbit archive).';

--
-- Name: archive_ledger_id_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE __SCHEMA__.archive_ledger ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME __SCHEMA__.archive_ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: dedup_keys; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.dedup_keys (
    pipeline_id text NOT NULL,
    dedup_key text NOT NULL,
    run_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: delayed_runs; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.delayed_runs (
    run_id text NOT NULL,
    run_at timestamp with time zone NOT NULL
);

--
-- Name: event_rules; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.event_rules (
    type text NOT NULL,
    starts_run boolean DEFAULT false NOT NULL,
    ends_run boolean DEFAULT false NOT NULL,
    reopenable boolean DEFAULT false NOT NULL,
    reopens boolean DEFAULT false NOT NULL,
    step_event boolean DEFAULT false NOT NULL
);

--
-- Name: TABLE event_rules; Type: COMMENT; Schema: __SCHEMA__; Owner: -
--

COMMENT ON TABLE __SCHEMA__.event_rules IS 'What append_run_events accepts, per event type. Add a row (by migration) for a new event type.';

--
-- Name: run_events; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.run_events (
    "position" bigint NOT NULL,
    run_id text NOT NULL,
    seq integer NOT NULL,
    type text NOT NULL,
    step_name text,
    attempt integer,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    occurred_at timestamp with time zone DEFAULT date_trunc('milliseconds'::text, now()) NOT NULL,
    writer text NOT NULL,
    event_id uuid NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT run_events_attempt_check CHECK ((attempt > 0)),
    CONSTRAINT run_events_seq_check CHECK ((seq > 0)),
    CONSTRAINT run_events_type_check CHECK ((type ~ '^[a-z]+(\.[a-z_]+)+$'::text))
)
PARTITION BY RANGE (run_id);

--
-- Name: TABLE run_events; Type: COMMENT; Schema: __SCHEMA__; Owner: -
--

COMMENT ON TABLE __SCHEMA__.run_events IS 'Append-only journal of Orbit runs, partitioned by run id (creation month). position: global order; seq: per-run order from 1; hash: sha256 chained to the run''s previous event.';

--
-- Name: run_events_default; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.run_events_default (
    "position" bigint NOT NULL,
    run_id text NOT NULL,
    seq integer NOT NULL,
    type text NOT NULL,
    step_name text,
    attempt integer,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    occurred_at timestamp with time zone DEFAULT date_trunc('milliseconds'::text, now()) NOT NULL,
    writer text NOT NULL,
    event_id uuid NOT NULL,
    hash bytea NOT NULL,
    CONSTRAINT run_events_attempt_check CHECK ((attempt > 0)),
    CONSTRAINT run_events_seq_check CHECK ((seq > 0)),
    CONSTRAINT run_events_type_check CHECK ((type ~ '^[a-z]+(\.[a-z_]+)+$'::text))
);

--
-- Name: run_events_position_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE __SCHEMA__.run_events ALTER COLUMN "position" ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME __SCHEMA__.run_events_position_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: run_priorities; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.run_priorities (
    run_id text NOT NULL,
    priority integer NOT NULL
);

--
-- Name: schedule_ticks; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.schedule_ticks (
    schedule_id bigint NOT NULL,
    tick_at timestamp with time zone NOT NULL,
    run_id text NOT NULL
);

--
-- Name: schedules; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.schedules (
    id bigint NOT NULL,
    pipeline_id text NOT NULL,
    cron text NOT NULL,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    catch_up text DEFAULT 'skip'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    definition_of text,
    CONSTRAINT schedules_catch_up_check CHECK ((catch_up = ANY (ARRAY['skip'::text, 'last'::text])))
);

--
-- Name: schedules_id_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE __SCHEMA__.schedules ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME __SCHEMA__.schedules_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: schema_migrations; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: steps; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.steps (
    run_id text NOT NULL,
    name text NOT NULL,
    step_index integer NOT NULL,
    status text NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    attempt_count integer NOT NULL,
    error text,
    result jsonb,
    next_retry_at timestamp with time zone,
    CONSTRAINT steps_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'success'::text, 'failed'::text, 'retrying'::text, 'sleeping'::text, 'waiting'::text])))
);

--
-- Name: worker_registry; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.worker_registry (
    id text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    alive_until timestamp with time zone NOT NULL,
    concurrency integer NOT NULL,
    pipelines jsonb DEFAULT '{}'::jsonb NOT NULL,
    identity text,
    CONSTRAINT worker_registry_concurrency_check CHECK ((concurrency > 0))
);

--
-- Name: workers; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.workers (
    id text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_until timestamp with time zone DEFAULT now() NOT NULL,
    held text[] DEFAULT '{}'::text[] NOT NULL,
    identity text
);

--
-- Name: run_events_default; Type: TABLE ATTACH; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_events ATTACH PARTITION __SCHEMA__.run_events_default DEFAULT;

--
-- Name: archive_ledger archive_ledger_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.archive_ledger
    ADD CONSTRAINT archive_ledger_pkey PRIMARY KEY (id);

--
-- Name: dedup_keys dedup_keys_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.dedup_keys
    ADD CONSTRAINT dedup_keys_pkey PRIMARY KEY (pipeline_id, dedup_key);

--
-- Name: delayed_runs delayed_runs_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.delayed_runs
    ADD CONSTRAINT delayed_runs_pkey PRIMARY KEY (run_id);

--
-- Name: event_rules event_rules_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.event_rules
    ADD CONSTRAINT event_rules_pkey PRIMARY KEY (type);

--
-- Name: run_events run_events_run_seq_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_events
    ADD CONSTRAINT run_events_run_seq_key UNIQUE (run_id, seq);

--
-- Name: run_events_default run_events_default_run_id_seq_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_events_default
    ADD CONSTRAINT run_events_default_run_id_seq_key UNIQUE (run_id, seq);

--
-- Name: run_priorities run_priorities_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_priorities
    ADD CONSTRAINT run_priorities_pkey PRIMARY KEY (run_id);

--
-- Name: runs runs_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (id);

--
-- Name: schedule_ticks schedule_ticks_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.schedule_ticks
    ADD CONSTRAINT schedule_ticks_pkey PRIMARY KEY (schedule_id, tick_at);

--
-- Name: schedules schedules_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.schedules
    ADD CONSTRAINT schedules_pkey PRIMARY KEY (id);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: steps steps_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.steps
    ADD CONSTRAINT steps_pkey PRIMARY KEY (run_id, name);

--
-- Name: worker_registry worker_registry_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.worker_registry
    ADD CONSTRAINT worker_registry_pkey PRIMARY KEY (id);

--
-- Name: workers workers_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (id);

--
-- Name: archive_ledger_by_run; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX archive_ledger_by_run ON __SCHEMA__.archive_ledger USING btree (run_id, id);

--
-- Name: dedup_keys_by_run; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX dedup_keys_by_run ON __SCHEMA__.dedup_keys USING btree (run_id);

--
-- Name: delayed_runs_by_time; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX delayed_runs_by_time ON __SCHEMA__.delayed_runs USING btree (run_at);

--
-- Name: run_events_resumed; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX run_events_resumed ON ONLY __SCHEMA__.run_events USING btree (occurred_at) WHERE (type = 'run.resumed'::text);

--
-- Name: run_events_default_occurred_at_idx; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX run_events_default_occurred_at_idx ON __SCHEMA__.run_events_default USING btree (occurred_at) WHERE (type = 'run.resumed'::text);

--
-- Name: run_events_position; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX run_events_position ON ONLY __SCHEMA__.run_events USING btree ("position");

--
-- Name: run_events_default_position_idx; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX run_events_default_position_idx ON __SCHEMA__.run_events_default USING btree ("position");

--
-- Name: runs_by_metadata_value; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_by_metadata_value ON __SCHEMA__.runs USING gin (jsonb_path_query_array(metadata, 'strict $.*?((@.type() == "string" || @.type() == "number") || @.type() == "boolean")'::jsonpath, '{}'::jsonb, true) jsonb_path_ops) WITH (gin_pending_list_limit='256');

--
-- Name: runs_by_pipeline; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_by_pipeline ON __SCHEMA__.runs USING btree (pipeline_id, started_at);

--
-- Name: runs_by_pipeline_status_start; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_by_pipeline_status_start ON __SCHEMA__.runs USING btree (pipeline_id, status, started_at, id);

--
-- Name: runs_by_start; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_by_start ON __SCHEMA__.runs USING btree (started_at, id);

--
-- Name: runs_by_status_start; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_by_status_start ON __SCHEMA__.runs USING btree (status, started_at, id);

--
-- Name: runs_queued; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_queued ON __SCHEMA__.runs USING btree (started_at) WHERE ((status = 'pending'::text) AND (triggered_by ~~ 'queue:%'::text));

--
-- Name: runs_unfinished_by_activity; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_unfinished_by_activity ON __SCHEMA__.runs USING btree (last_event_at) WHERE (status = ANY (ARRAY['pending'::text, 'running'::text]));

--
-- Name: schedule_ticks_by_run; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX schedule_ticks_by_run ON __SCHEMA__.schedule_ticks USING btree (run_id);

--
-- Name: schedules_definition_of; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE UNIQUE INDEX schedules_definition_of ON __SCHEMA__.schedules USING btree (definition_of) WHERE (definition_of IS NOT NULL);

--
-- Name: steps_suspended_by_time; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX steps_suspended_by_time ON __SCHEMA__.steps USING btree (next_retry_at) WHERE (status = ANY (ARRAY['sleeping'::text, 'waiting'::text]));

--
-- Name: run_events_default_occurred_at_idx; Type: INDEX ATTACH; Schema: __SCHEMA__; Owner: -
--

ALTER INDEX __SCHEMA__.run_events_resumed ATTACH PARTITION __SCHEMA__.run_events_default_occurred_at_idx;

--
-- Name: run_events_default_position_idx; Type: INDEX ATTACH; Schema: __SCHEMA__; Owner: -
--

ALTER INDEX __SCHEMA__.run_events_position ATTACH PARTITION __SCHEMA__.run_events_default_position_idx;

--
-- Name: run_events_default_run_id_seq_key; Type: INDEX ATTACH; Schema: __SCHEMA__; Owner: -
--

ALTER INDEX __SCHEMA__.run_events_run_seq_key ATTACH PARTITION __SCHEMA__.run_events_default_run_id_seq_key;

--
-- Name: archive_ledger archive_ledger_no_truncate; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER archive_ledger_no_truncate BEFORE TRUNCATE ON __SCHEMA__.archive_ledger FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_ledger_change();

--
-- Name: archive_ledger archive_ledger_no_update; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER archive_ledger_no_update BEFORE DELETE OR UPDATE ON __SCHEMA__.archive_ledger FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.reject_ledger_change();

--
-- Name: run_events run_events_append_guard; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER run_events_append_guard BEFORE INSERT ON __SCHEMA__.run_events FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.guard_journal_insert();

--
-- Name: run_events_default run_events_append_guard; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER run_events_append_guard BEFORE INSERT ON __SCHEMA__.run_events_default FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.guard_journal_insert();

--
-- Name: run_events run_events_no_truncate; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER run_events_no_truncate BEFORE TRUNCATE ON __SCHEMA__.run_events FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_journal_change();

--
-- Name: run_events_default run_events_no_truncate; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER run_events_no_truncate BEFORE TRUNCATE ON __SCHEMA__.run_events_default FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_journal_change();

--
-- Name: run_events run_events_no_update; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER run_events_no_update BEFORE DELETE OR UPDATE ON __SCHEMA__.run_events FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.reject_journal_change();

--
-- Name: schedule_ticks schedule_ticks_schedule_id_fkey; Type: FK CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.schedule_ticks
    ADD CONSTRAINT schedule_ticks_schedule_id_fkey FOREIGN KEY (schedule_id) REFERENCES __SCHEMA__.schedules(id) ON DELETE CASCADE;

--
-- PostgreSQL database dump complete
--
