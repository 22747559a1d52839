import * as E from 'fp-ts/Either';
import pg from 'pg';
import { closeDatabase, openDatabase } from '../../src/db/database';
import { channelFor, quoteIdent, validateSchemaName } from '../../src/db/identifiers';
import { migrate } from '../../src/migrations/migrate';
import { formatError } from '../../src/errors';
import { appendEvents } from '../../src/journal/appendEvents';
import { readRunEvents } from '../../src/journal/readEvents';
import { verifyJournal } from '../../src/journal/verifyJournal';
import { checkProjections } from '../../src/projections/checkProjections';
import { claimed, created, runCancelled } from '../support/eventBuilders';
import { expectLeft, expectRight, testDatabaseUrl } from '../support/testDatabase';

/*
 * Schema names are spliced into SQL text, function bodies and NOTIFY channel names, so only plain
 * lower-case identifiers get through, and the longest accepted one must still work everywhere.
 */

/** The longest name validateSchemaName accepts (48 bytes). */
const LONGEST = `t_${'x'.repeat(40)}_${process.pid.toString(36).padStart(5, '0').slice(-5)}`.slice(0, 48);

describe('validateSchemaName', () => {
  it.each(['orbit', 'orbit_2', '_x', 'a', LONGEST])('accepts the plain lower-case identifier %j', (name) => {
    expect(validateSchemaName(name)).toEqual(E.right(name));
  });

  it.each([
    ['upper case', 'Orbit'],
    ['a hyphen', 'a-b'],
    ['a statement separator', 'a;drop table x'],
    ['double quotes', '"x"'],
    ['a single quote', "x'y"],
    ['two single quotes', "''"],
    ['a LIKE wildcard', '%'],
    ['a dollar sign', '$x'],
    ['a leading digit', '1abc'],
    ['the empty string', ''],
    ['a space', 'a b'],
    ['a dot (schema-qualified)', 'public.x'],
    ['a trailing newline', 'orbit\n'],
    ['a NUL byte', 'orbit\u0000'],
    ['a 49-byte name', 'a'.repeat(49)],
    ['a 64-byte name', 'a'.repeat(64)],
    ['non-ASCII letters', 'ünïcode'],
    ['a name reserved for PostgreSQL (pg_)', 'pg_orbit'],
    ['the system catalog', 'pg_catalog'],
    ['the toast schema', 'pg_toast'],
    ['the SQL-standard catalog', 'information_schema'],
    ['the shared default schema', 'public'],
  ])('refuses a name with %s as InvalidSchemaName', (_why, name) => {
    expect(validateSchemaName(name)).toEqual(E.left({ _tag: 'InvalidSchemaName', schema: name }));
  });

  it('the longest accepted name still leaves room for its NOTIFY channel in 63 bytes', () => {
    expect(Buffer.byteLength(LONGEST)).toBe(48);
    expect(Buffer.byteLength(channelFor(LONGEST))).toBeLessThanOrEqual(63);
  });

  it('quoteIdent doubles embedded quotes', () => {
    expect(quoteIdent('orbit')).toBe('"orbit"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});

describe('openDatabase with a hostile schema name', () => {
  /** Counts pools created from now on; each one is still a real pg.Pool, nothing is mocked. */
  const countPools = (): { count: () => number } => {
    const RealPool = pg.Pool;
    const spy = jest.spyOn(pg, 'Pool').mockImplementation((config?: pg.PoolConfig) => new RealPool(config));
    return { count: () => spy.mock.calls.length };
  };
  afterEach(() => jest.restoreAllMocks());

  it('returns InvalidSchemaName and creates no pool', () => {
    const pools = countPools();
    const r = openDatabase({ url: testDatabaseUrl(), schema: 'a;b' });
    expect(r).toEqual(E.left({ _tag: 'InvalidSchemaName', schema: 'a;b' }));
    expect(pools.count()).toBe(0);
  });

  it('a valid name does create its pool (so the count above would have seen one)', async () => {
    const pools = countPools();
    const r = openDatabase({ url: testDatabaseUrl(), schema: 'orbit' });
    expect(pools.count()).toBe(1);
    if (E.isRight(r)) await closeDatabase(r.right);
  });

  it('the error says which name was refused and what is allowed', () => {
    const message = formatError(expectLeft(openDatabase({ url: testDatabaseUrl(), schema: 'x"; DROP SCHEMA orbit; --' })));
    expect(message).toContain('x\\"; DROP SCHEMA orbit; --');
    expect(message).toMatch(/lower-case/);
  });
});

describe('a schema name at the length limit', () => {
  it('works end to end: migrate, append with a notification, read, verify, check', async () => {
    const opened = openDatabase({ url: testDatabaseUrl(), schema: LONGEST, max: 3 });
    if (E.isLeft(opened)) throw new Error(formatError(opened.left));
    const db = opened.right;
    const listener = new pg.Client({ connectionString: testDatabaseUrl() });
    try {
      expect(expectRight(await migrate(db)).alreadyApplied).toBe(0);

      await listener.connect();
      await listener.query(`LISTEN ${quoteIdent(db.channel)}`);
      const notified = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.payload ?? '')));

      const runId = 'long-schema-run';
      const first = expectRight(await appendEvents(db, runId, 0, [created(['only']), claimed('w1')]));
      expectRight(await appendEvents(db, runId, first.lastSeq, [runCancelled('done with it')]));

      const events = expectRight(await readRunEvents(db, runId));
      expect(events.map((e) => [e.seq, e.event.type])).toEqual([
        [1, 'run.created'],
        [2, 'run.claimed'],
        [3, 'run.cancelled'],
      ]);
      expect(JSON.parse(await notified)).toEqual({ run_id: runId, seq: 3, type: 'run.cancelled' });
      expect(expectRight(await verifyJournal(db, runId))).toEqual([]);
      expect(expectRight(await checkProjections(db, [runId])).differences).toEqual([]);
    } finally {
      await listener.end().catch(() => undefined);
      await db.pool.query(`DROP SCHEMA IF EXISTS ${db.qs} CASCADE`).catch(() => undefined);
      await closeDatabase(db);
    }
  });
});
