-- Appends go through append_run_events only (issue 20 item 11; docs/AUDIT.md, "What a role that
-- can append can still do").
--
-- 1. append_run_events becomes SECURITY DEFINER (owned by the role that migrates): the time of
--    every event is the database's clock (it always was: v_now), the seq fence is checked against
--    the journal itself (the event at the expected seq must exist: no gap can be written even by a
--    role that can UPDATE runs.last_seq), and every event must be legal by the rules below.
-- 2. Nobody but the table's owner (and superusers) may INSERT into run_events directly: INSERT is
--    revoked from every role that holds it, and a statement trigger refuses it even if it is
--    granted again later. `orbit import` runs as the owner.
-- 3. event_rules: legality as data, one row per event type. A migration that adds an event type
--    adds its row here (INSERT INTO __SCHEMA__.event_rules ...); nothing else needs to change.
--    Payloads are not checked beyond being a JSON object: optional keys may be added freely.

CREATE TABLE __SCHEMA__.event_rules (
  type        text    PRIMARY KEY,
  -- Only at seq 1, and seq 1 must be one of these.
  starts_run  boolean NOT NULL DEFAULT false,
  -- Nothing may follow it ...
  ends_run    boolean NOT NULL DEFAULT false,
  -- ... except an event that `reopens` (a failed run may be resumed).
  reopenable  boolean NOT NULL DEFAULT false,
  reopens     boolean NOT NULL DEFAULT false,
  -- Carries step_name and attempt (every other event carries neither).
  step_event  boolean NOT NULL DEFAULT false
);

COMMENT ON TABLE __SCHEMA__.event_rules IS
  'What append_run_events accepts, per event type. Add a row (by migration) for a new event type.';

INSERT INTO __SCHEMA__.event_rules (type, starts_run, ends_run, reopenable, reopens, step_event) VALUES
  ('run.created',          true,  false, false, false, false),
  ('run.claimed',          false, false, false, false, false),
  ('run.released',         false, false, false, false, false),
  ('run.resumed',          false, false, false, true,  false),
  ('step.started',         false, false, false, false, true),
  ('step.succeeded',       false, false, false, false, true),
  ('step.failed',          false, false, false, false, true),
  ('step.retry_scheduled', false, false, false, false, true),
  ('run.succeeded',        false, true,  false, false, false),
  ('run.failed',           false, true,  true,  false, false),
  ('run.cancelled',        false, true,  false, false, false);

-- Direct INSERTs: only the owner (append_run_events runs as the owner) and superusers.
CREATE FUNCTION __SCHEMA__.guard_journal_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT pg_catalog.pg_has_role(current_user, (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
    RAISE EXCEPTION 'run_events: append through %.append_run_events, not INSERT', quote_ident(TG_TABLE_SCHEMA)
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER run_events_append_guard BEFORE INSERT ON __SCHEMA__.run_events
  FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.guard_journal_insert();

DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT DISTINCT g.rolname
      FROM pg_catalog.pg_class c
      CROSS JOIN LATERAL aclexplode(c.relacl) a
      JOIN pg_catalog.pg_roles g ON g.oid = a.grantee
     WHERE c.oid = '__SCHEMA__.run_events'::regclass AND a.privilege_type = 'INSERT' AND a.grantee <> c.relowner
  LOOP
    EXECUTE format('REVOKE INSERT ON __SCHEMA__.run_events FROM %I', r.rolname);
  END LOOP;
END
$$;
REVOKE INSERT ON __SCHEMA__.run_events FROM PUBLIC;

CREATE OR REPLACE FUNCTION __SCHEMA__.append_run_events(
  p_run_id          text,
  p_expected_seq    integer,
  p_writer          text,
  -- The events, one array element each.
  p_event_ids       uuid[],
  p_types           text[],
  p_step_names      text[],
  p_attempts        integer[],
  p_payloads        jsonb,         -- a JSON array, one payload per event
  -- The runs row after the events: what events can change once the run exists.
  p_status          text,
  p_finished_at     timestamptz,
  p_owner           text,
  p_error           text,
  p_recovery_count  integer,
  p_last_event_at   timestamptz,
  -- The steps rows the events changed, one array element each.
  p_step_rows       text[],        -- step names
  p_step_status     text[],
  p_step_started    timestamptz[],
  p_step_finished   timestamptz[],
  p_step_attempts   integer[],
  p_step_errors     text[],
  p_step_results    jsonb,         -- a JSON array, one result (or null) per step
  p_step_next_retry timestamptz[],
  p_notify          boolean,       -- whether listeners act on this transition
  p_created         jsonb          -- a new run (expected seq 0): {pipeline_id, triggered_by, metadata, definition_hash, step_names}
) RETURNS TABLE (outcome text, last_seq integer, committed_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
