/**
 * R9: bad input to the CLI and the API. Each must get one clear line (CLI: one `Error:` line on
 * stderr and a documented exit code, 2 for usage before any connection; API: a Left, never a
 * throw) and leave the journal exactly as it was (row count and hashes, projections).
 */
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { Client } from 'pg';
import { closeDatabase } from '../../src/db/database';
import { channelFor } from '../../src/db/identifiers';
import { formatError, type OrbitError } from '../../src/errors';
import type { RunEvent } from '../../src/events/runEvents';
import { cancelRun } from '../../src/executor/cancelRun';
import { runPipeline } from '../../src/executor/runPipeline';
import { appendEvents } from '../../src/journal/appendEvents';
import { readRunEvents } from '../../src/journal/readEvents';
import { definePipeline, definitionHashOf } from '../../src/pipeline/definePipeline';
import { createRegistry } from '../../src/pipeline/registry';
import { detectInterruptedRuns } from '../../src/api/detectInterruptedRuns';
import { RunRecoveryOrchestrator } from '../../src/api/runRecoveryOrchestrator';
import { resumeRun } from '../../src/recovery/resumeRun';
import { connect, type OrbitClient } from '../../src/runtime/orbitClient';
import { openDb, orbit, prepareSchema, sleep, waitUntil } from './context';
import type { Ctx, ScenarioResult } from './context';

const GHOST = 'chaos-ghost-host:999998:dead';
const OFFLINE = 'postgres://postgres@127.0.0.1:1/x';

interface CliCase {
  readonly name: string;
  readonly args: readonly string[];
  readonly exit: 1 | 2;
  /** Usage errors run against a closed port: had they connected, they would say so. */
  readonly offline?: boolean;
  readonly schema?: string;
  readonly line?: RegExp;
}

/** Row count and a digest of every hash and projection row: any write changes it. */
const fingerprint = async (ctx: Ctx, schema: string): Promise<string> => {
  const s = `"${schema}"`;
  const r = await ctx.pool.query<{ f: string }>(
    `SELECT (SELECT count(*) FROM ${s}.run_events)::text || ':' ||
            coalesce((SELECT md5(string_agg(encode(hash, 'hex'), '' ORDER BY position)) FROM ${s}.run_events), '') || ':' ||
            coalesce((SELECT md5(string_agg(r::text, '' ORDER BY id)) FROM ${s}.runs r), '') || ':' ||
            coalesce((SELECT md5(string_agg(x::text, '' ORDER BY run_id, step_index)) FROM ${s}.steps x), '') AS f`,
  );
  return r.rows[0]?.f ?? '';
};

