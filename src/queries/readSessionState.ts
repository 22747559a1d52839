import type { ClientBase } from 'pg';
import type { SessionState } from '../db/hostSelector';

/**
 * Whether this session is on a standby and whether it is read-only: what libpq checks for
 * `target_session_attrs` (src/db/hostSelector.ts). Throws on failure.
 */
export const readSessionState = async (client: ClientBase): Promise<SessionState> => {
  const r = await client.query<{ in_recovery: boolean; read_only: boolean }>(
    "SELECT pg_is_in_recovery() AS in_recovery, current_setting('transaction_read_only') = 'on' AS read_only",
  );
  const row = r.rows[0];
  return { inRecovery: row?.in_recovery ?? false, readOnly: row?.read_only ?? false };
};
