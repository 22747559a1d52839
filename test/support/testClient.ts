import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { createRegistry, type Registry } from '../../src/pipeline/registry';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { testDatabaseUrl, uniqueSchemaName } from './testDatabase';

export interface TestClient {
  readonly client: OrbitClient;
  readonly registry: Registry;
  readonly schema: string;
  readonly url: string;
  /** Another client on the same schema, as a second process would have (own worker id). */
  readonly peer: (opts?: { thresholdMs?: number }) => Promise<OrbitClient>;
  readonly dispose: () => Promise<void>;
}

/** A migrated private schema, a private registry and a client on them, for one test file. */
export const createTestClient = async (opts: { prefix?: string; thresholdMs?: number } = {}): Promise<TestClient> => {
  const url = testDatabaseUrl();
  const schema = uniqueSchemaName(opts.prefix ?? 'x');
  const registry = createRegistry();
  const peers: OrbitClient[] = [];
  // The first client creates the private schema (connect() migrates only when asked); peers only check it.
  const open = async (thresholdMs?: number, migrate = false): Promise<OrbitClient> => {
    const c = await connect({
      databaseUrl: url,
      schema,
      registry,
      thresholdMs: thresholdMs ?? opts.thresholdMs ?? 600_000,
      migrate,
    });
    if (E.isLeft(c)) throw new Error(formatError(c.left));
    return c.right;
  };
  const client = await open(undefined, true);
  return {
    client,
    registry,
    schema,
    url,
    peer: async (o) => {
      const p = await open(o?.thresholdMs);
      peers.push(p);
      return p;
    },
    dispose: async () => {
      for (const p of peers) await p.close();
      await client.db.pool.query(`DROP SCHEMA IF EXISTS ${client.db.qs} CASCADE`).catch(() => undefined);
      await client.close();
    },
  };
};
