-- The append path: one round trip, one transaction, per batch of events.
-- The caller (src/journal/appendEvents.ts) folds the events with the pure fold and passes the
-- resulting projection rows; this function checks the expected seq, chains the hashes, inserts the
-- events, writes the rows and notifies listeners when asked to.

-- Projection rows are computed before the database has chosen the commit time. Times that belong
-- to the events being appended are sent relative to the sentinel epoch 0001-01-01 and mean
-- "this transaction's time plus the offset" (a retry scheduled 1.5 s after a failure arrives as
-- 0001-01-01T00:00:01.500Z). Real times pass through unchanged.
CREATE FUNCTION __SCHEMA__.txn_time(t timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN t < '0002-01-01 00:00:00+00'::timestamptz
      THEN date_trunc('milliseconds', now()) + (t - '0001-01-01 00:00:00+00'::timestamptz)
    ELSE t
  END
$$;

CREATE FUNCTION __SCHEMA__.append_events(
  p_run_id       text,
  p_expected_seq integer,
  p_writer       text,
  p_events       jsonb,   -- [{event_id, type, step_name, attempt, payload}, ...]
  p_run          jsonb,   -- the runs row after the events (only its mutable fields after creation)
  p_steps        jsonb,   -- the steps rows the events changed
  p_notify       boolean  -- whether listeners act on this transition
) RETURNS TABLE (outcome text, last_seq integer, committed_at timestamptz)
LANGUAGE plpgsql AS $$
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
