-- A leaner append (docs/PERFORMANCE.md, "Lean append and Node CPU, measured").
--
-- 1. The unique index on event_id went: it was written for every event and read only when an
--    append is retried after an ambiguous commit. Such a retry states the same expected seq and the
--    same event ids, so if its first try committed, its last event sits at exactly
--    (run_id, expected_seq + n) with that id: the (run_id, seq) key finds it.
-- 2. append_run_events replaces append_events: typed parameters instead of jsonb records (no
--    jsonb_populate_record, one set-based INSERT of the events), the run's mutable fields as
--    scalars, and the changed steps updated by primary key one by one (an UPDATE joined to
--    unnest() of the parameter arrays falls back to a seq scan of steps in PL/pgSQL's generic
--    plan, and INSERT ... ON CONFLICT paid for a speculative insertion per step). A new run's
--    steps rows are created here from its step list; the caller sends only the steps that differ
--    from a fresh one.
-- Times that belong to the events being appended arrive relative to 0001-01-01 (txn_time, 003).

ALTER TABLE __SCHEMA__.run_events DROP CONSTRAINT run_events_event_id_key;

DROP FUNCTION __SCHEMA__.append_events(text, integer, text, jsonb, jsonb, jsonb, boolean);

CREATE FUNCTION __SCHEMA__.append_run_events(
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
LANGUAGE plpgsql AS $$
DECLARE
  v_now    timestamptz := date_trunc('milliseconds', now());
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

  IF p_expected_seq > 0 THEN
    SELECT ev.hash INTO v_prev FROM __SCHEMA__.run_events ev WHERE ev.run_id = p_run_id AND ev.seq = p_expected_seq;
  END IF;
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
