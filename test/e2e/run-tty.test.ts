/**
 * `orbit run` on a terminal shows a long step running (elapsed time, rewritten in place, erased
 * when the step ends); piped, its output has none of it. The terminal is a real pseudo-terminal
 * from util-linux `script`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CLI_PATH, REPO_ROOT, createE2eHarness, expectExit, newE2eRunId, type E2eHarness } from '../support/cli';

const run = promisify(execFile);
/** Single quotes for sh: the command line `script -c` runs. */
const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe('orbit run: a long step shows it is running', () => {
  let h: E2eHarness;
  beforeAll(async () => {
    h = await createE2eHarness('e2e_tty');
  });
  afterAll(async () => h.dispose());

  const metadata = JSON.stringify({ sleepMs: { 'transform-data': 2_600 } });

  it('on a terminal: an elapsed-time line for the 2.6 s step, erased before the step line', async () => {
    const runId = newE2eRunId('tty');
    const argv = h.argv(['run', 'data-pipeline', '--run-id', runId, '--metadata', metadata]);
    const command = [process.execPath, CLI_PATH, ...argv].map(sh).join(' ');
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: h.url, NO_COLOR: '1', TERM: 'xterm' };
    for (const k of Object.keys(env)) if (k.startsWith('ORBIT_')) delete env[k];
    const { stdout } = await run('script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, env, timeout: 60_000 });
    // The line is rewritten in place: carriage return + erase-line (shown as <CLR>), spinner, name, whole seconds.
    const shown = stdout.split('\r\u001b[K').join('<CLR>');
    expect(shown).toMatch(/<CLR>. transform-data running 1s/);
    expect(shown).toMatch(/<CLR>. transform-data running 2s/);
    // Erased before the step's own line, which then reads as it does when piped.
    expect(shown).toMatch(/running 2s<CLR>✓ transform-data \(\d+ ms\)/);
    // Fast steps never got one.
    expect(stdout).not.toMatch(/fetch-data running/);
    expect(stdout).toContain(`Run ${runId} succeeded`);
  });

  it('piped: no running line and no control characters', async () => {
    const r = await h.cli(['run', 'data-pipeline', '--run-id', newE2eRunId('pipe'), '--metadata', metadata]);
    expectExit(r, 0);
    expect(r.stdout).not.toContain('running');
    expect([r.stdout.includes('\r'), r.stdout.includes('\u001b')]).toEqual([false, false]);
    expect(r.lines.filter((l) => l.startsWith('✓ ')).map((l) => l.split(' ')[1])).toEqual([
      'fetch-data',
      'transform-data',
      'load-data',
      'notify',
      'Run',
    ]);
  });
});
