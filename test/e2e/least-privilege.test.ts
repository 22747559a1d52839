import { Pool } from 'pg';
import { createE2eHarness, expectExit, randomHex, type E2eHarness } from '../support/cli';

/*
 * Issue 10 item 7 (in part): the whole workflow runs under a role with no DDL rights, holding only
 * the GRANTs docs/AUDIT.md lists, and that role cannot change or empty the journal.
 */

const grants = (schema: string, role: string): string[] => [
  `GRANT USAGE ON SCHEMA "${schema}" TO ${role}`,
  `GRANT SELECT ON "${schema}".schema_migrations TO ${role}`,
  `GRANT SELECT ON "${schema}".run_events TO ${role}`,
  `GRANT SELECT, INSERT, UPDATE ON "${schema}".runs, "${schema}".steps TO ${role}`,
  `GRANT SELECT, INSERT, UPDATE, DELETE ON "${schema}".workers TO ${role}`,
  `GRANT SELECT, INSERT, UPDATE, DELETE ON "${schema}".worker_registry TO ${role}`,
  `GRANT SELECT, INSERT, DELETE ON "${schema}".delayed_runs TO ${role}`,
  `GRANT SELECT, INSERT, DELETE ON "${schema}".run_priorities TO ${role}`,
  `GRANT SELECT, INSERT, UPDATE, DELETE ON "${schema}".dedup_keys TO ${role}`,
  `GRANT SELECT, INSERT, UPDATE, DELETE ON "${schema}".schedules TO ${role}`,
  `GRANT SELECT, INSERT, DELETE ON "${schema}".schedule_ticks TO ${role}`,
];

