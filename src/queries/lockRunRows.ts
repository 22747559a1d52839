import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

/** Locks the given runs' `runs` rows until the caller's transaction ends: appends to them wait. */
export const lockRunRows = (db: Database, runIds: readonly string[], client: PoolClient) =>
  query(client, `SELECT 1 FROM ${db.qs}.runs WHERE id = ANY($1::text[]) FOR UPDATE`, [runIds]);
