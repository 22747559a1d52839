/**
 * Usage errors (a bad option value) exit 2 with one line on stderr before any connection is made:
 * `--concurrency abc` once recovered nothing and exited 0, `?port=abc` hung for 10 s and exited
 * 0, `recover --limit -1` was a raw database error, `--metadata null` a NOT NULL violation.
 */
import { createE2eHarness, describeResult, expectExit, type CliResult, type E2eHarness } from '../support/cli';

/** Nothing listens on port 1: a command that tried to connect would say "Cannot reach the database". */
const OFFLINE = ['--database-url', 'postgres://postgres@127.0.0.1:1/x'];

const expectUsage = (r: CliResult, line: string | RegExp): void => {
  expectExit(r, 2);
  if (r.errLines.length !== 1) throw new Error(`expected one line on stderr\n${describeResult(r)}`);
  if (typeof line === 'string') expect(r.errLines[0]).toBe(line);
  else expect(r.errLines[0]).toMatch(line);
  expect(r.stdout).toBe('');
  // Refused before connecting: a command that tried would say "Cannot reach the database" (and
  // exit 1), whatever it waited; the usage line and exit 2 are the proof, not the time taken.
};

describe('usage errors: exit 2, one line, before any connection', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('e2e_usage');
  });
  afterAll(async () => h.dispose());

  it('--concurrency that is not a whole number in range, for recover and worker', async () => {
    for (const [cmd, value] of [
      [['recover', '--auto-resume'], 'abc'],
      [['recover', '--auto-resume', '--json'], '0'],
      [['worker'], 'abc'],
      [['worker'], '-3'],
      [['recover', '--auto-resume'], '1.5'],
      [['recover', '--auto-resume'], '100000'],
    ] as const) {
      const r = await h.cli([...OFFLINE, ...cmd, '--concurrency', value]);
      if (!(cmd as readonly string[]).includes('--json')) {
        expectUsage(r, /^Error: Invalid --concurrency: .* (is not a whole number|is out of range) \(use 1 to 256\)$/);
        continue;
      }
      // --json: the same error as a JSON line, its tag first.
      expectUsage(r, /^\{"error":\{"_tag":"InvalidInput","what":"--concurrency",/);
      expect(JSON.parse(r.errLines[0] ?? '')).toEqual({
        error: { _tag: 'InvalidInput', what: '--concurrency', message: '0 is out of range (use 1 to 256)' },
        message: 'Invalid --concurrency: 0 is out of range (use 1 to 256)',
      });
    }
  });

  it('--json: an unknown argument is a JSON line with its tag too', async () => {
    const r = await h.cli([...OFFLINE, '--json', 'frobnicate']);
    expectUsage(r, /^\{"error":\{"_tag":"InvalidInput","what":"arguments",/);
    expect(JSON.parse(r.errLines[0] ?? '')).toMatchObject({
      error: { _tag: 'InvalidInput' },
      message: expect.stringMatching(/frobnicate/),
    });
  });

  it('worker durations that are not durations (--sweep-interval, --grace)', async () => {
    for (const [option, value] of [
      ['--sweep-interval', 'banana'],
      ['--sweep-interval', '15'],
      ['--grace', 'soon'],
    ] as const) {
      const r = await h.cli([...OFFLINE, 'worker', option, value]);
      expectUsage(r, new RegExp(`^Error: Invalid ${option}: `));
    }
  });

  it('recover --limit 0, -1, abc and 1e300 are refused like runs --limit', async () => {
    for (const value of ['0', '-1', 'abc', '1e300']) {
      const r = await h.cli([...OFFLINE, 'recover', '--limit', value]);
      expectUsage(r, /^Error: Invalid --limit: .* \(use 1 to 1000000\)$/);
    }
    const dry = await h.cli([...OFFLINE, 'recover', '--dry-run', '--limit', '0']);
    expectUsage(dry, 'Error: Invalid --limit: 0 is out of range (use 1 to 1000000)');
  });

  it('--metadata that is not JSON is refused without quoting it (it may hold a secret)', async () => {
    const r = await h.cli([...OFFLINE, 'run', 'data-pipeline', '--metadata', '{"password": hunter2-secret}']);
    expectUsage(r, 'Error: Invalid --metadata: not valid JSON (syntax error)');
    expect(r.stderr).not.toContain('hunter2');
  });

  it('--metadata null is refused (a run has metadata; omit the option for {})', async () => {
    const r = await h.cli([...OFFLINE, 'run', 'data-pipeline', '--metadata', 'null']);
    expectUsage(r, /^Error: Invalid --metadata: null is not metadata/);
  });

  it('a --database-url whose port is not a number is refused at once, for every command, and shows no password', async () => {
    const cases: Array<[string, string[]]> = [
      ...[['check-interrupted'], ['runs'], ['run', 'data-pipeline'], ['recover', '--auto-resume'], ['migrate']].map(
        (cmd): [string, string[]] => ['postgres://postgres:s3cret-pw@127.0.0.1:5432/test?port=abc', cmd],
      ),
      ['postgres://postgres:s3cret-pw@127.0.0.1/test?port=70000', ['check-interrupted']],
      ['postgres://postgres:s3cret-pw@127.0.0.1:abc/test', ['check-interrupted']],
    ];
    for (const [url, cmd] of cases) {
      const r = await h.cli(['--database-url', url, ...cmd]);
      expectUsage(r, /^Error: Invalid --database-url: (port ".*" is not a port number \(1 to 65535\)|not a URL: .*)$/);
      expect(r.stderr).not.toContain('s3cret-pw');
    }
  });

  it('a run id outside the run-id grammar is refused by every command that takes one', async () => {
    const bad = 'bad id!';
    const message = `Error: Invalid run id: ${JSON.stringify(bad)} is not a run id (letters, digits, . _ : -; at most 200)`;
    for (const cmd of [
      ['resume', bad],
      ['history', bad],
      ['cancel', bad],
      ['replay', bad, '--at', '1'],
      ['diff', 'run-a', bad],
      ['export', bad],
      ['verify', bad],
    ]) {
      expectUsage(await h.cli([...OFFLINE, ...cmd]), message);
    }
    // Well-formed ids are not refused: run ids are chosen freely (run --run-id), so "not-a-uuid"
    // is a run id like any other, and only the database can say it does not exist (exit 1).
    const unknown = await h.cli(['resume', 'not-a-uuid']);
    expectExit(unknown, 1);
    expect(unknown.stderr).toBe('Error: Run not found: not-a-uuid\n');
  });

  it('replay --at that is neither a seq nor an ISO-8601 time', async () => {
    expectUsage(
      await h.cli([...OFFLINE, 'replay', 'some-run', '--at', 'banana']),
      'Error: Invalid --at: expected a seq (1, 2, ...) or an ISO-8601 time, got "banana"',
    );
    expectUsage(await h.cli([...OFFLINE, 'replay', 'some-run', '--at', '0']), 'Error: Invalid --at: a seq starts at 1');
  });

  it('duration flags with garbage: --threshold (any command), stats --since, worker --grace', async () => {
    for (const cmd of [['runs'], ['check-interrupted'], ['recover', '--auto-resume']]) {
      expectUsage(await h.cli([...OFFLINE, ...cmd, '--threshold', '10']), /^Error: Invalid --threshold: "10" has no unit /);
      expectUsage(
        await h.cli([...OFFLINE, ...cmd, '--threshold', 'soon']),
        /^Error: Invalid --threshold: "soon" is not a duration /,
      );
    }
    expectUsage(await h.cli([...OFFLINE, 'stats', '--since', 'banana']), /^Error: Invalid --since: "banana" is not a duration /);
    expectUsage(await h.cli([...OFFLINE, 'worker', '--grace', 'banana']), /^Error: Invalid --grace: "banana" is not a duration /);
    expectUsage(
      await h.cli([...OFFLINE, 'export', '--all', '--since', 'banana']),
      'Error: Invalid --since: an ISO-8601 time, with --all',
    );
  });

  it('number flags with garbage: runs --limit, worker --metrics-port', async () => {
    expectUsage(
      await h.cli([...OFFLINE, 'runs', '--limit', 'abc']),
      'Error: Invalid --limit: "abc" is not a whole number (use 1 to 1000000)',
    );
    expectUsage(
      await h.cli([...OFFLINE, 'worker', '--metrics-port', '99999']),
      /^Error: Invalid --metrics-port: "99999" is not a port /,
    );
  });

  it('options that cannot go together: history --html --json', async () => {
    // With --json in the line, the error is a JSON line too.
    const r = await h.cli([...OFFLINE, 'history', 'some-run', '--html', '--json']);
    expectUsage(r, /^\{"error":\{"_tag":"InvalidInput","what":"options",/);
    expect(JSON.parse(r.errLines[0] ?? '')).toMatchObject({
      message: 'Invalid options: --html writes a finished page: not with --follow or --json',
    });
    expectUsage(
      await h.cli([...OFFLINE, 'history', 'some-run', '--html', '--follow']),
      'Error: Invalid options: --html writes a finished page: not with --follow or --json',
    );
  });

  it('valid values still work against the real database', async () => {
    const r = await h.cli(['recover', '--auto-resume', '--concurrency', '2', '--limit', '5']);
    expectExit(r, 0);
    expect(r.stdout).toContain('No interrupted runs found');
  });
});
