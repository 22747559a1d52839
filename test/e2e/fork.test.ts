/**
 * `orbit fork <runId> --from-step <step>` (issue 19 item 6): a failed run is forked from its failed
 * step once the cause is fixed; the steps before it are not executed again (the marker file shows
 * every handler call), the new run succeeds, and `orbit verify` passes for both runs. Refusals are
 * one stderr line and exit 1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createE2eHarness, expectExit, newE2eRunId, ofType, type E2eHarness } from '../support/cli';

describe('orbit fork', () => {
  let h: E2eHarness;
  let dir: string;

  beforeAll(async () => {
    h = await createE2eHarness('e2e_fork');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-e2e-fork-'));
  });
  afterAll(async () => {
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-runs a failed run from the named step, reusing the earlier results; both runs verify', async () => {
    const marker = path.join(dir, 'marker.txt');
    const fixed = path.join(dir, 'fixed');
    const runId = newE2eRunId('src');
    const first = await h.cli([
      'run',
      'data-pipeline',
      '--run-id',
      runId,
      '--metadata',
      JSON.stringify({ marker, brokenUntil: { 'load-data': fixed } }),
    ]);
    expectExit(first, 1);
    expect((await h.run(runId))?.status).toBe('failed');

    writeFileSync(fixed, '');
    const forkId = newE2eRunId('fork');
    const f = await h.cli(['fork', runId, '--from-step', 'load-data', '--new-run-id', forkId]);
    expectExit(f, 0);
    expect(f.lines).toContain(`Forked run ${runId} from step load-data (new run ${forkId})`);
    expect(f.lines).toContain(`ℹ Reused from ${runId}: fetch-data, transform-data`);
    expect(f.lines).toContain(`✓ Run ${forkId} succeeded`);

    // fetch-data and transform-data ran once (in the source), load-data twice, notify once (in the fork).
    expect(
      readFileSync(marker, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ').slice(0, 2).join(' ')),
    ).toEqual(['fetch-data 1', 'transform-data 1', 'load-data 1', 'load-data 1', 'notify 1']);

    const events = await h.events(forkId);
    expect(events[0]?.payload).toMatchObject({ forkedFrom: { runId, step: 'load-data' }, triggeredBy: 'cli' });
    expect(ofType(events, 'step.reused').map((e) => e.step_name)).toEqual(['fetch-data', 'transform-data']);
    expect(ofType(events, 'step.started').map((e) => e.step_name)).toEqual(['load-data', 'notify']);

    const v = await h.cli(['verify', runId, forkId]);
    expectExit(v, 0);

    const hist = await h.cli(['history', forkId, '--events']);
    expectExit(hist, 0);
    expect(hist.stdout).toContain(`forked from run ${runId} at step load-data`);
    expect(hist.stdout).toContain(`step.reused fetch-data #1  result of run ${runId} seq 4`);
  });

  it('--queue puts the fork on the queue: nothing runs in the forking process, a worker runs the rest', async () => {
    const marker = path.join(dir, 'queued-marker.txt');
    const fixed = path.join(dir, 'queued-fixed');
    const runId = newE2eRunId('qsrc');
    const metadata = JSON.stringify({ marker, brokenUntil: { 'load-data': fixed } });
    expectExit(await h.cli(['run', 'data-pipeline', '--run-id', runId, '--metadata', metadata]), 1);
    writeFileSync(fixed, '');
    const forkId = newE2eRunId('qfork');
    const f = await h.cli(['fork', runId, '--from-step', 'load-data', '--new-run-id', forkId, '--queue']);
    expectExit(f, 0);
    expect(f.lines).toContain(
      `✓ Queued run ${forkId}, forked from ${runId} at step load-data; a worker (orbit worker) will execute it`,
    );
    expect(f.lines).toContain(`ℹ Reused from ${runId}: fetch-data, transform-data`);
    // Queued, not claimed: only the creation and the reused results are journaled.
    expect((await h.events(forkId)).map((e) => e.type)).toEqual(['run.created', 'step.reused', 'step.reused']);
    expect((await h.run(forkId))?.status).toBe('pending');

    const worker = h.start(['worker', '--concurrency', '2']);
    try {
      await h.waitFor('the worker to run the forked run', async () => (await h.run(forkId))?.status === 'success', 30_000);
    } finally {
      worker.kill('SIGTERM');
      await worker.done;
    }
    const events = await h.events(forkId);
    expect(events[0]?.payload).toMatchObject({ forkedFrom: { runId, step: 'load-data' }, triggeredBy: 'queue:cli' });
    expect(ofType(events, 'run.claimed')).toHaveLength(1);
    expect(ofType(events, 'step.started').map((e) => e.step_name)).toEqual(['load-data', 'notify']);
    // Handlers: fetch/transform once (the source), load-data twice (source, worker), notify once.
    expect(
      readFileSync(marker, 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    ).toEqual(['fetch-data', 'transform-data', 'load-data', 'load-data', 'notify']);
    expectExit(await h.cli(['verify', runId, forkId]), 0);

    const json = await h.cli(['fork', runId, '--from-step', 'notify', '--queue', '--json']);
    expectExit(json, 0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      status: 'pending',
      queued: true,
      forkedFrom: { runId, step: 'notify' },
      reused: ['fetch-data', 'transform-data'],
    });
  });

  it('refuses an unknown run, an unknown step and a run that has not ended, in one line each', async () => {
    const unknown = await h.cli(['fork', 'run_nope', '--from-step', 'notify']);
    expectExit(unknown, 1);
    expect(unknown.stderr.trim()).toBe('Error: Run not found: run_nope');

    const ok = newE2eRunId('ok');
    expectExit(await h.cli(['run', 'etl-pipeline', '--run-id', ok]), 0);
    const step = await h.cli(['fork', ok, '--from-step', 'transform']);
    expectExit(step, 1);
    expect(step.stderr.trim()).toBe(`Error: Invalid step: run ${ok} has no step "transform" (its steps: extract, clean, load)`);

    const queued = newE2eRunId('queued');
    expectExit(await h.cli(['run', 'etl-pipeline', '--queue', '--run-id', queued]), 0);
    const pending = await h.cli(['fork', queued, '--from-step', 'load']);
    expectExit(pending, 1);
    expect(pending.stderr.trim()).toMatch(new RegExp(`^Error: Run ${queued} cannot be forked: it is still pending`));
  });

  it("verify checks a fork's reused results against the source journal: a forged result, a missing source", async () => {
    const source = newE2eRunId('prov');
    expectExit(await h.cli(['run', 'etl-pipeline', '--run-id', source]), 0);
    const forkId = newE2eRunId('provfork');
    expectExit(await h.cli(['fork', source, '--from-step', 'load', '--new-run-id', forkId]), 0);
    expectExit(await h.cli(['verify', forkId]), 0);

    // As a superuser with the triggers off: the fork's first reused result is forged and the fork's
    // chain recomputed from there, so the fork's own chain holds and only the claim is false.
    const reusedSeq = ofType(await h.events(forkId), 'step.reused')[0]?.seq as number;
    const client = await h.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(
        `UPDATE ${h.qs}.run_events SET payload = jsonb_set(payload, '{result}', '{"forged": true}') WHERE run_id = $1 AND seq = $2`,
        [forkId, reusedSeq],
      );
      const last = (await h.events(forkId)).length;
      for (let seq = reusedSeq; seq <= last; seq++) {
        await client.query(
          `UPDATE ${h.qs}.run_events e SET hash = ${h.qs}.event_hash(p.hash, e.run_id, e.seq, e.type, e.step_name, e.attempt,
                  e.payload, e.occurred_at, e.writer, e.event_id)
             FROM ${h.qs}.run_events p WHERE e.run_id = $1 AND e.seq = $2 AND p.run_id = e.run_id AND p.seq = e.seq - 1`,
          [forkId, seq],
        );
      }
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const forged = await h.cli(['verify', forkId, '--json']);
    expectExit(forged, 1);
    const kinds = (JSON.parse(forged.stdout) as { problems: { kind: string; seq: number | null; detail: string }[] }).problems;
    expect(kinds.map((p) => p.kind)).not.toContain('hash mismatch');
    expect(kinds).toContainEqual(
      expect.objectContaining({
        kind: 'reused result differs',
        seq: reusedSeq,
        detail: expect.stringContaining('{"forged":true}'),
      }),
    );

    // The source's events gone (and no archive ledger row for it): the claim names nothing.
    const c2 = await h.pool.connect();
    try {
      await c2.query('BEGIN');
      await c2.query('SET LOCAL session_replication_role = replica');
      await c2.query(`DELETE FROM ${h.qs}.run_events WHERE run_id = $1`, [source]);
      await c2.query('COMMIT');
    } finally {
      c2.release();
    }
    const missing = await h.cli(['verify', forkId]);
    expectExit(missing, 1);
    expect(missing.stdout + missing.stderr).toContain('reused source missing');
  });
});