describe('the runtime role', () => {
  let h: E2eHarness;
  let role: string;
  let url: string;
  let rt: Pool;

  beforeAll(async () => {
    h = await createE2eHarness('leastpriv');
    expectExit(await h.cli(['migrate']), 0); // as the owner
    role = `orbit_rt_${randomHex(4)}`;
    await h.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'runtime-pw' NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    for (const g of grants(h.schema, role)) await h.pool.query(g);
    const u = new URL(h.url);
    u.username = role;
    u.password = 'runtime-pw';
    url = u.toString();
    rt = new Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await rt?.end();
    await h.dispose();
    await h.pool.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await h.pool.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  });

  it('runs, crashes, is detected, resumed, read and verified with only its GRANTs', async () => {
    const as = { databaseUrl: url };
    const { runId } = await h.startRunAndKillWhen(
      'data-pipeline',
      { fail: { 'transform-data': 1 }, sleepMs: { 'load-data': 5000 } },
      (ev) => ev.some((e) => e.type === 'step.started' && e.step_name === 'load-data'),
      as,
    );
    await h.waitUntilStale([runId], 1000);
    const check = await h.cli(['check-interrupted', '--threshold', '1s', '--json'], as);
    expectExit(check, 0);
    expect(check.stdout).toContain(runId);
    expectExit(await h.cli(['resume', runId, '--threshold', '1s'], { ...as, timeoutMs: 30_000 }), 0);
    expectExit(await h.cli(['history', runId], as), 0);
    expectExit(await h.cli(['verify'], as), 0);
    expect((await h.run(runId))?.status).toBe('success');
    // Issue 20 item 12: the rebuild needs no DELETE (was 42501 on steps).
    await h.pool.query(`UPDATE "${h.schema}".steps SET status = 'failed' WHERE run_id = $1`, [runId]);
    const rebuilt = await h.cli(['rebuild-projections', runId], as);
    expectExit(rebuilt, 0);
    expect(rebuilt.lines).toEqual(['✓ Rebuilt projections of 1 run(s); removed 0 orphan row(s)']);
    expectExit(await h.cli(['verify', runId], as), 0);
  }, 60_000);

  it('recover --auto-resume and worker recover crashed runs with only its GRANTs', async () => {
    const as = { databaseUrl: url };
    const crash = async (): Promise<string> =>
      (
        await h.startRunAndKillWhen(
          'data-pipeline',
          { sleepMs: { 'load-data': 5000 } },
          (ev) => ev.some((e) => e.type === 'step.started' && e.step_name === 'load-data'),
          as,
        )
      ).runId;
    const first = await crash();
    await h.waitUntilStale([first], 1000);
    const recovered = await h.cli(['recover', '--auto-resume', '--threshold', '1s'], { ...as, timeoutMs: 30_000 });
    expectExit(recovered, 0);
    expect((await h.run(first))?.status).toBe('success');

    const second = await crash();
    // Queue controls too: a priority, a dedup key (asked twice), and a worker with a pipeline limit.
    const queued = await h.cli(['run', 'data-pipeline', '--queue', '--priority', '3', '--dedup-key', 'lp', '--json'], as);
    expectExit(queued, 0);
    expectExit(await h.cli(['run', 'data-pipeline', '--queue', '--dedup-key', 'lp'], as), 0);
    const queuedId = (JSON.parse(queued.stdout) as { runId: string }).runId;
    const worker = h.start(
      ['--threshold', '1s', 'worker', '--sweep-interval', '500ms', '--pipeline-concurrency', 'data-pipeline=2'],
      { ...as, timeoutMs: 60_000 },
    );
    await h.waitFor('the worker to recover the killed run', async () => (await h.run(second))?.status === 'success', 30_000);
    await h.waitFor('the worker to execute the queued run', async () => (await h.run(queuedId))?.status === 'success', 30_000);
    worker.kill('SIGINT');
    const stopped = await worker.done;
    expect(stopped.stderr).not.toMatch(/permission denied|42501/);
    expect(stopped.lines[stopped.lines.length - 1]).toBe('Recovery worker stopped');
  }, 90_000);

  it('issue 20 item 11: cannot forge a run: no direct INSERT (even if granted), no backdating, no gap, nothing after the end', async () => {
    const failure = async (sql: string, values: unknown[] = []): Promise<string> => {
      try {
        await rt.query(sql, values);
        return 'succeeded';
      } catch (err) {
        const e = err as { code?: string; message: string };
        return `${e.code}: ${e.message}`;
      }
    };
    const qs = h.qs;
    const created = JSON.stringify({ pipelineId: 'p', steps: ['a'], definitionHash: 'h', metadata: {}, triggeredBy: null });
    const insert = `INSERT INTO ${qs}.run_events (run_id, seq, type, payload, occurred_at, writer, event_id, hash)
      VALUES ('forged', 1, 'run.created', '${created}', now() - interval '30 days', 'mallory', gen_random_uuid(), '\\x00')`;
    expect(await failure(insert)).toMatch(/^42501: permission denied for table run_events/);
    // Even with INSERT granted again (the GRANTs of an older version of these docs).
    await h.pool.query(`GRANT INSERT ON ${qs}.run_events TO ${role}`);
    expect(await failure(insert)).toMatch(/^42501: run_events: append through .*append_run_events, not INSERT/);
    await h.pool.query(`REVOKE INSERT ON ${qs}.run_events FROM ${role}`);

    // Through the function: the database's clock, the journal's own seq fence, the rules table.
    const call = (runId: string, expected: number, type: string, payload: string, extra = '') =>
      failure(
        `SELECT outcome FROM ${qs}.append_run_events($1, $2, 'mallory', ARRAY[gen_random_uuid()], ARRAY[$3], ARRAY[NULL]::text[],
           ARRAY[NULL]::integer[], $4::jsonb, 'running', NULL, NULL, NULL, 0, '0001-01-01', '{}', '{}', '{}', '{}', '{}', '{}',
           '[]', '{}', false, ${extra === '' ? 'NULL' : `'${extra}'::jsonb`})`,
        [runId, expected, type, `[${payload}]`],
      );
    const newRun = JSON.stringify({
      pipeline_id: 'p',
      triggered_by: null,
      metadata: {},
      definition_hash: 'h',
      step_names: ['a'],
    });
    expect(await call('forged-1', 0, 'run.created', created, newRun)).toBe('succeeded');
    const at = await h.pool.query(
      `SELECT occurred_at > now() - interval '1 minute' AS recent FROM ${qs}.run_events WHERE run_id = 'forged-1'`,
    );
    expect(at.rows[0].recent).toBe(true);
    expect(await call('forged-2', 0, 'run.cancelled', '{"reason":"x","by":"m"}', newRun)).toMatch(
      /^23514: append refused: run.cancelled at seq 1 \(a run begins with its one creating event\)/,
    );
    expect(await call('forged-1', 1, 'run.invented', '{}')).toMatch(/^23514: append refused: run.invented is not an event type/);
    // A gap, after moving the runs row's fence (the runtime role may UPDATE runs).
    await rt.query(`UPDATE ${qs}.runs SET last_seq = 5 WHERE id = 'forged-1'`);
    expect(await call('forged-1', 5, 'run.claimed', '{"worker":"m"}')).toMatch(
      /^23514: append refused: run forged-1 has no event at seq 5/,
    );
    await rt.query(`UPDATE ${qs}.runs SET last_seq = 1 WHERE id = 'forged-1'`);
    expect(await call('forged-1', 1, 'run.cancelled', '{"reason":"x","by":"m"}')).toBe('succeeded');
    // Nothing after the end, even with the runs row made to look running again.
    await rt.query(`UPDATE ${qs}.runs SET status = 'running' WHERE id = 'forged-1'`);
    expect(await call('forged-1', 2, 'run.claimed', '{"worker":"m"}')).toMatch(
      /^23514: append refused: run forged-1 already ended, run.claimed cannot follow/,
    );
    expect(await call('forged-1', 2, 'run.claimed', '[1]')).toMatch(/^23514: append refused/);
  });

  it('cannot UPDATE, DELETE, TRUNCATE the journal, disable its trigger, or turn triggers off', async () => {
    const code = async (sql: string): Promise<string | undefined> => {
      try {
        await rt.query(sql);
        return 'succeeded';
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    const qs = h.qs;
    expect(await code(`UPDATE ${qs}.run_events SET payload = '{}'`)).toBe('42501');
    expect(await code(`DELETE FROM ${qs}.run_events`)).toBe('42501');
    expect(await code(`TRUNCATE ${qs}.run_events`)).toBe('42501');
    expect(await code(`ALTER TABLE ${qs}.run_events DISABLE TRIGGER USER`)).toBe('42501');
    expect(await code(`SET session_replication_role = replica`)).toBe('42501');
    expect(await code(`CREATE TABLE ${qs}.x (a int)`)).toBe('42501');
  });

  it('a schema that is missing is one clear line, not a permission dump', async () => {
    const schema = `nothere_${randomHex(3)}`;
    const r = await h.cli(['runs'], { databaseUrl: url, schema });
    expectExit(r, 1);
    expect(r.errLines).toEqual([
      `Error: Database error: schema "${schema}" does not exist: run "orbit migrate" to create it (or check --schema / ORBIT_SCHEMA)`,
    ]);
  });

  it('orbit migrate (or --migrate) under the runtime role says it may not create the schema', async () => {
    const schema = `nothere_${randomHex(3)}`;
    for (const args of [['migrate'], ['--migrate', 'runs']]) {
      const r = await h.cli(args, { databaseUrl: url, schema, pipelines: false });
      expectExit(r, 1);
      expect(r.stderr).toMatch(
        /is missing or older than this version of Orbit, and this role may not create or change it .*: run "orbit migrate" as the schema's owner/,
      );
    }
  });
});
