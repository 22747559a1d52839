import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Database } from '../../src/db/database';
import { appendEvents } from '../../src/journal/appendEvents';
import { claimed, created, runSucceeded, started, succeeded } from '../support/eventBuilders';
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';
import { createTestDatabase, expectRight, type TestDatabase } from '../support/testDatabase';

/*
 * Issue 10 item 6: tamper evidence against whoever owns the database. The attacker can disable
 * the append-only trigger and recompute the per-run hash chain with the database's own event_hash,
 * so `verify` alone cannot see the edit. A checkpoint kept outside the database can: each attack
 * is found and named. The checkpoint file itself is signed (HMAC) and chained.
 */

const STEPS = ['extract', 'transform', 'load'];
const fullRun = () => [
  created(STEPS),
  claimed('w1'),
  ...STEPS.flatMap((s) => [started(s, 1), succeeded(s, 1, { from: s })]),
  runSucceeded(),
];

/** Runs statements as a superuser with the journal's triggers off. */
const asSuperuser = async (db: Database, ...sql: string[]): Promise<void> => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    for (const s of sql) await client.query(s);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
};

/** Recomputes a run's whole chain with the database's own event_hash, as the attacker would. */
const rehash = (db: Database, runId: string): string => `DO $$ DECLARE r record; prev bytea; BEGIN
  FOR r IN SELECT * FROM ${db.qs}.run_events WHERE run_id = '${runId}' ORDER BY seq LOOP
    UPDATE ${db.qs}.run_events SET hash = ${db.qs}.event_hash(prev, r.run_id, r.seq, r.type, r.step_name, r.attempt,
           r.payload, r.occurred_at, r.writer, r.event_id) WHERE position = r.position RETURNING hash INTO prev;
  END LOOP; END $$`;

interface Doc {
  ok: boolean;
  problems: { runId: string; seq: number | null; kind: string; detail: string }[];
}

