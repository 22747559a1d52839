/**
 * Bad input gets one clear line on stderr, a non-zero exit, and changes nothing (DESIGN invariant 6).
 */
import { Client } from 'pg';
import {
  createE2eHarness,
  describeResult,
  expectExit,
  newE2eRunId,
  randomHex,
  type CliResult,
  type E2eHarness,
  type TableCounts,
} from '../support/cli';

/** Exactly one stderr line, the `Error: …` one, and a non-zero exit. */
const expectOneErrorLine = (r: CliResult, message: string | RegExp): string => {
  if (r.code === 0 || r.code === null) throw new Error(`expected a non-zero exit\n${describeResult(r)}`);
  if (r.errLines.length !== 1)
    throw new Error(`expected exactly one line on stderr, got ${r.errLines.length}\n${describeResult(r)}`);
  const line = r.errLines[0] as string;
  expect(line.startsWith('Error: ')).toBe(true);
  if (typeof message === 'string') expect(line).toBe(message);
  else expect(line).toMatch(message);
  return line;
};

describe('bad input: one line on stderr, non-zero exit, journal unchanged', () => {
  let h: E2eHarness;
  let succeededRunId: string;
  let failedRunId: string;
  let before: TableCounts;

  beforeAll(async () => {
    h = await createE2eHarness('e2e_bad');
    succeededRunId = newE2eRunId('ok');
    failedRunId = newE2eRunId('fatal');
    // One finished run of each kind to refuse things against (a run that failed is itself exit 1).
    const [ok, fatal] = await Promise.all([
      h.cli(['run', 'data-pipeline', '--run-id', succeededRunId]),
      h.cli(['run', 'data-pipeline', '--run-id', failedRunId, '--metadata', JSON.stringify({ fatal: 'transform-data' })]),
    ]);
    expectExit(ok as CliResult, 0);
    expectExit(fatal as CliResult, 1);
    expect((await h.run(failedRunId))?.status).toBe('failed');
  });

  beforeEach(async () => {
    before = await h.counts();
  });

  afterEach(async () => {
    // Whatever the command, the journal and its projections are exactly as they were.
    expect(await h.counts()).toEqual(before);
  });

  afterAll(async () => {
    await h.dispose();
  });

  it('resume of an unknown run: "Run not found: no-such-run"', async () => {
    const r = await h.cli(['resume', 'no-such-run']);
    expectExit(r, 1);
    expectOneErrorLine(r, 'Error: Run not found: no-such-run');
  });

  it('run with --metadata that is not JSON is refused', async () => {
    const r = await h.cli(['run', 'data-pipeline', '--metadata', '{bad json']);
    expectExit(r, 2);
    expectOneErrorLine(r, /^Error: Invalid --metadata: not valid JSON \(.+\)$/);
    expect(r.stdout).toBe('');
  });

  it('run of an unknown pipeline says the pipeline definition must be available', async () => {
    const r = await h.cli(['run', 'no-such-pipeline']);
    expectExit(r, 1);
    const line = expectOneErrorLine(r, /^Error: Pipeline "no-such-pipeline" is not registered/);
    expect(line).toContain('the pipeline definition must be available');
    expect(line).toContain('data-pipeline');
  });

  it('a malformed run id or metadata is refused before any connection is made', async () => {
    // The database given does not exist: had the command connected, it would say so instead.
    const offline = ['--database-url', 'postgres://postgres@127.0.0.1:1/x'];
    for (const args of [
      ['resume', 'not a run id!'],
      ['cancel', 'x'.repeat(201)],
      ['history', 'semi;colon'],
      ['run', 'data-pipeline', '--run-id', 'with space'],
      ['run', 'data-pipeline', '--metadata', '[1,'],
    ]) {
      const r = await h.cli([...offline, ...args]);
      // A malformed argument or option value is a usage error: 2, before any connection.
      expectExit(r, 2);
      expectOneErrorLine(r, /^Error: Invalid (run id|--metadata): /);
    }
  });

  it('metadata that is JSON but not an object is refused by its kind, before any connection', async () => {
    const offline = ['--database-url', 'postgres://postgres@127.0.0.1:1/x'];
    for (const [text, kind] of [
      ['[1,2]', 'an array'],
      ['"str"', 'a string'],
      ['7', 'a number'],
    ]) {
      const r = await h.cli([...offline, 'run', 'data-pipeline', '--metadata', text as string]);
      expectExit(r, 2);
      expectOneErrorLine(
        r,
        new RegExp(
          `^Error: Invalid --metadata: metadata is a JSON object such as '\\{"batchId":"b-7"\\}', not ${kind as string}`,
        ),
      );
    }
  });

  it('an unreachable database is one line, not a stack trace', async () => {
    const r = await h.cli(['--database-url', 'postgres://postgres@127.0.0.1:1/x', 'check-interrupted']);
    expectExit(r, 1);
    expectOneErrorLine(r, /^Error: Cannot reach the database: .*ECONNREFUSED.*$/);
  });

  it('a refused login (wrong password, or an unknown database on a trust-auth server) is one line and leaks no password', async () => {
    const u = new URL(h.url);
    u.password = `wrong-${randomHex(4)}`;
    // Does this server check passwords at all? Many local/CI servers use trust authentication.
    const probe = new Client({ connectionString: u.toString(), connectionTimeoutMillis: 5000 });
    probe.on('error', () => undefined);
    const checksPasswords = await probe.connect().then(
      async () => {
        await probe.end();
        return false;
      },
      () => true,
    );
    if (checksPasswords) {
      const r = await h.cli(['--database-url', u.toString(), 'check-interrupted']);
      expectExit(r, 1);
      const line = expectOneErrorLine(r, /^Error: Cannot reach the database: .*password authentication failed/);
      expect(line).not.toContain(u.password);
    } else {
      const missing = `orbit_e2e_missing_${randomHex(4)}`;
      const v = new URL(h.url);
      v.pathname = `/${missing}`;
      v.password = u.password;
      const r = await h.cli(['--database-url', v.toString(), 'check-interrupted']);
      expectExit(r, 1);
      const line = expectOneErrorLine(r, `Error: Cannot reach the database: database "${missing}" does not exist`);
      expect(line).not.toContain(u.password);
    }
  });

  it('a schema name that is not a plain identifier is refused before any SQL runs', async () => {
    const r = await h.cli(['--schema', 'bad;name', 'check-interrupted'], { schema: false });
    expectExit(r, 2);
    expectOneErrorLine(r, /^Error: Invalid schema name "bad;name": /);
    const schemas = await h.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bad%'`);
    expect(schemas.rows).toEqual([]);
  });

  it('resume of a run with a failed step: "Run has 1 failed step(s), cannot auto-resume"', async () => {
    const r = await h.cli(['resume', failedRunId]);
    expectExit(r, 1);
    expectOneErrorLine(r, 'Error: Run has 1 failed step(s), cannot auto-resume');
    expect((await h.run(failedRunId))?.status).toBe('failed');
  });

  it('cancel of a finished run is refused', async () => {
    const r = await h.cli(['cancel', succeededRunId]);
    expectExit(r, 1);
    expectOneErrorLine(r, `Error: Run ${succeededRunId} cannot be cancelled: it has already succeeded`);
    const f = await h.cli(['cancel', failedRunId]);
    expectExit(f, 1);
    expectOneErrorLine(f, `Error: Run ${failedRunId} cannot be cancelled: it has already failed`);
  });

  it('--threshold banana is refused', async () => {
    const r = await h.cli(['--threshold', 'banana', 'check-interrupted']);
    expectExit(r, 2);
    expectOneErrorLine(
      r,
      'Error: Invalid --threshold: "banana" is not a duration (use a number with a unit: 500ms, 30s, 10m, 1h, 2d, e.g. 10m). Run "orbit --help" for usage.',
    );
  });

  it('orbit --help and orbit resume --help exit 0 and describe the options', async () => {
    const [top, resume] = await Promise.all([
      h.cli(['--help'], { schema: false, pipelines: false }),
      h.cli(['resume', '--help']),
    ]);
    expectExit(top, 0);
    for (const o of ['--database-url', '--schema', '--pipelines', '--threshold', '--auto-recover', '--json'])
      expect(top.stdout).toContain(o);
    for (const c of ['run <pipeline>', 'check-interrupted', 'resume <runId>', 'recover', 'cancel <runId>', 'migrate', 'verify']) {
      expect(top.stdout).toContain(`orbit ${c}`);
    }
    expectExit(resume, 0);
    expect(resume.stdout).toContain('orbit resume <runId>');
    for (const o of ['runId', '--retry-failed', '--force', '--verbose', '--threshold', '--json'])
      expect(resume.stdout).toContain(o);
    expect(top.stderr).toBe('');
    expect(resume.stderr).toBe('');
  });
});
