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
-- Name: append_events(text, integer, text, jsonb, jsonb, jsonb, boolean); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.append_events(p_run_id text, p_expected_seq integer, p_writer text, p_events jsonb, p_run jsonb, p_steps jsonb, p_notify boolean) RETURNS TABLE(outcome text, last_seq integer, committed_at timestamp with time zone)
    LANGUAGE plpgsql
    AS $$
DECLARE
  v_run  __SCHEMA__.runs%ROWTYPE;
  v_now  timestamptz := date_trunc('milliseconds', now());
  v_seq  integer := p_expected_seq;
  v_prev bytea;
  v_hash bytea;
  v_type text;
  e      jsonb;
BEGIN
  v_run := jsonb_populate_record(NULL::__SCHEMA__.runs, p_run);
  v_run.started_at    := __SCHEMA__.txn_time(v_run.started_at);
  v_run.finished_at   := __SCHEMA__.txn_time(v_run.finished_at);
  v_run.last_event_at := __SCHEMA__.txn_time(v_run.last_event_at);

  -- The runs row is the lock: a second writer with the same expected seq waits here, then finds
  -- last_seq moved on and reports a conflict instead of writing.
  IF p_expected_seq = 0 THEN
    INSERT INTO __SCHEMA__.runs VALUES (v_run.*) ON CONFLICT (id) DO NOTHING;
  ELSE
    -- Only what events can change after creation; the caller sends just these fields.
    UPDATE __SCHEMA__.runs AS r SET
      status = v_run.status, finished_at = v_run.finished_at, owner = v_run.owner,
      error = v_run.error, recovery_count = v_run.recovery_count, last_seq = v_run.last_seq,
      last_event_at = v_run.last_event_at
    WHERE r.id = p_run_id AND r.last_seq = p_expected_seq;
  END IF;

  IF NOT FOUND THEN
    -- Either another writer won, or this is a retry of an append whose COMMIT reached the server
    -- but whose reply was lost: its events are already there, identified by their event ids.
    RETURN QUERY
      SELECT 'duplicate'::text, ev.seq, ev.occurred_at
        FROM __SCHEMA__.run_events ev
       WHERE ev.event_id = (p_events -> -1 ->> 'event_id')::uuid;
    IF NOT FOUND THEN
      RETURN QUERY
        SELECT 'conflict'::text, (SELECT r.last_seq FROM __SCHEMA__.runs r WHERE r.id = p_run_id), NULL::timestamptz;
    END IF;
    RETURN;
  END IF;

  IF p_expected_seq > 0 THEN
    SELECT ev.hash INTO v_prev FROM __SCHEMA__.run_events ev
     WHERE ev.run_id = p_run_id AND ev.seq = p_expected_seq;
  END IF;

  FOR e IN SELECT value FROM jsonb_array_elements(p_events) LOOP
    v_seq  := v_seq + 1;
    v_type := e ->> 'type';
    v_hash := __SCHEMA__.event_hash(v_prev, p_run_id, v_seq, v_type, e ->> 'step_name',
                                    (e ->> 'attempt')::integer, e -> 'payload', v_now, p_writer,
                                    (e ->> 'event_id')::uuid);
    INSERT INTO __SCHEMA__.run_events
      (run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id, hash)
    VALUES
      (p_run_id, v_seq, v_type, e ->> 'step_name', (e ->> 'attempt')::integer, e -> 'payload',
       v_now, p_writer, (e ->> 'event_id')::uuid, v_hash);
    v_prev := v_hash;
  END LOOP;

  IF v_run.last_seq IS DISTINCT FROM v_seq THEN
    RAISE EXCEPTION 'projection row for run % says last_seq %, journal is at %', p_run_id, v_run.last_seq, v_seq;
  END IF;

  IF jsonb_array_length(p_steps) > 0 THEN
    INSERT INTO __SCHEMA__.steps AS s
      (run_id, name, step_index, status, started_at, finished_at, attempt_count, error, result, next_retry_at)
    SELECT x.run_id, x.name, x.step_index, x.status, __SCHEMA__.txn_time(x.started_at),
           __SCHEMA__.txn_time(x.finished_at), x.attempt_count, x.error, x.result,
           __SCHEMA__.txn_time(x.next_retry_at)
      FROM jsonb_populate_recordset(NULL::__SCHEMA__.steps, p_steps) x
    ON CONFLICT (run_id, name) DO UPDATE SET
      step_index = EXCLUDED.step_index, status = EXCLUDED.status, started_at = EXCLUDED.started_at,
      finished_at = EXCLUDED.finished_at, attempt_count = EXCLUDED.attempt_count,
      error = EXCLUDED.error, result = EXCLUDED.result, next_retry_at = EXCLUDED.next_retry_at;
  END IF;

  -- Ids only: NOTIFY payloads are capped at 8000 bytes and results can be large.
  IF p_notify THEN
    PERFORM pg_notify('__CHANNEL__', json_build_object('run_id', p_run_id, 'seq', v_seq, 'type', v_type)::text);
  END IF;

  RETURN QUERY SELECT 'ok'::text, v_seq, v_now;
END
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
-- Name: reject_journal_change(); Type: FUNCTION; Schema: __SCHEMA__; Owner: -
--

CREATE FUNCTION __SCHEMA__.reject_journal_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  RAISE EXCEPTION 'run_events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
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
    CONSTRAINT runs_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'success'::text, 'failed'::text, 'cancelled'::text])))
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
);

--
-- Name: TABLE run_events; Type: COMMENT; Schema: __SCHEMA__; Owner: -
--

COMMENT ON TABLE __SCHEMA__.run_events IS 'Append-only journal of Orbit runs. position: global order; seq: per-run order from 1; hash: sha256 chained to the run''s previous event.';

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
    CONSTRAINT steps_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'success'::text, 'failed'::text, 'retrying'::text])))
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
-- Name: run_events run_events_event_id_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_events
    ADD CONSTRAINT run_events_event_id_key UNIQUE (event_id);

--
-- Name: run_events run_events_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_events
    ADD CONSTRAINT run_events_pkey PRIMARY KEY ("position");

--
-- Name: run_events run_events_run_seq_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.run_events
    ADD CONSTRAINT run_events_run_seq_key UNIQUE (run_id, seq);

--
-- Name: runs runs_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.runs
    ADD CONSTRAINT runs_pkey PRIMARY KEY (id);

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
-- Name: workers workers_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (id);

--
-- Name: run_events_resumed; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX run_events_resumed ON __SCHEMA__.run_events USING btree (occurred_at) WHERE (type = 'run.resumed'::text);

--
-- Name: runs_by_pipeline; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_by_pipeline ON __SCHEMA__.runs USING btree (pipeline_id, started_at);

--
-- Name: runs_queued; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_queued ON __SCHEMA__.runs USING btree (started_at) WHERE ((status = 'pending'::text) AND (triggered_by ~~ 'queue:%'::text));

--
-- Name: runs_unfinished_by_activity; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX runs_unfinished_by_activity ON __SCHEMA__.runs USING btree (last_event_at) WHERE (status = ANY (ARRAY['pending'::text, 'running'::text]));

--
-- Name: run_events run_events_no_truncate; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER run_events_no_truncate BEFORE TRUNCATE ON __SCHEMA__.run_events FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_journal_change();

--
-- Name: run_events run_events_no_update; Type: TRIGGER; Schema: __SCHEMA__; Owner: -
--

CREATE TRIGGER run_events_no_update BEFORE DELETE OR UPDATE ON __SCHEMA__.run_events FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.reject_journal_change();

--
-- PostgreSQL database dump complete
--
