/**
 * Issue 20 items 16 and 18, as an outside user met them: `-` for stdin, a data directory that
 * cannot be made, negative durations, bad schema names, `--help` on an unknown command, a
 * pipelines module that throws, and output that said more than it should.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createE2eHarness, expectExit, type CliResult, type E2eHarness } from '../support/cli';

let h: E2eHarness;
let dir: string;
beforeAll(async () => {
  h = await createE2eHarness('e2e_outside');
  dir = mkdtempSync(path.join(tmpdir(), 'orbit-e2e-outside-'));
});
afterAll(async () => {
  await h.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Exit 2 with exactly one line on stderr and nothing on stdout. */
const expectUsage = (r: CliResult, line: string | RegExp): void => {
  expectExit(r, 2);
  expect(r.stdout).toBe('');
  expect(r.errLines).toHaveLength(1);
  if (typeof line === 'string') expect(r.errLines[0]).toBe(line);
  else expect(r.errLines[0]).toMatch(line);
};

describe('item 16: bad values and odd arguments', () => {
  it('"-" reads stdin: verify --file - and import -', async () => {
    const run = await h.cli(['run', 'etl-pipeline', '--run-id', 'stdin-1']);
    expectExit(run, 0);
    const exported = await h.cli(['export', 'stdin-1']);
    expectExit(exported, 0);

    const verified = await h.cli(['verify', '--file', '-'], { input: exported.stdout });
    expectExit(verified, 0);
    expect(verified.lines).toEqual([
      expect.stringMatching(/^✓ Export verified: 1 run\(s\), \d+ event\(s\), every hash chain intact/),
    ]);

    const other = await createE2eHarness('e2e_outside_import');
    try {
      const imported = await other.cli(['import', '-'], { input: exported.stdout });
      expectExit(imported, 0);
      expect(imported.lines[0]).toMatch(/^✓ Imported 1 run\(s\), \d+ event\(s\)/);
      expect((await other.run('stdin-1'))?.status).toBe('success');
    } finally {
      await other.dispose();
    }
  });

  it('a --data-dir that cannot be created fails at once (it hung in a recursive mkdir)', async () => {
    const r = await h.cli(['--data-dir', '/proc/nope', 'runs'], {
      schema: false,
      env: { DATABASE_URL: undefined },
      timeoutMs: 30_000,
    });
    expectExit(r, 1);
    expect(r.errLines).toEqual([expect.stringMatching(/^Error: Cannot reach the database: cannot create \/proc\/nope /)]);
  });

  it("a --data-dir through a file is refused, not silently replaced by root's shared home", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orbit-datadir-file-'));
    try {
      const file = path.join(dir, 'plain-file');
      writeFileSync(file, 'not a directory');
      const r = await h.cli(['--data-dir', path.join(file, 'x'), 'runs'], {
        schema: false,
        env: { DATABASE_URL: undefined },
        timeoutMs: 30_000,
      });
      expectExit(r, 1);
      expect(r.errLines).toEqual([
        expect.stringMatching(/^Error: Cannot reach the database: cannot create .*plain-file\/x .*ENOTDIR/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--threshold -1m is an invalid duration, not "Name a command"', async () => {
    const r = await h.cli(['--threshold', '-1m', 'runs']);
    expectUsage(r, /^Error: Invalid --threshold: "-1m" is not a duration/);
  });

  it('an invalid --schema or ORBIT_SCHEMA is a usage error (exit 2) like every other bad value', async () => {
    const flag = await h.cli(['--schema', 'Bad-Name', 'runs'], { schema: false });
    expectUsage(flag, /^Error: Invalid schema name "Bad-Name": /);
    const env = await h.cli(['runs'], { schema: false, env: { ORBIT_SCHEMA: 'pg_nope' } });
    expectUsage(env, /^Error: Invalid schema name "pg_nope": /);
  });

  it('an unknown command with --help is an unknown command, not the global help', async () => {
    const r = await h.cli(['nosuch', '--help']);
    expectUsage(r, 'Error: unknown command "nosuch". Run "orbit --help" for usage.');
    const typo = await h.cli(['histroy', 'x', '-h']);
    expectUsage(typo, 'Error: unknown command "histroy". Did you mean "history"? Run "orbit --help" for usage.');
    // A known command's help is still help.
    expectExit(await h.cli(['history', '--help']), 0);
    // So is an unknown action of a command that has a fixed set of them, and a known action's help is help.
    expectUsage(
      await h.cli(['db', 'nosuch', '--help']),
      'Error: Unknown action for db: nosuch (choose from status, start, stop, url). Run "orbit --help" for usage.',
    );
    expectUsage(
      await h.cli(['schedule', 'frob', '-h']),
      'Error: Unknown action for schedule: frob (choose from add, list, remove). Run "orbit --help" for usage.',
    );
    expectExit(await h.cli(['schedule', 'add', '--help']), 0);
  });

  it('a pipelines module that throws is named with the file and line; --verbose adds the stack', async () => {
    const file = path.join(dir, 'throws.js');
    writeFileSync(file, "const x = 1;\nfunction boom() {\n  throw new Error('kaboom');\n}\nboom();\n");
    const r = await h.cli(['--pipelines', file, 'run', 'anything'], { pipelines: false });
    expectExit(r, 1);
    expect(r.errLines).toEqual([`Error: Invalid pipelines module: ${file} failed to load: kaboom (at ${file}:3:9)`]);

    const verbose = await h.cli(['--pipelines', file, '--verbose', 'run', 'anything'], { pipelines: false });
    expectExit(verbose, 1);
    expect(verbose.stderr).toContain(`at boom (${file}:3:9)`);

    const syntax = path.join(dir, 'syntax.js');
    writeFileSync(syntax, 'module.exports = [\n  oops oops\n];\n');
    const s = await h.cli(['--pipelines', syntax, 'run', 'anything'], { pipelines: false });
    expectExit(s, 1);
    expect(s.errLines).toEqual([expect.stringMatching(new RegExp(`failed to load: SyntaxError: .* \\(at ${syntax}:2\\)$`))]);
  });
});

describe('item 18: output that says what matters', () => {
  it('check-interrupted summarises failed runs: the count, one line each for the newest five, where to see the rest', async () => {
    const failing = Array.from({ length: 7 }, (_, i) => `failed-${i}`);
    const runs = await Promise.all(
      failing.map((id) => h.cli(['run', 'data-pipeline', '--run-id', id, '--metadata', '{"fatal":"transform-data"}'])),
    );
    for (const r of runs) expectExit(r, 1);
    const r = await h.cli(['check-interrupted']);
    expectExit(r, 0);
    const at = r.lines.indexOf('Runs that failed with failed steps (last 24 h): 7');
    expect(at).toBeGreaterThan(0);
    const lines = r.lines.slice(at + 1);
    const runLines = lines.filter((l) => /^ {2}failed-\d /.test(l));
    expect(runLines).toHaveLength(5);
    for (const l of runLines) {
      expect(l).toMatch(
        /^ {2}failed-\d {2}data-pipeline {2}\d{4}-\d\d-\d\dT\S+Z {2}transform-data: NonRetryableError: transform-data cannot succeed$/,
      );
    }
    expect(lines).toContain('  … and 2 more');
    expect(lines).toContain('See each with its error: orbit runs --status failed; one in full: orbit history <runId>');
    expect(r.stdout).not.toContain('Run ID: failed-');
  });

  it('orbit runs shows a released run as released and waiting, not "running … so far"', async () => {
    const started = await h.startRunUntil('data-pipeline', { sleepMs: { 'fetch-data': 300 } }, (ev) =>
      ev.some((e) => e.type === 'step.started'),
    );
    started.proc.kill('SIGTERM');
    expectExit(await started.proc.done, 130);
    const r = await h.cli(['runs', '--limit', '1000']);
    expectExit(r, 0);
    const line = r.lines.find((l) => l.startsWith(`${started.runId} `));
    expect(line).toMatch(/ data-pipeline +released +\d\/4 +\S+ +waiting \d+(\.\d)?m?s$/);
    const json = JSON.parse((await h.cli(['runs', '--json', '--limit', '1000'])).stdout) as { runId: string; owner: unknown }[];
    expect(json.find((x) => x.runId === started.runId)).toMatchObject({ owner: null, status: 'running' });
  });
});
