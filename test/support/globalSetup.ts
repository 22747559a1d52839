import * as path from 'path';
import { processHost } from '../../src/runtime/processHost';
import * as E from 'fp-ts/Either';
import { Client } from 'pg';
import { ensureEmbeddedServer } from '../../src/server/embeddedServer';
import { urlLocation } from '../../src/server/resolveDatabase';
import { formatError } from '../../src/errors';

const repoRoot = path.resolve(__dirname, '..', '..');

const serverVersion = async (url: string): Promise<string> => {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const res = await client.query<{ server_version: string }>('SHOW server_version');
    return res.rows[0]?.server_version ?? 'unknown version';
  } finally {
    await client.end().catch(() => undefined);
  }
};

/**
 * Jest globalSetup: gives the suite a PostgreSQL. DATABASE_URL wins; otherwise the embedded
 * server in `.orbit-test` is started (or reused) and its URL exported for the workers, which
 * inherit this process's environment. The server is left running on purpose: the next run
 * reuses it and skips initdb and startup.
 */
export default async function globalSetup(): Promise<void> {
  let url = process.env.DATABASE_URL;
  let where: string;
  if (url) {
    where = `DATABASE_URL (${urlLocation(url) ?? 'unparsable URL'})`;
  } else {
    const server = await ensureEmbeddedServer(path.join(repoRoot, '.orbit-test'), processHost());
    if (E.isLeft(server)) throw new Error(`[orbit tests] no PostgreSQL for the tests: ${formatError(server.left)}`);
    url = server.right.url;
    process.env.DATABASE_URL = url;
    const data = path.relative(repoRoot, server.right.dataDir);
    where = `embedded server at 127.0.0.1:${server.right.port} (data in ${data}, ${server.right.reused ? 'reused' : 'started'})`;
  }
  let version: string;
  try {
    version = await serverVersion(url);
  } catch (err) {
    throw new Error(`[orbit tests] cannot query ${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  console.log(`\n[orbit tests] PostgreSQL ${version} via ${where}`);
}
