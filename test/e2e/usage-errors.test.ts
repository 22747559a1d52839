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
  // Refused before connecting: no connect timeout was waited out.
  expect(r.durationMs).toBeLessThan(5_000);
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
      expectUsage(r, /^Error: Invalid --concurrency: .* (is not a whole number|is out of range) \(use 1 to 256\)$/);
    }
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

  it('valid values still work against the real database', async () => {
    const r = await h.cli(['recover', '--auto-resume', '--concurrency', '2', '--limit', '5']);
    expectExit(r, 0);
    expect(r.stdout).toContain('No interrupted runs found');
  });
});