describe('checkpoints catch what a database owner can hide from the hash chain', () => {
  let t: TestDatabase;
  let h: E2eHarness;
  let dir: string;
  const ids = Array.from({ length: 10 }, (_, i) => `cp-${i}`);
  const key = 'a key the database never sees';
  const verify = async (...extra: string[]) => {
    const r = await h.cli(['verify', '--json', ...extra], { schema: t.schema, env: { ORBIT_CHECKPOINT_KEY: key } });
    return { code: r.code, doc: JSON.parse(r.stdout) as Doc, stderr: r.stderr };
  };
  const cp = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    t = await createTestDatabase('checkpoint');
    h = await createE2eHarness('checkpoint');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-cp-'));
    for (const id of ids) expectRight(await appendEvents(t.db, id, 0, fullRun()));
    const r = await h.cli(['checkpoint'], { schema: t.schema, env: { ORBIT_CHECKPOINT_KEY: key } });
    expectExit(r, 0);
    writeFileSync(cp('cp1.json'), r.stdout);
    expect(r.stderr).toMatch(/Checkpoint of 10 run\(s\), root [0-9a-f]{16}…, signed: keep it outside the database/);
  }, 60_000);
  afterAll(async () => {
    await h.dispose();
    await t.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an untouched journal verifies against its checkpoint', async () => {
    const r = await verify('--checkpoint', cp('cp1.json'));
    expect(r).toMatchObject({ code: 0, doc: { ok: true, problems: [] } });
  });

  it('each attack is found and named: edit + recomputed chain, deleted run, deleted event', async () => {
    // 1. A step result edited and the run's chain recomputed with the database's own event_hash.
    await asSuperuser(
      t.db,
      `UPDATE ${t.db.qs}.run_events SET payload = '{"result": {"from": "forged"}}' WHERE run_id = 'cp-1' AND seq = 4`,
      rehash(t.db, 'cp-1'),
    );
    // 2. A whole run deleted, projections included.
    await asSuperuser(
      t.db,
      `DELETE FROM ${t.db.qs}.run_events WHERE run_id = 'cp-2'`,
      `DELETE FROM ${t.db.qs}.steps WHERE run_id = 'cp-2'`,
      `DELETE FROM ${t.db.qs}.runs WHERE id = 'cp-2'`,
    );
    // 3. One event (the run's end) deleted, and its projection made to match.
    await asSuperuser(
      t.db,
      `DELETE FROM ${t.db.qs}.run_events WHERE run_id = 'cp-3' AND seq = 9`,
      `UPDATE ${t.db.qs}.runs SET status = 'running', finished_at = NULL, last_seq = 8 WHERE id = 'cp-3'`,
    );

    // Without the checkpoint, every chain verifies: at most projection differences show (and
    // rebuilding them would erase the last trace), and the deleted run is not seen at all.
    const blind = await verify();
    expect([...new Set(blind.doc.problems.map((p) => p.kind))]).toEqual(['projection differs']);
    expect(blind.doc.problems.some((p) => p.runId === 'cp-2')).toBe(false);

    const seen = await verify('--checkpoint', cp('cp1.json'));
    expect(seen.code).toBe(1);
    expect(seen.doc.problems.filter((p) => p.kind !== 'projection differs').map((p) => [p.runId, p.seq, p.kind])).toEqual([
      ['cp-1', 9, 'events rewritten'],
      ['cp-2', null, 'run deleted'],
      ['cp-3', 9, 'event deleted'],
    ]);
    expect(seen.doc.problems[0]!.detail).toMatch(/an event at or before it was changed and the chain recomputed/);

    const text = await h.cli(['verify', '--checkpoint', cp('cp1.json')], {
      schema: t.schema,
      env: { ORBIT_CHECKPOINT_KEY: key },
    });
    expectExit(text, 1);
    expect(text.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^✗ run cp-1 seq 9: events rewritten: /),
        '✗ run cp-2: run deleted: had 9 event(s) at the checkpoint; none now',
        '✗ run cp-3 seq 9: event deleted: the checkpoint saw seq 1..9; 8 of them remain, seq 9 among the missing',
      ]),
    );
  });

  it('a run inserted afterwards with a backdated start is named', async () => {
    await t.db.pool.query(
      `INSERT INTO ${t.db.qs}.run_events (run_id, seq, type, payload, occurred_at, writer, event_id, hash)
       VALUES ('cp-forged', 1, 'run.created', '{"pipelineId":"etl","steps":["a"],"definitionHash":"h","metadata":{},"triggeredBy":null}',
               now() - interval '1 day', 'mallory', gen_random_uuid(), '\\x00')`,
    );
    await asSuperuser(t.db, rehash(t.db, 'cp-forged'));
    const r = await verify('--checkpoint', cp('cp1.json'));
    expect(r.doc.problems.filter((p) => p.kind === 'run not in checkpoint').map((p) => p.runId)).toEqual(['cp-forged']);
  });

  it('a forged checkpoint file is caught: edited runs, recomputed root without the key, broken chain link', async () => {
    const original = JSON.parse(readFileSync(cp('cp1.json'), 'utf8')) as { runs: { runId: string }[] };
    // The attacker drops the deleted run from the file to match the database.
    writeFileSync(cp('edited.json'), JSON.stringify({ ...original, runs: original.runs.filter((r) => r.runId !== 'cp-2') }));
    const edited = await verify('--checkpoint', cp('edited.json'));
    expect(edited.doc.problems.filter((p) => p.kind === 'checkpoint altered').map((p) => p.detail)).toEqual([
      'its runs do not hash to its Merkle root',
    ]);

    // ... and re-signs it without the key: recomputing root and digest needs no secret, the MAC does.
    const forgedKey = await h.cli(['checkpoint'], { schema: t.schema, env: { ORBIT_CHECKPOINT_KEY: 'guess' } });
    writeFileSync(cp('forged.json'), forgedKey.stdout);
    const forged = await verify('--checkpoint', cp('forged.json'));
    expect(forged.doc.problems.filter((p) => p.kind === 'checkpoint altered').map((p) => p.detail)).toEqual([
      'its signature does not verify with this key',
    ]);

    // Checkpoints chain: the next one names its predecessor's digest.
    const next = await h.cli(['checkpoint', '--previous', cp('cp1.json')], {
      schema: t.schema,
      env: { ORBIT_CHECKPOINT_KEY: key },
    });
    writeFileSync(cp('cp2.json'), next.stdout);
    const linked = await verify('--checkpoint', cp('cp2.json'), '--previous', cp('cp1.json'));
    expect(linked.doc.problems.filter((p) => p.kind === 'checkpoint altered')).toEqual([]);
    const wrongLink = await verify('--checkpoint', cp('cp2.json'), '--previous', cp('forged.json'));
    expect(wrongLink.doc.problems.filter((p) => p.kind === 'checkpoint altered').map((p) => p.detail)).toEqual([
      'it is not chained to the previous checkpoint given',
    ]);
  });

  it('issue 20 item 9: without its key a checkpoint is not trusted unless --trust-unsigned says so', async () => {
    // The attacker deletes a run and writes a checkpoint without it: root and digest need no secret.
    await asSuperuser(
      t.db,
      `DELETE FROM ${t.db.qs}.run_events WHERE run_id = 'cp-4'`,
      `DELETE FROM ${t.db.qs}.steps WHERE run_id = 'cp-4'`,
      `DELETE FROM ${t.db.qs}.runs WHERE id = 'cp-4'`,
    );
    const original = JSON.parse(readFileSync(cp('cp1.json'), 'utf8')) as { runs: { runId: string }[]; mac: string };
    const forged = await h.cli(['checkpoint'], { schema: t.schema, env: { ORBIT_CHECKPOINT_KEY: '' } });
    expectExit(forged, 0);
    // Keeps the genuine file's signature, which nobody checks without the key.
    const doc = JSON.parse(forged.stdout) as Record<string, unknown>;
    writeFileSync(cp('keyless.json'), JSON.stringify({ ...doc, mac: original.mac }));
    const noKey = await h.cli(['verify', '--json', '--checkpoint', cp('keyless.json')], {
      schema: t.schema,
      env: { ORBIT_CHECKPOINT_KEY: '' },
    });
    expectExit(noKey, 1);
    const problems = (JSON.parse(noKey.stdout) as Doc).problems.filter((p) => p.runId === '(checkpoint)');
    expect(problems.map((p) => [p.kind, p.detail])).toEqual([
      ['checkpoint not authenticated', expect.stringMatching(/^no key was given, so its signature was not checked: /)],
    ]);
    const text = await h.cli(['verify', '--checkpoint', cp('keyless.json'), 'cp-0'], {
      schema: t.schema,
      env: { ORBIT_CHECKPOINT_KEY: '' },
    });
    expectExit(text, 1);
    expect(text.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^✗ checkpoint file: checkpoint not authenticated: no key was given/),
        expect.stringMatching(/^\d+ problem\(s\) in .*the checkpoint file/),
      ]),
    );
    // Accepted on purpose: only the journal's problems remain (cp-1 and cp-3 from above are not
    // in this checkpoint's view of a run that is gone, so cp-4 is simply absent from both).
    const trusted = await h.cli(['verify', '--json', '--checkpoint', cp('keyless.json'), '--trust-unsigned'], {
      schema: t.schema,
      env: { ORBIT_CHECKPOINT_KEY: '' },
    });
    expect((JSON.parse(trusted.stdout) as Doc).problems.filter((p) => p.runId === '(checkpoint)')).toEqual([]);
    // With the key the forgery is caught, and blamed on the file, not on "1 run".
    const wrong = await h.cli(['verify', '--checkpoint', cp('keyless.json'), 'cp-0'], {
      schema: t.schema,
      env: { ORBIT_CHECKPOINT_KEY: key },
    });
    expectExit(wrong, 1);
    expect(wrong.lines).toEqual(
      expect.arrayContaining([
        '✗ checkpoint file: checkpoint altered: its signature does not verify with this key',
        '1 problem(s) in the checkpoint file; 1 run(s) checked',
      ]),
    );
    const genuine = await verify('--checkpoint', cp('cp1.json'));
    expect(genuine.doc.problems.filter((p) => p.runId === 'cp-4').map((p) => p.kind)).toEqual(['run deleted']);
  }, 120_000);

  it('issue 20 item 12: rebuild-projections --checkpoint leaves the runs it flags alone and rebuilds the rest', async () => {
    const stepResult = async (runId: string) =>
      (await t.db.pool.query(`SELECT result FROM ${t.db.qs}.steps WHERE run_id = $1 AND name = 'extract'`, [runId])).rows[0]
        ?.result as unknown;
    // cp-1 was re-hashed with a forged result: its projection still holds the original.
    expect(await stepResult('cp-1')).toEqual({ from: 'extract' });
    await t.db.pool.query(`UPDATE ${t.db.qs}.runs SET status = 'failed' WHERE id = 'cp-5'`);
    const r = await h.cli(['rebuild-projections', '--checkpoint', cp('cp1.json')], {
      schema: t.schema,
      env: { ORBIT_CHECKPOINT_KEY: key },
    });
    expectExit(r, 1);
    expect(r.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^✗ Skipped run cp-1: flagged by the checkpoint \(events rewritten: .*\): left as it was$/),
        expect.stringMatching(/^✗ Skipped run cp-forged: flagged by the checkpoint \(run not in checkpoint: /),
      ]),
    );
    expect(await stepResult('cp-1')).toEqual({ from: 'extract' });
    expect((await t.db.pool.query(`SELECT status FROM ${t.db.qs}.runs WHERE id = 'cp-5'`)).rows[0].status).toBe('success');
    // Without its key the checkpoint cannot say which runs are safe: nothing is rebuilt.
    const keyless = await h.cli(['rebuild-projections', '--checkpoint', cp('cp1.json')], {
      schema: t.schema,
      env: { ORBIT_CHECKPOINT_KEY: '' },
    });
    expectExit(keyless, 1);
    expect(keyless.stderr).toMatch(/Nothing rebuilt: the checkpoint cannot be trusted/);
  });

  it('issue 20 item 12: rebuild-projections takes run ids, and a run it cannot write is skipped and named', async () => {
    // A real PostgreSQL refusal for one run only (what a result over jsonb's 256 MB limit gives).
    await t.db.pool.query(`CREATE FUNCTION ${t.db.qs}.too_big() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'total size of jsonb array elements exceeds the maximum of 268435455 bytes' USING ERRCODE = '54000'; END $$`);
    await t.db.pool.query(`CREATE TRIGGER too_big BEFORE INSERT OR UPDATE ON ${t.db.qs}.steps
      FOR EACH ROW WHEN (NEW.run_id = 'cp-6') EXECUTE FUNCTION ${t.db.qs}.too_big()`);
    try {
      await t.db.pool.query(`UPDATE ${t.db.qs}.runs SET status = 'failed' WHERE id IN ('cp-7', 'cp-8')`);
      const r = await h.cli(['rebuild-projections', 'cp-6', 'cp-7', '--json'], { schema: t.schema });
      expectExit(r, 1);
      expect(JSON.parse(r.stdout)).toEqual({
        runsRebuilt: 1,
        orphansRemoved: 0,
        skipped: [
          {
            runId: 'cp-6',
            reason: expect.stringMatching(/^run cp-6: a value is over PostgreSQL's limits \(54000: total size of jsonb/),
          },
        ],
      });
      const status = async (id: string) =>
        (await t.db.pool.query(`SELECT status FROM ${t.db.qs}.runs WHERE id = $1`, [id])).rows[0].status as string;
      expect([await status('cp-7'), await status('cp-8')]).toEqual(['success', 'failed']);
    } finally {
      await t.db.pool.query(`DROP TRIGGER too_big ON ${t.db.qs}.steps`);
    }
  });
});
