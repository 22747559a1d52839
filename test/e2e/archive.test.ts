import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { createE2eHarness, expectExit, randomHex, type E2eHarness } from '../support/cli';

/*
 * Issue 22 item 4: `orbit archive` writes finished runs as a verified export, removes them through
 * the owner-only archive_remove_runs (the runtime role is refused, the journal stays append-only
 * for it), records each in the archive ledger that `verify` reads, resumes after kill -9, and
 * `orbit import` brings the runs back verified.
 */

describe('orbit archive', () => {
  let h: E2eHarness;
  let root: string;
  let role: string;
  let rtUrl: string;
  let rt: Pool;
  const done = [0, 1, 2, 3].map((i) => `arch-${i}-${randomHex(3)}`);
  const live = `arch-live-${randomHex(3)}`;
  const counts = async (ids: readonly string[]) => {
    const q = async (sql: string) =>
      Number((await h.pool.query<{ n: string }>(sql.replace('$S', `"${h.schema}"`), [ids])).rows[0]?.n);
    return {
      events: await q('SELECT count(*) AS n FROM $S.run_events WHERE run_id = ANY($1)'),
      runs: await q('SELECT count(*) AS n FROM $S.runs WHERE id = ANY($1)'),
      steps: await q('SELECT count(*) AS n FROM $S.steps WHERE run_id = ANY($1)'),
    };
  };

  beforeAll(async () => {
    h = await createE2eHarness('archive');
    root = mkdtempSync(path.join(tmpdir(), 'orbit-archive-'));
    for (const id of done) expectExit(await h.cli(['run', 'data-pipeline', '--run-id', id, '--metadata', '{"n":1}']), 0);
    // An unfinished run: its process died after the first step.
    const killed = await h.cli(['run', 'data-pipeline', '--run-id', live], {
      env: { ORBIT_FAULT_AFTER: 'step.succeeded:fetch-data' },
    });
    expect(killed.signal).toBe('SIGKILL');
    role = `orbit_arch_${randomHex(4)}`;
    await h.pool.query(`CREATE ROLE ${role} LOGIN PASSWORD 'runtime-pw' NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    for (const g of [
      `GRANT USAGE ON SCHEMA "${h.schema}" TO ${role}`,
      `GRANT SELECT ON "${h.schema}".schema_migrations TO ${role}`,
      `GRANT SELECT ON "${h.schema}".run_events TO ${role}`,
      `GRANT SELECT, INSERT, UPDATE ON "${h.schema}".runs, "${h.schema}".steps TO ${role}`,
    ])
      await h.pool.query(g);
    const u = new URL(h.url);
    u.username = role;
    u.password = 'runtime-pw';
    rtUrl = u.toString();
    rt = new Pool({ connectionString: rtUrl, max: 1 });
  }, 60_000);
  afterAll(async () => {
    await rt?.end();
    await h.dispose();
    await h.pool.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await h.pool.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });

  it('--dry-run counts what would go and changes nothing', async () => {
    const dir = path.join(root, 'dry');
    const r = await h.cli(['archive', '--finished-before', '2999-01-01T00:00:00Z', '--dry-run', '--json']);
    expectExit(r, 0);
    const before = await counts(done);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, runs: 4, events: before.events });
    expect(await counts(done)).toEqual(before);
    expect(() => readdirSync(dir)).toThrow();
    const none = await h.cli(['archive', '--finished-before', '90d', '--dry-run']);
    expectExit(none, 0);
    expect(none.stdout).toMatch(/^Would archive 0 run\(s\), 0 event\(s\) finished before /);
  });

  it('refuses bad input with one line and exit 2', async () => {
    for (const args of [
      ['archive', '--finished-before', '90', '--to', path.join(root, 'x')],
      ['archive', '--finished-before', '90d'],
    ]) {
      const r = await h.cli(args);
      expectExit(r, 2);
      expect(r.errLines).toHaveLength(1);
    }
  });

  it('the runtime role is refused: by the command, by the function, and by the journal', async () => {
    const dir = path.join(root, 'rt');
    const r = await h.cli(['archive', '--finished-before', '2999-01-01T00:00:00Z', '--to', dir], { databaseUrl: rtUrl });
    expectExit(r, 1);
    expect(r.stderr).toMatch(/only the journal's owner may archive/);
    expect(() => readdirSync(dir)).toThrow();
    await expect(
      rt.query(`SELECT * FROM "${h.schema}".archive_remove_runs($1, 'x', ARRAY[$2]::text[], ARRAY[1], ARRAY['\\x00'::bytea])`, [
        'a'.repeat(64),
        done[0],
      ]),
    ).rejects.toMatchObject({ code: '42501' });
    // The setting the function uses does not open the journal to anyone else.
    const c = await rt.connect();
    try {
      await c.query(`SET orbit.archive_removal = 'on'`);
      await expect(c.query(`DELETE FROM "${h.schema}".run_events WHERE run_id = $1`, [done[0]])).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      c.release();
    }
    // Not even the owner deletes directly: only through archive_remove_runs.
    await expect(h.pool.query(`DELETE FROM "${h.schema}".run_events WHERE run_id = $1`, [done[0]])).rejects.toMatchObject({
      code: '42501',
    });
    expect((await counts(done)).runs).toBe(4);
  });

  it('archives, verifies, trims; verify names archived runs; a kill -9 resumes; import brings them back', async () => {
    const cpBefore = path.join(root, 'cp-before.json');
    const cp = await h.cli(['checkpoint']);
    expectExit(cp, 0);
    writeFileSync(cpBefore, cp.stdout);
    const before = await counts(done);
    const dir = path.join(root, 'q3');

    // Killed right after the first batch (one run) committed, before progress.json said so.
    const killed = await h.cli(['archive', '--finished-before', '2999-01-01T00:00:00Z', '--to', dir, '--batch-events', '1'], {
      env: { ORBIT_FAULT_AFTER: 'archive.batch' },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect((await counts(done)).runs).toBe(3);
    const progress0 = JSON.parse(readFileSync(path.join(dir, 'progress.json'), 'utf8')) as { removedRuns: number };
    expect(progress0.removedRuns).toBe(0);

    const r = await h.cli(['archive', '--finished-before', '2999-01-01T00:00:00Z', '--to', dir, '--batch-events', '30']);
    expectExit(r, 0);
    expect(r.lines[0]).toMatch(
      new RegExp(
        `^✓ Resumed and finished the archive: 4 run\\(s\\), ${before.events} event\\(s\\) finished before .* to ${dir} \\(\\d+ bytes, verified; manifest sha256 [0-9a-f]{16}…\\)$`,
      ),
    );
    expect(await counts(done)).toEqual({ events: 0, runs: 0, steps: 0 });
    expect((await counts([live])).runs).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint.json', 'progress.json', 'runs.ndjson']);

    // The ledger: one row per run, with the manifest's digest, the login that archived, the place.
    const lines = readFileSync(path.join(dir, 'runs.ndjson'), 'utf8').trimEnd().split('\n');
    const digest = createHash('sha256')
      .update(lines[lines.length - 1] as string)
      .digest('hex');
    const ledger = await h.pool.query<{
      run_id: string;
      manifest_digest: string;
      archived_by: string;
      location: string;
      events: number;
    }>(`SELECT run_id, manifest_digest, archived_by, location, events FROM "${h.schema}".archive_ledger ORDER BY run_id`);
    expect(ledger.rows.map((l) => l.run_id)).toEqual([...done].sort());
    expect(new Set(ledger.rows.map((l) => l.manifest_digest))).toEqual(new Set([digest]));
    expect(ledger.rows.every((l) => l.location === dir && l.archived_by === new URL(h.url).username)).toBe(true);
    expect(ledger.rows.reduce((n, l) => n + l.events, 0)).toBe(before.events);
    await expect(h.pool.query(`DELETE FROM "${h.schema}".archive_ledger`)).rejects.toMatchObject({ code: '42501' });

    // The archive verifies on its own, against its checkpoint, with no database.
    const file = await h.cli(
      ['verify', '--file', path.join(dir, 'runs.ndjson'), '--checkpoint', path.join(dir, 'checkpoint.json'), '--trust-unsigned'],
      { databaseUrl: 'postgres://nobody@127.0.0.1:1/none' },
    );
    expectExit(file, 0);
    expect(file.lines[0]).toMatch(/^✓ Export verified: 4 run\(s\), \d+ event\(s\)/);

    // verify: archived, not missing (by name) nor deleted (against the checkpoint taken before).
    const named = await h.cli(['verify', done[0] as string], { databaseUrl: rtUrl });
    expectExit(named, 0);
    expect(named.lines[0]).toMatch(new RegExp(`^ℹ run ${done[0]}: archived \\S+ by \\S+ to ${dir} \\(\\d+ event\\(s\\)`));
    const withCp = await h.cli(['verify', '--checkpoint', cpBefore, '--trust-unsigned', '--json']);
    const doc = JSON.parse(withCp.stdout) as { problems: { runId: string; kind: string }[]; archived: { runId: string }[] };
    expect(doc.archived.map((a) => a.runId).sort()).toEqual([...done].sort());
    expect(doc.problems.filter((p) => done.includes(p.runId))).toEqual([]);
    const again = await h.cli(['archive', '--finished-before', '2999-01-01T00:00:00Z', '--to', dir]);
    expectExit(again, 1);
    expect(again.stderr).toMatch(/holds a finished archive/);

    // import brings them back, and they verify.
    const imported = await h.cli(['import', path.join(dir, 'runs.ndjson')]);
    expectExit(imported, 0);
    expect(await counts(done)).toEqual(before);
    const verified = await h.cli(['verify', ...done]);
    expectExit(verified, 0);
    expect(verified.lines).toEqual([`✓ Journal and projections verified (4 run(s))`]);
  }, 60_000);
});