export const r9 = async (ctx: Ctx): Promise<ScenarioResult> => {
  const t0 = Date.now();
  const schema = `chaos_r9_${ctx.seed}`;
  await prepareSchema(ctx, schema);
  const failures: string[] = [];

  // Runs to refuse things against: succeeded, failed, cancelled, changed definition, undecodable.
  const ok = `r9-ok-${ctx.seed}`;
  const failed = `r9-failed-${ctx.seed}`;
  const cancelled = `r9-cancelled-${ctx.seed}`;
  const drifted = `r9-drifted-${ctx.seed}`;
  const broken = `r9-undecodable-${ctx.seed}`;
  const [a, b, c] = await Promise.all([
    orbit(ctx, schema, ['run', 'chaos-4', '--run-id', ok]).done,
    orbit(ctx, schema, ['run', 'chaos-fail', '--run-id', failed]).done,
    orbit(ctx, schema, ['run', 'chaos-4', '--run-id', cancelled, '--metadata', '{"sleeps":[60000]}']).done.then(() => undefined),
    (async () => {
      await waitUntil(
        'the run to start',
        async () =>
          ((await ctx.pool.query(`SELECT 1 FROM "${schema}".runs WHERE id = $1`, [cancelled]).catch(() => ({ rowCount: 0 })))
            .rowCount ?? 0) > 0,
        30_000,
      );
      const x = await orbit(ctx, schema, ['cancel', cancelled]).done;
      if (x.code !== 0) failures.push(`setup: cancel exited ${x.code}: ${x.stderr.trim()}`);
    })(),
  ]);
  if (a?.code !== 0 || b?.code !== 1 || c !== undefined) failures.push('setup: the reference runs did not end as planned');
  const db = openDb(ctx, schema);
  try {
    const steps4 = ['s1', 's2', 's3', 's4'];
    const seeded = async (runId: string, steps: string[]): Promise<void> => {
      const ev: RunEvent[] = [
        {
          type: 'run.created',
          payload: {
            pipelineId: 'chaos-4',
            steps,
            definitionHash: definitionHashOf('chaos-4', steps),
            metadata: {},
            triggeredBy: 'chaos',
          },
        },
        { type: 'run.claimed', payload: { worker: GHOST } },
      ];
      const r = await appendEvents(db, runId, 0, ev, GHOST);
      if (E.isLeft(r)) throw new Error(formatError(r.left));
    };
    await seeded(drifted, ['s1', 's2', 's3']);
    await seeded(broken, steps4);
    // An event no codec accepts (an unknown type), inserted behind Orbit's back as `psql` would, hash chained.
    await ctx.pool.query(
      `INSERT INTO "${schema}".run_events (run_id, seq, type, step_name, attempt, payload, writer, event_id, hash, occurred_at)
       SELECT $1, 3, 'step.exploded', 's1', 1, '{"bogus": true}'::jsonb, 'psql', id,
              "${schema}".event_hash(p.hash, $1, 3, 'step.exploded', 's1', 1, '{"bogus": true}'::jsonb, ts, 'psql', id), ts
         FROM (SELECT hash, date_trunc('milliseconds', now()) AS ts, gen_random_uuid() AS id
                 FROM "${schema}".run_events WHERE run_id = $1 AND seq = 2) p`,
      [broken],
    );
  } finally {
    await closeDatabase(db);
  }

  const offlineUsage = (name: string, args: readonly string[], line?: RegExp): CliCase => ({
    name,
    args,
    exit: 2,
    offline: true,
    line,
  });
  const cases: CliCase[] = [
    ...[
      ['run', 'chaos-4'],
      ['check-interrupted'],
      ['resume', 'x'],
      ['recover'],
      ['worker'],
      ['cancel', 'x'],
      ['runs'],
      ['history', 'x'],
      ['migrate'],
    ].map((cmd) => offlineUsage(`unknown flag on ${cmd[0]}`, [...cmd, '--bogus-flag'], /Unknown argument/)),
    offlineUsage('unknown command', ['frobnicate']),
    offlineUsage('no command', []),
    ...['abc', '0', '-1', '1.5', '1e300'].map((v) =>
      offlineUsage(`recover --concurrency ${v}`, ['recover', '--auto-resume', '--concurrency', v], /Invalid --concurrency/),
    ),
    ...['abc', '0'].map((v) =>
      offlineUsage(`worker --concurrency ${v}`, ['worker', '--concurrency', v], /Invalid --concurrency/),
    ),
    ...['0', '-1', 'abc', '1e300'].map((v) => offlineUsage(`recover --limit ${v}`, ['recover', '--limit', v], /Invalid --limit/)),
    ...['0', 'abc'].map((v) => offlineUsage(`runs --limit ${v}`, ['runs', '--limit', v], /Invalid --limit/)),
    ...['null', '{bad', ''].map((v) =>
      offlineUsage(`run --metadata ${JSON.stringify(v)}`, ['run', 'chaos-4', '--metadata', v], /Invalid --metadata/),
    ),
    ...[
      'postgres://postgres:pw@127.0.0.1:5432/x?port=abc',
      'postgres://postgres@127.0.0.1/x?port=0',
      'postgres://postgres@127.0.0.1/x?port=99999',
      'mysql://root@127.0.0.1/x',
      'not a url',
    ].map((u) => offlineUsage(`--database-url ${u}`, ['--database-url', u, 'check-interrupted'], /Invalid --database-url/)),
    ...[['run'], ['resume'], ['cancel'], ['history']].map((cmd) => offlineUsage(`${cmd[0]} without its argument`, cmd)),
    // Bad input: exit 1 (some before any connection, some after).
    ...[
      ['resume', 'bad id!'],
      ['cancel', 'x'.repeat(201)],
      ['history', 'semi;colon'],
      ['run', 'chaos-4', '--run-id', 'with space'],
    ].map((args): CliCase => ({
      name: `malformed run id: ${args.join(' ').slice(0, 40)}`,
      args,
      exit: 1,
      offline: true,
      line: /Invalid run id/,
    })),
    ...[
      ['resume', 'no-such-run'],
      ['cancel', 'no-such-run'],
      ['history', 'no-such-run'],
    ].map((args): CliCase => ({ name: `unknown run: ${args[0]}`, args, exit: 1, line: /Run not found: no-such-run/ })),
    { name: 'unknown pipeline', args: ['run', 'no-such-pipeline'], exit: 1, line: /is not registered/ },
    ...['x;drop table y', 'Robert");DROP SCHEMA public;--', 'pg_catalog', 'a'.repeat(64), '$1', '%s%n', 'UPPER'].map(
      (s): CliCase => ({
        name: `schema ${JSON.stringify(s).slice(0, 24)}`,
        args: ['check-interrupted'],
        schema: s,
        exit: 2,
        line: /Invalid schema name/,
      }),
    ),
    // Durations are checked before connecting: a usage error.
    ...['banana', '-5s', '5 parsecs', '99999999999999999999d'].map((v) =>
      offlineUsage(`--threshold ${v}`, [`--threshold=${v}`, 'check-interrupted'], /--threshold/),
    ),
    offlineUsage('worker --sweep-interval banana', ['worker', '--sweep-interval', 'banana'], /Invalid --sweep-interval/),
    { name: 'resume a succeeded run', args: ['resume', ok], exit: 1 },
    { name: 'resume a cancelled run', args: ['resume', cancelled], exit: 1 },
    { name: 'resume a failed run', args: ['resume', failed], exit: 1, line: /failed step/ },
    { name: 'resume a run whose pipeline changed', args: ['resume', drifted, '--threshold', '1s'], exit: 1 },
    { name: 'cancel a succeeded run', args: ['cancel', ok], exit: 1, line: /cannot be cancelled/ },
    { name: 'resume a run with an undecodable event', args: ['resume', broken, '--threshold', '1s'], exit: 1 },
    { name: 'history of a run with an undecodable event', args: ['history', broken], exit: 1, line: /Undecodable event/ },
    {
      name: 'pipelines module that does not exist',
      args: ['--pipelines', '/nonexistent/pipelines.js', 'run', 'chaos-4'],
      exit: 1,
    },
    {
      name: 'unreachable database',
      args: ['--database-url', OFFLINE, 'check-interrupted'],
      exit: 1,
      line: /Cannot reach the database/,
    },
    {
      name: 'metadata its codec rejects',
      args: ['run', 'chaos-secret', '--metadata', '{"user":"u","password":5}'],
      exit: 1,
      line: /Invalid metadata/,
    },
    {
      name: 'metadata nested 300 deep',
      args: ['run', 'chaos-4', '--metadata', `{"x":${'['.repeat(300)}${']'.repeat(300)}}`],
      exit: 1,
      line: /levels deep/,
    },
    { name: 'run id that already exists', args: ['run', 'chaos-4', '--run-id', ok], exit: 1, line: /already exists/ },
  ];

  let passed = 0;
  let tried = 0;
  const before = await fingerprint(ctx, schema);
  let journalChanges = 0;
  const check = async (name: string, verdict: string | undefined): Promise<void> => {
    tried += 1;
    const now = await fingerprint(ctx, schema);
    if (now !== before) {
      journalChanges += 1;
      verdict = verdict ?? 'the journal changed';
    }
    if (verdict === undefined) passed += 1;
    else failures.push(`${name}: ${verdict}`);
  };

  // The small version (npm test) tries every tenth CLI case; the API and NOTIFY cases are cheap.
  for (const k of ctx.small ? cases.filter((_, i) => i % 10 === 0) : cases) {
    const r = await orbit(ctx, k.schema ?? schema, k.args, { env: k.offline ? { DATABASE_URL: OFFLINE } : {} }).done;
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    let verdict: string | undefined;
    if (r.code !== k.exit) verdict = `exit ${r.code ?? r.signal}, expected ${k.exit} (${lines[0] ?? 'no stderr'})`;
    else if (lines.length !== 1 || !lines[0]?.startsWith('Error: '))
      verdict = `stderr is not one Error: line: ${JSON.stringify(r.stderr.slice(0, 300))}`;
    else if (k.line && !k.line.test(lines[0])) verdict = `unexpected message: ${lines[0]}`;
    else if (/Internal error|\n\s+at /.test(r.stderr)) verdict = `a stack or internal error: ${lines[0]}`;
    await check(`CLI ${k.name}`, verdict);
  }

  // The API: every bad call is a Left (never a throw), and writes nothing.
  const registry = createRegistry();
  registry.registerPipeline(
    definePipeline({ name: 'api-4', steps: ['s1', 's2'].map((n) => ({ name: n, handler: () => ({ success: true }) })) }),
  );
  registry.registerPipeline(
    definePipeline({
      name: 'api-secret',
      metadata: t.type({ password: t.string }),
      steps: [{ name: 'a', handler: () => ({ success: true }) }],
    }),
  );
  const conn = await connect({ databaseUrl: ctx.cluster.url, schema, registry, migrate: false });
  if (E.isLeft(conn)) throw new Error(formatError(conn.left));
  const client: OrbitClient = conn.right;
  try {
    const apiCases: ReadonlyArray<readonly [string, () => Promise<E.Either<OrbitError, unknown>>]> = [
      ['runPipeline of an unknown pipeline', () => runPipeline('nope', {}, { client })],
      ['runPipeline with null metadata', () => runPipeline('api-4', null, { client })],
      ['runPipeline with a malformed run id', () => runPipeline('api-4', {}, { client, runId: 'bad id!' })],
      ['runPipeline with metadata its codec rejects', () => runPipeline('api-secret', { password: 1 }, { client })],
      [
        'runPipeline with circular metadata',
        () => {
          const m: Record<string, unknown> = {};
          m.self = m;
          return runPipeline('api-4', m, { client });
        },
      ],
      ['resumeRun of an unknown run', () => resumeRun('no-such-run', { client })],
      ['resumeRun of a succeeded run', () => resumeRun(ok, { client })],
      ['resumeRun of a run with an undecodable event', () => resumeRun(broken, { client, thresholdMs: 1 })],
      ['cancelRun of an unknown run', () => cancelRun('no-such-run', { client })],
      ['appendEvents with no events', () => appendEvents(client.db, 'api-new', 0, [])],
      [
        'appendEvents with a stale seq',
        () => appendEvents(client.db, ok, 1, [{ type: 'step.started', stepName: 's1', attempt: 1, payload: {} }]),
      ],
      [
        'appendEvents starting without run.created',
        () => appendEvents(client.db, 'api-new', 0, [{ type: 'step.started', stepName: 's1', attempt: 1, payload: {} }]),
      ],
      [
        'appendEvents with a malformed event',
        () => appendEvents(client.db, 'api-new', 0, [{ type: 'run.created', payload: { bogus: 1 } } as unknown as RunEvent]),
      ],
      ['detectInterruptedRuns with limit -1', () => detectInterruptedRuns({ client, limit: -1 })],
      [
        'orchestrator with concurrency NaN',
        () => new RunRecoveryOrchestrator({ client, concurrency: Number.NaN }).recoverInterruptedRuns(),
      ],
      ['readRunEvents of a run with an undecodable event', () => readRunEvents(client.db, broken)],
      [
        'connect with a schema that is not an identifier',
        () => connect({ databaseUrl: ctx.cluster.url, schema: 'x"; DROP TABLE y; --' }),
      ],
      ['connect with a non-numeric port', () => connect({ databaseUrl: `${ctx.cluster.url}?port=abc` })],
    ];
    for (const [name, call] of apiCases) {
      let verdict: string | undefined;
      try {
        const r = await call();
        if (E.isRight(r)) {
          verdict = 'returned Right';
          const right = r.right as { close?: () => Promise<void> };
          if (typeof right.close === 'function') await right.close();
        } else if (formatError(r.left).includes('\n')) verdict = 'message spans lines';
      } catch (err) {
        verdict = `threw: ${err instanceof Error ? err.message : String(err)}`;
      }
      await check(`API ${name}`, verdict);
    }
  } finally {
    await client.close();
  }

  // Garbage on the NOTIFY channel: a listening worker survives it and writes nothing.
  const w = orbit(ctx, schema, ['worker', '--threshold', '1h']);
  const listening = await waitUntil('the worker to listen', async () => w.stdout().includes('Recovery worker'), 30_000);
  const pg = new Client({ connectionString: ctx.cluster.url });
  await pg.connect();
  const garbage = [
    'garbage',
    '{"runId":',
    JSON.stringify({ type: 'run.released', runId: 'no-such-run' }),
    'x'.repeat(7_999),
    JSON.stringify({ runId: broken, type: 'run.released', seq: 99 }),
    '\u00ff\u0001',
  ];
  for (const g of garbage) await pg.query('SELECT pg_notify($1, $2)', [channelFor(schema), g]);
  await pg.end();
  await sleep(1_500);
  const alive = w.child.exitCode === null;
  w.child.kill('SIGTERM');
  const wr = await w.done;
  for (const [i, g] of garbage.entries()) {
    await check(
      `NOTIFY garbage #${i + 1} (${g.slice(0, 20)})`,
      !listening ? 'worker never listened' : !alive ? `the worker died: ${wr.stderr.trim().split('\n')[0] ?? ''}` : undefined,
    );
  }
  if (wr.code !== 0) failures.push(`worker exited ${wr.code ?? wr.signal} after SIGTERM`);

  return {
    id: 'R9',
    title: 'bad input to the CLI and the API',
    figures: [
      ['passed / tried', `${passed} / ${tried}`],
      ['journal changes', journalChanges],
    ],
    failures,
    ms: Date.now() - t0,
  };
};
