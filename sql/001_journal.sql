-- The run journal: the one source of truth. Every step transition of every run is a row here.
-- __SCHEMA__ is replaced by the migration runner with the validated, quoted schema name.

CREATE TABLE __SCHEMA__.run_events (
  position    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id      text        NOT NULL,
  seq         integer     NOT NULL CHECK (seq > 0),
  type        text        NOT NULL CHECK (type ~ '^[a-z]+(\.[a-z_]+)+$'),
  step_name   text,
  attempt     integer     CHECK (attempt > 0),
  payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  -- Millisecond precision so that the value survives a round trip through JavaScript unchanged.
  occurred_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  writer      text        NOT NULL,
  event_id    uuid        NOT NULL,
  hash        bytea       NOT NULL,
  CONSTRAINT run_events_run_seq_key UNIQUE (run_id, seq),
  CONSTRAINT run_events_event_id_key UNIQUE (event_id)
);

COMMENT ON TABLE __SCHEMA__.run_events IS
  'Append-only journal of Orbit runs. position: global order; seq: per-run order from 1; hash: sha256 chained to the run''s previous event.';

-- Invariant 1: the journal is append-only, enforced by the database itself.
CREATE FUNCTION __SCHEMA__.reject_journal_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'run_events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER run_events_no_update BEFORE UPDATE OR DELETE ON __SCHEMA__.run_events
  FOR EACH ROW EXECUTE FUNCTION __SCHEMA__.reject_journal_change();
CREATE TRIGGER run_events_no_truncate BEFORE TRUNCATE ON __SCHEMA__.run_events
  FOR EACH STATEMENT EXECUTE FUNCTION __SCHEMA__.reject_journal_change();

-- The hash of one event, chained to the previous event of the same run (NULL for seq 1).
-- Timestamps enter as epoch milliseconds so the hash does not depend on DateStyle or TimeZone.
CREATE FUNCTION __SCHEMA__.event_hash(
  prev bytea, run_id text, seq integer, type text, step_name text, attempt integer,
  payload jsonb, occurred_at timestamptz, writer text, event_id uuid
) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(
    coalesce(prev, '\x'::bytea) ||
    convert_to(
      concat_ws(E'\x1f', run_id, seq::text, type, coalesce(step_name, ''), coalesce(attempt::text, ''),
                payload::text, (extract(epoch FROM occurred_at) * 1000)::bigint::text, writer, event_id::text),
      'UTF8'))
$$;
