import { closeDatabase, type Database } from '../../src/db/database';
import type { RecordedEvent } from '../../src/events/runEvents';
import { foldEvents } from '../../src/fold/evolve';
import { readRunEvents } from '../../src/journal/readEvents';
import { buildEventfulRun, harnessDatabase } from '../support/auditRuns';
import { createE2eHarness, expectExit, type E2eHarness } from '../support/cli';
import { expectRight } from '../support/testDatabase';

/*
 * Issue 10 item 1: `orbit replay <run> --at <seq | time>` shows the run as it stood then. At every
 * seq of a run with retries, a crash and a resume, the state printed equals the fold of the
 * journal's prefix, and the next step's context is what the executor would have built.
 */

interface ReplayDoc {
  lastEvent: { seq: number };
  state: unknown;
  eventsAfter: number;
  next: { stepName: string; attempt: number; inFlight: boolean; decoded: boolean; context: Record<string, unknown> } | null;
}

describe('orbit replay', () => {
  let h: E2eHarness;
  let db: Database;
  let runId: string;
  let events: RecordedEvent[];
  const foldOf = (prefix: readonly RecordedEvent[]) =>
    JSON.parse(JSON.stringify(expectRight(foldEvents(null, prefix)))) as unknown;

  beforeAll(async () => {
    h = await createE2eHarness('replay');
    runId = await buildEventfulRun(h);
    db = harnessDatabase(h);
    events = expectRight(await readRunEvents(db, runId));
  }, 60_000);
  afterAll(async () => {
    if (db !== undefined) await closeDatabase(db);
    await h.dispose();
  });

  it('the journal holds retries, a crash and a resume by a second worker', () => {
    const types = events.map((e) => e.event.type);
    expect(types.filter((t) => t === 'step.retry_scheduled')).toHaveLength(2);
    expect(types).toContain('run.resumed');
    expect(types[types.length - 1]).toBe('run.succeeded');
    expect(new Set(events.map((e) => e.writer)).size).toBe(2);
  });

  it('at every seq, the state equals the fold of the prefix', async () => {
    for (const e of events) {
      const r = await h.cli(['replay', runId, '--at', String(e.seq), '--json']);
      expectExit(r, 0);
      const doc = JSON.parse(r.stdout) as ReplayDoc;
      expect({ seq: e.seq, state: doc.state }).toEqual({ seq: e.seq, state: foldOf(events.slice(0, e.seq)) });
      expect(doc.lastEvent.seq).toBe(e.seq);
      expect(doc.eventsAfter).toBe(events.length - e.seq);
    }
  }, 120_000);

  it('the next step and its StepContext are what the executor would have given it then', async () => {
    const secondTry = events.find((e) => e.event.type === 'step.retry_scheduled' && e.event.attempt === 1)!;
    const r = await h.cli(['replay', runId, '--at', String(secondTry.seq), '--json']);
    const doc = JSON.parse(r.stdout) as ReplayDoc;
    expect(doc.next).toMatchObject({ stepName: 'transform-data', attempt: 2, inFlight: false, decoded: true });
    expect(doc.next!.context).toEqual({
      runId,
      pipelineId: 'data-pipeline',
      stepName: 'transform-data',
      attempt: 2,
      metadata: { fail: { 'transform-data': 2 }, sleepMs: { 'load-data': 600 } },
      prevResults: { 'fetch-data': { success: true, data: { step: 'fetch-data', attempt: 1, saw: [] } } },
      idempotencyKey: `${runId}:transform-data`,
    });

    // Just after the crash (the last event before run.resumed), load-data was in flight.
    const resumed = events.find((e) => e.event.type === 'run.resumed')!;
    const crashed = JSON.parse((await h.cli(['replay', runId, '--at', String(resumed.seq - 1), '--json'])).stdout) as ReplayDoc;
    expect(crashed.next).toMatchObject({ stepName: 'load-data', attempt: 1, inFlight: true });
    expect(Object.keys(crashed.next!.context.prevResults as object)).toEqual(['fetch-data', 'transform-data']);
    // At run.resumed the crashed attempt is over: the next context is attempt 2, not yet running.
    const atResume = JSON.parse((await h.cli(['replay', runId, '--at', String(resumed.seq), '--json'])).stdout) as ReplayDoc;
    expect(atResume.next).toMatchObject({ stepName: 'load-data', attempt: 2, inFlight: false });
    expect(atResume.next!.context).toMatchObject({ attempt: 2 });

    const end = JSON.parse((await h.cli(['replay', runId, '--at', String(events.length), '--json'])).stdout) as ReplayDoc;
    expect(end.next).toBeNull();
  });

  it('--at a time includes every event up to that time', async () => {
    const mid = events[Math.floor(events.length / 2)]!;
    const r = await h.cli(['replay', runId, '--at', mid.occurredAt, '--json']);
    expectExit(r, 0);
    const upTo = events.filter((e) => Date.parse(e.occurredAt) <= Date.parse(mid.occurredAt));
    expect((JSON.parse(r.stdout) as ReplayDoc).state).toEqual(foldOf(upTo));
  });

  it('prints the state for people, and refuses a point outside the run', async () => {
    const r = await h.cli(['replay', runId, '--at', '3']);
    expectExit(r, 0);
    expect(r.lines[0]).toMatch(new RegExp(`^Run ${runId} \\(data-pipeline\\) at seq 3, `));
    expect(r.stdout).toContain('Next: fetch-data, attempt 1 (in flight at that moment). Its StepContext:');

    const beyond = await h.cli(['replay', runId, '--at', '999']);
    expectExit(beyond, 1);
    expect(beyond.stderr).toBe(`Error: Invalid --at: run ${runId} has ${events.length} event(s), no seq 999\n`);
    const before = await h.cli(['replay', runId, '--at', '2001-01-01T00:00:00Z']);
    expectExit(before, 1);
    expect(before.stderr).toMatch(/had not begun/);
    // Not a replay point at all: a usage error, before any connection.
    expectExit(await h.cli(['replay', runId, '--at', 'yesterday']), 2);
    expectExit(await h.cli(['replay', 'no-such-run', '--at', '1']), 1);
  });
});
