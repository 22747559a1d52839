import path from 'node:path';
import { processHost } from '../../src/runtime/processHost';
import { spawnSync } from 'node:child_process';
import * as E from 'fp-ts/Either';
import { Client } from 'pg';
import { ensureEmbeddedServer } from '../../src/server/embeddedServer';
import { connect } from '../../src/runtime/orbitClient';
import { formatError } from '../../src/errors';

// The system PostgreSQL may trust every login; the embedded test server (the one globalSetup
// starts when DATABASE_URL is unset, reused here either way) asks every role but the superuser
// for a password, so a wrong password is a real authentication failure.
const root = path.resolve(__dirname, '..', '..');
let port: number;
const role = `orbit_pw_${process.pid}`;

beforeAll(async () => {
  const server = await ensureEmbeddedServer(path.join(root, '.orbit-test'), processHost());
  if (E.isLeft(server)) throw new Error(formatError(server.left));
  port = server.right.port;
  const admin = new Client({ connectionString: server.right.url });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'right-password'`);
  await admin.end();
});

afterAll(async () => {
  const admin = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

describe('a wrong password', () => {
  it('is a DatabaseUnavailable error from the library, saying the password was refused', async () => {
    const r = await connect({ databaseUrl: `postgres://${role}:wrong@127.0.0.1:${port}/postgres`, schema: 'never_created' });
    expect(E.isLeft(r)).toBe(true);
    if (E.isRight(r)) return;
    expect(r.left._tag).toBe('DatabaseUnavailable');
    expect(formatError(r.left)).toBe(`Cannot reach the database: password authentication failed for user "${role}"`);
  });

  it('makes the CLI print one line on stderr and exit 1, creating nothing', async () => {
    const cli = spawnSync(
      process.execPath,
      [
        path.join(root, 'dist', 'cli', 'main.js'),
        '--database-url',
        `postgres://${role}:wrong@127.0.0.1:${port}/postgres`,
        'check-interrupted',
      ],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
    );
    expect(cli.status).toBe(1);
    expect(cli.stderr.trim().split('\n')).toEqual([
      `Error: Cannot reach the database: password authentication failed for user "${role}"`,
    ]);
    const admin = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    const schemas = await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'orbit'`);
    await admin.end();
    expect(schemas.rowCount).toBe(0);
  });
});
