import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/*
 * The leak check of test/support/leakCheckEnvironment.ts, seen from outside: jest is run on the
 * fixtures of test/fixtures/leaks/ (outside testMatch), and the files that leave a connection or
 * a process behind must fail with a message naming it, while the file that closes both passes.
 */
jest.setTimeout(180_000);

const repoRoot = path.resolve(__dirname, '..', '..');

interface FileResult {
  readonly name: string;
  readonly status: string;
  readonly message: string;
}

const results: FileResult[] = [];
let output = '';

const FIXTURES = ['clean.leak.ts', 'leaky-connection.leak.ts', 'leaky-process.leak.ts'];

// One jest per fixture: with --runInBand the files share a process, so what one leaks would be
// charged to the next one too.
const runFixture = async (file: string): Promise<void> => {
  const dir = mkdtempSync(path.join(tmpdir(), 'orbit-leak-check-'));
  const json = path.join(dir, 'result.json');
  try {
    const jest = spawn(
      process.execPath,
      [
        require.resolve('jest/bin/jest'),
        '--ci',
        '--runInBand',
        '--forceExit',
        '--testMatch',
        `**/test/fixtures/leaks/${file}`,
        '--json',
        '--outputFile',
        json,
      ],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    jest.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    jest.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    await once(jest, 'close');
    const report = JSON.parse(readFileSync(json, 'utf8')) as { testResults: { name: string; status: string; message: string }[] };
    results.push(
      ...report.testResults.map((r) => ({ name: path.relative(repoRoot, r.name), status: r.status, message: r.message })),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

beforeAll(async () => {
  await Promise.all(FIXTURES.map(runFixture));
});

const resultOf = (file: string): FileResult => {
  const r = results.find((x) => x.name === path.join('test', 'fixtures', 'leaks', file));
  if (!r) throw new Error(`no result for ${file} in the jest run:\n${output}`);
  return r;
};

it('passes a file that closes its pool and its child', () => {
  expect(resultOf('clean.leak.ts')).toMatchObject({ status: 'passed' });
});

it('fails a file that leaves a connection open or a server listening, naming each', () => {
  const r = resultOf('leaky-connection.leak.ts');
  expect(r.status).toBe('failed');
  expect(r.message).toContain('leak check: test/fixtures/leaks/leaky-connection.leak.ts left behind:');
  expect(r.message).toMatch(/open PostgreSQL connection: application_name="leaky-fixture" state=idle backend pid \d+/);
  expect(r.message).toContain('last query: "SELECT 1 AS one"');
  expect(r.message).toMatch(/listening TCP socket on 127\.0\.0\.1:\d+/);
});

it('fails a file that leaves processes alive, naming each: its child, and a re-parented grandchild', () => {
  const r = resultOf('leaky-process.leak.ts');
  expect(r.status).toBe('failed');
  expect(r.message).toContain('leak check: test/fixtures/leaks/leaky-process.leak.ts left behind:');
  const listed = [...r.message.matchAll(/live child process: pid (\d+): (.*)/g)].map((m) => ({
    pid: Number(m[1]),
    cmdline: m[2] ?? '',
  }));
  // The fixture's processes outlived its jest; they are this test's to stop.
  for (const p of listed) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  expect(listed.map((p) => p.cmdline.split(' ').pop()).sort()).toEqual(['leaky-fixture-child', 'leaky-fixture-grandchild']);
});
