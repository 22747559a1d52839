/**
 * R8: secrets in the database URL (its password) and in metadata, driven through every error path
 * and output mode (--json, --verbose, ORBIT_DEBUG). Must hold: no secret printed. `orbit history`
 * is left out on purpose: it prints the journal, metadata included, to whoever may read it.
 */
import { orbit, prepareSchema, sleep, waitUntil } from './context';
import type { Ctx, ScenarioResult } from './context';

export const r8 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r8_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const pw = `pw-${ctx.seed}-S3cr3t`;
  const secret = `hunter2-${ctx.seed}-nested`;
  const withPw = (u: string): string => {
    const x = new URL(u);
    x.password = pw;
    return x.toString();
  };
  const url = withPw(ctx.cluster.url);
  const at = (host: string, port: number, db = 'postgres') => `postgres://postgres:${pw}@${host}:${port}/${db}`;
  const deep = `{"x":${'['.repeat(300)}"${secret}"${']'.repeat(300)}}`;
  const debug = { ORBIT_DEBUG: '1' };

  const cases: ReadonlyArray<readonly [string, readonly string[], Record<string, string>?]> = [
    ['check-interrupted', ['check-interrupted']],
    ['check-interrupted --json', ['check-interrupted', '--json']],
    ['run with a secret in metadata', ['run', 'chaos-4', '--metadata', JSON.stringify({ token: secret, sleeps: [1, 1, 1, 1] })]],
    ['run --json with a secret in metadata', ['--json', 'run', 'chaos-4', '--metadata', JSON.stringify({ token: secret })]],
    [
      'metadata its codec rejects',
      ['run', 'chaos-secret', '--metadata', JSON.stringify({ user: 'u', password: { plain: secret } })],
    ],
    [
      'metadata its codec rejects (debug)',
      ['run', 'chaos-secret', '--metadata', JSON.stringify({ user: 'u', password: { plain: secret } })],
      debug,
    ],
    [
      'metadata its codec rejects (--json)',
      ['--json', 'run', 'chaos-secret', '--metadata', JSON.stringify({ user: 7, password: secret })],
    ],
    ['metadata with NUL', ['run', 'chaos-secret', '--metadata', JSON.stringify({ user: 'u', password: `${secret}\u0000` })]],
    ['metadata too deep', ['run', 'chaos-4', '--metadata', deep]],
    ['metadata not JSON', ['run', 'chaos-4', '--metadata', `{"password": "${secret}"`]],
    ['metadata not JSON (bare word)', ['run', 'chaos-4', '--metadata', `{"password": ${secret}}`]],
    ['step that fails', ['run', 'chaos-secret', '--metadata', JSON.stringify({ user: 'fail', password: secret })]],
    [
      'step that fails (debug, --json)',
      ['--json', 'run', 'chaos-secret', '--metadata', JSON.stringify({ user: 'fail', password: secret })],
      debug,
    ],
    ['port=abc', ['--database-url', `${url}?port=abc`, 'check-interrupted']],
    ['closed port', ['--database-url', at('127.0.0.1', 1), 'check-interrupted']],
    ['closed port (debug)', ['--database-url', at('127.0.0.1', 1), 'check-interrupted'], debug],
    ['unknown database', ['--database-url', at('127.0.0.1', ctx.cluster.port, 'no_such_db'), 'check-interrupted']],
    ['unknown host', ['--database-url', at('no-such-host.invalid', 5432), 'runs']],
    ['bad scheme', ['--database-url', `mysql://root:${pw}@127.0.0.1/x`, 'runs']],
    ['bad schema name', ['--schema', 'bad;name', 'check-interrupted']],
    ['unknown run', ['resume', 'no-such-run', '--verbose']],
    ['cancel unknown run', ['cancel', 'no-such-run']],
    ['runs', ['runs']],
    ['runs --json', ['runs', '--json']],
    ['stats', ['stats']],
    ['migrate', ['migrate']],
    ['recover --auto-resume --verbose', ['recover', '--auto-resume', '--verbose', '--threshold', '1s']],
    ['recover --dry-run --json', ['recover', '--dry-run', '--json', '--threshold', '1s']],
  ];

  let scanned = 0;
  let leaks = 0;
  const failures: string[] = [];
  const scan = (name: string, text: string): void => {
    scanned += 1;
    for (const s of [pw, secret]) {
      if (text.includes(s)) {
        leaks += 1;
        const line = text.split('\n').find((l) => l.includes(s)) ?? '';
        failures.push(`${name}: printed a secret: ${line.slice(0, 160)}`);
      }
    }
  };
  for (const [name, args, env] of ctx.small ? cases.filter((_, i) => i % 7 === 0) : cases) {
    const r = await orbit(ctx, schema, args, { env: { DATABASE_URL: url, ...(env ?? {}) } }).done;
    scan(name, r.stdout + r.stderr);
  }
  // A worker, verbose, that recovers a run carrying a secret, then stops.
  const w = orbit(ctx, schema, ['worker', '--verbose', '--threshold', '1s'], { env: { DATABASE_URL: url } });
  await waitUntil('the worker to listen', async () => w.stdout().includes('Recovery worker'), 30_000);
  await sleep(1_500);
  w.child.kill('SIGTERM');
  const wr = await w.done;
  scan('worker --verbose', wr.stdout + wr.stderr);

  return {
    id: 'R8',
    title: 'secrets in DATABASE_URL and metadata at every error path and output mode',
    figures: [
      ['outputs scanned', scanned],
      ['leaks', leaks],
    ],
    failures,
    ms: Date.now() - t0,
  };
};
