import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

/** An exported event as it is inserted: its stored fields, with the exported hash (hex). */
export interface ImportedEvent {
  readonly runId: string;
  readonly seq: number;
  readonly type: string;
  readonly stepName: string | null;
  readonly attempt: number | null;
  /** The payload as exported (jsonb text), so its hash input is unchanged. */
  readonly payloadText: string;
  readonly occurredAt: string;
  readonly writer: string;
  readonly eventId: string;
  readonly hash: string;
}

/** Inserts exported events as they were, hashes included (inside the caller's transaction). */
export const insertImportedEvents = (db: Database, events: readonly ImportedEvent[], client: PoolClient) =>
  query(
    client,
    `INSERT INTO ${db.qs}.run_events (run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id, hash)
     SELECT x."runId", x.seq, x.type, x."stepName", x.attempt, x."payloadText"::jsonb, x."occurredAt", x.writer,
            x."eventId", decode(x.hash, 'hex')
       FROM jsonb_to_recordset($1::jsonb) AS x("runId" text, seq int, type text, "stepName" text, attempt int,
            "payloadText" text, "occurredAt" timestamptz, writer text, "eventId" uuid, hash text)`,
    [JSON.stringify(events)],
  );
