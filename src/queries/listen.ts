import type { ClientBase } from 'pg';
import { quoteIdent } from '../db/identifiers';

/** LISTENs on a channel on this connection (the identifier quoted). Throws on failure. */
export const listen = async (client: ClientBase, channel: string): Promise<void> => {
  await client.query(`LISTEN ${quoteIdent(channel)}`);
};
