import type { Pool } from 'pg';

/**
 * Gives a fresh bench schema the journal as it was before migration 014: one plain `run_events`
 * table (primary key on position, unique (run_id, seq), the run.resumed index, the append-only
 * and insert-guard triggers), so S1 and S2 can measure the append path on both layouts in the
 * same run. The partitioned table stays aside, renamed; the functions find the plain one by name.
 */
export const unpartitionJournal = async (pool: Pool, schema: string): Promise<void> => {
  const s = `"${schema}"`;
  await pool.query(`
    ALTER TABLE ${s}.run_events RENAME TO run_events_partitioned;
    CREATE TABLE ${s}.run_events (
      position    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id      text        NOT NULL,
      seq         integer     NOT NULL CHECK (seq > 0),
      type        text        NOT NULL CHECK (type ~ '^[a-z]+(\\.[a-z_]+)+$'),
      step_name   text,
      attempt     integer     CHECK (attempt > 0),
      payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
      occurred_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      writer      text        NOT NULL,
      event_id    uuid        NOT NULL,
      hash        bytea       NOT NULL,
      UNIQUE (run_id, seq)
    );
    CREATE INDEX ON ${s}.run_events (occurred_at) WHERE type = 'run.resumed';
    CREATE TRIGGER run_events_no_update BEFORE UPDATE OR DELETE ON ${s}.run_events
      FOR EACH ROW EXECUTE FUNCTION ${s}.reject_journal_change();
    CREATE TRIGGER run_events_no_truncate BEFORE TRUNCATE ON ${s}.run_events
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.reject_journal_change();
    CREATE TRIGGER run_events_append_guard BEFORE INSERT ON ${s}.run_events
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.guard_journal_insert();`);
};
