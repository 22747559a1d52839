import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildEventfulRun } from '../support/auditRuns';
import { createE2eHarness, expectExit, randomHex, type E2eHarness } from '../support/cli';

/*
 * Issue 10 item 4: `orbit export` writes NDJSON with hashes; `orbit verify --file` checks it with
 * no database; `orbit import` loads it elsewhere, and refuses (writing nothing) an export whose
 * hash chain does not verify.
 */

interface Manifest {
  orbitExportManifest: 1;
  runs: { runId: string; events: number; lastSeq: number; headHash: string }[];
  events: number;
}

interface Line {
  runId: string;
  seq: number;
  type: string;
  payload: Record<string, unknown>;
  payloadText: string;
  hash: string;
}

describe('orbit export, verify --file, import', () => {
  let h: E2eHarness;
  let dir: string;
  let eventful: string;
  const clean = `exp-clean-${randomHex(3)}`;
  const target = `imp_${randomHex()}`;
  const file = () => path.join(dir, 'runs.ndjson');
  const allLines = () =>
    readFileSync(file(), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Line & { orbitExportManifest?: 1 });
  /** The events, without the manifest line that ends the file. */
  const lines = (): Line[] => allLines().filter((l) => l.orbitExportManifest === undefined);
  const manifestLine = () => allLines().find((l) => l.orbitExportManifest === 1) as unknown as Manifest;
  const writeLines = (name: string, ls: readonly object[]) => {
    const p = path.join(dir, name);
    writeFileSync(p, ls.map((l) => JSON.stringify(l)).join('\n') + (ls.length > 0 ? '\n' : ''));
    return p;
  };

  beforeAll(async () => {
    h = await createE2eHarness('export');
    dir = mkdtempSync(path.join(tmpdir(), 'orbit-export-'));
    eventful = await buildEventfulRun(h);
    expectExit(await h.cli(['run', 'data-pipeline', '--run-id', clean, '--metadata', '{"n": 1.50, "s": "é"}']), 0);
  }, 60_000);
  afterAll(async () => {
    await h.pool.query(`DROP SCHEMA IF EXISTS "${target}" CASCADE`).catch(() => undefined);
    await h.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports every event with its hash, run by run in seq order', async () => {
    const r = await h.cli(['export', eventful, clean]);
    expectExit(r, 0);
    writeFileSync(file(), r.stdout);
    const ls = lines();
    const stored = [...(await h.events(eventful)), ...(await h.events(clean))];
    expect(ls.map((l) => [l.runId, l.seq, l.type])).toEqual(stored.map((e) => [e.run_id, e.seq, e.type]));
    expect(ls.every((l) => /^[0-9a-f]{64}$/.test(l.hash))).toBe(true);
    // Issue 20 item 10: the last line is a manifest of what the file holds.
    expect(allLines()).toHaveLength(ls.length + 1);
    expect(manifestLine()).toMatchObject({
      orbitExportManifest: 1,
      selection: { all: false, since: null },
      events: ls.length,
      runs: [eventful, clean].map((id) => {
        const own = ls.filter((l) => l.runId === id);
        const last = own[own.length - 1]!;
        return { runId: id, events: own.length, lastSeq: last.seq, headHash: last.hash };
      }),
    });

    const all = await h.cli(['export', '--all']);
    expect(all.stdout.trimEnd().split('\n')).toHaveLength(ls.length + 1);
    const none = await h.cli(['export', '--all', '--since', '2999-01-01T00:00:00Z']);
    expectExit(none, 0);
    expect(JSON.parse(none.stdout)).toEqual({
      orbitExportManifest: 1,
      selection: { all: true, since: '2999-01-01T00:00:00.000Z' },
      runs: [],
      events: 0,
    });
    // Neither runs nor --all is a usage error (2); an unknown run is only known to the database (1).
    expectExit(await h.cli(['export']), 2);
    expectExit(await h.cli(['export', 'no-such-run']), 1);
  });

  it('verify --file checks the export with no database at all', async () => {
    const r = await h.cli(['verify', '--file', file()], { schema: false, databaseUrl: 'postgres://nobody@127.0.0.1:1/none' });
    expectExit(r, 0);
    expect(r.lines).toEqual([
      `✓ Export verified: 2 run(s), ${lines().length} event(s), every hash chain intact, as its manifest lists`,
    ]);
  });

  it('verify --file names an edited event whose text was re-written consistently, and a deleted one', async () => {
    const ls = lines();
    const edited = ls.map((l) => {
      if (l.runId !== clean || l.seq !== 4) return l;
      const payload = { result: { forged: true } };
      return { ...l, payload, payloadText: '{"result": {"forged": true}}' };
    });
    const editedSeq = edited.find((l, i) => l !== ls[i])!.seq;
    const withoutOne = ls.filter((l) => !(l.runId === eventful && l.seq === 5));
    const bad = writeLines('bad.ndjson', [
      ...edited.filter((l) => l.runId === clean),
      ...withoutOne.filter((l) => l.runId === eventful),
      manifestLine(),
    ]);
    const r = await h.cli(['verify', '--file', bad, '--json'], { schema: false });
    expectExit(r, 1);
    const doc = JSON.parse(r.stdout) as { problems: { runId: string; seq: number; kind: string }[] };
    expect(doc.problems.map((p) => [p.runId, p.seq, p.kind])).toEqual([
      [clean, editedSeq, 'hash mismatch'],
      [eventful, 6, 'seq gap'],
      [eventful, withoutOne.filter((l) => l.runId === eventful).pop()!.seq, 'export incomplete'],
    ]);

    // Import refuses it and writes nothing.
    const imp = await h.cli(['import', bad], { schema: target });
    expectExit(imp, 1);
    expect(imp.stderr).toMatch(/Import refused: the export does not verify \(3 problem\(s\)\); nothing was written/);
    const exists = await h.pool.query(`SELECT to_regclass($1) AS t`, [`"${target}".run_events`]);
    expect(exists.rows[0].t).toBeNull();
  });

  it('import loads a good export into another database: same events, same hashes, projections that verify', async () => {
    // A fresh archive schema: --migrate creates it first (import runs as the owner anyway).
    const r = await h.cli(['--migrate', 'import', file()], { schema: target });
    expectExit(r, 0);
    expect(r.lines).toEqual([`✓ Imported 2 run(s), ${lines().length} event(s); hash chains verified`]);
    expectExit(await h.cli(['verify'], { schema: target }), 0);
    const back = await h.cli(['export', eventful, clean], { schema: target });
    expect(back.stdout).toBe(readFileSync(file(), 'utf8'));
    // A second import of the same runs is refused.
    const again = await h.cli(['import', file()], { schema: target });
    expectExit(again, 1);
    expect(again.stderr).toMatch(/already in this database/);
  });

  it('issue 20 item 10: a run removed, a last event cut off, a file cut short or empty: verify fails, import refuses', async () => {
    const ls = lines();
    const m = manifestLine();
    const lastOfClean = ls.filter((l) => l.runId === clean).pop()!;
    const cases: [string, object[], RegExp][] = [
      [
        'run-removed',
        [...ls.filter((l) => l.runId !== clean), m],
        new RegExp(`run ${clean}: export incomplete: the manifest lists \\d+ event\\(s\\); none in the file`),
      ],
      [
        'last-cut',
        [...ls.filter((l) => l !== lastOfClean), m],
        new RegExp(`run ${clean} seq ${lastOfClean.seq - 1}: export incomplete: the manifest lists`),
      ],
      ['no-manifest', [...ls], /export incomplete: no manifest at its end: the file was cut short/],
      ['empty', [], /export incomplete: the file holds no events and no manifest/],
    ];
    for (const [name, content, why] of cases) {
      const f = writeLines(`${name}.ndjson`, content);
      const v = await h.cli(['verify', '--file', f], { schema: false });
      expectExit(v, 1);
      expect(v.lines).toEqual(expect.arrayContaining([expect.stringMatching(why)]));
      // A run cut short must never come in as a `running` run.
      const imp = await h.cli(['--migrate', 'import', f], { schema: `${target}_${name.replace('-', '_')}` });
      expectExit(imp, 1);
      expect(imp.stderr).toMatch(/Import refused: the export does not verify/);
    }
  });

  it('verify --file --checkpoint uses the checkpoint, and refuses one it cannot read', async () => {
    const missing = await h.cli(['verify', '--file', file(), '--checkpoint', path.join(dir, 'nonexistent.json')], {
      schema: false,
    });
    expectExit(missing, 2);
    expect(missing.stderr).toMatch(/checkpoint file/);
    const cp = await h.cli(['checkpoint'], { env: { ORBIT_CHECKPOINT_KEY: 'k' } });
    expectExit(cp, 0);
    const cpFile = path.join(dir, 'cp.json');
    writeFileSync(cpFile, cp.stdout);
    const good = await h.cli(['verify', '--file', file(), '--checkpoint', cpFile], {
      schema: false,
      env: { ORBIT_CHECKPOINT_KEY: 'k' },
    });
    expectExit(good, 0);
    expect(good.lines[0]).toMatch(/heads as the checkpoint saw them$/);
    // Without the key the checkpoint proves nothing: said, and exit 1.
    const keyless = await h.cli(['verify', '--file', file(), '--checkpoint', cpFile], { schema: false });
    expectExit(keyless, 1);
    expect(keyless.lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/^✗ checkpoint file: checkpoint not authenticated/)]),
    );
    // A run re-written consistently, manifest included, still differs from the checkpoint's head.
    const ls = lines();
    const last = ls.filter((l) => l.runId === clean).pop()!;
    const forged = ls.map((l) => (l === last ? { ...l, hash: 'f'.repeat(64) } : l));
    const m = manifestLine();
    const f = writeLines('forged.ndjson', [
      ...forged,
      { ...m, runs: m.runs.map((r) => (r.runId === clean ? { ...r, headHash: 'f'.repeat(64) } : r)) },
    ]);
    const caught = await h.cli(['verify', '--file', f, '--checkpoint', cpFile, '--json'], {
      schema: false,
      env: { ORBIT_CHECKPOINT_KEY: 'k' },
    });
    expectExit(caught, 1);
    expect((JSON.parse(caught.stdout) as { problems: { runId: string; kind: string }[] }).problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ runId: clean, kind: 'events rewritten' })]),
    );
  });
});
