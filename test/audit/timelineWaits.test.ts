import type { RecordedEvent, RunEvent } from '../../src/events/runEvents';
import { buildTimeline, horizonOf, type Timeline } from '../../src/audit/timeline';
import { renderTimelineHtml } from '../../src/audit/timelineHtml';
import { timelineLines } from '../../src/cli/timelineText';
import { currentWait, describeWait } from '../../src/fold/runWait';
import {
  claimed,
  created,
  record,
  resumed,
  runSucceeded,
  started,
  succeeded,
  stateOf,
  timeOfSeq,
} from '../support/eventBuilders';
import { foldEvents } from '../../src/fold/evolve';

/*
 * Issue 19 item 7: a run that sleeps or waits for an event is shown as such in every picture of
 * it (the timeline, `orbit history`'s text and HTML): its sleep drawn to its end, its wait to its
 * event or timeout, labelled; never a crash at its wake-up, never "running · 0ms".
 */

const plain = { green: (x: string) => x, red: (x: string) => x, yellow: (x: string) => x, dim: (x: string) => x };
const text = (t: Timeline) => timelineLines(t, { width: 40, fancy: false, paint: plain, results: false });
const html = (t: Timeline, events: readonly RecordedEvent[], nowIso: string) =>
  renderTimelineHtml({
    timeline: t,
    events,
    nowIso,
    verification: null,
    // What run_liveness says of a suspended run: nobody holds it, and it is not interrupted.
    liveness: { verdict: 'finished', interrupted: false, owner: null, leaseUntil: null },
  });

const sleeping = (stepName: string, until: string): RunEvent => ({
  type: 'step.sleeping',
  stepName,
  attempt: 1,
  payload: { until },
});
const waiting = (stepName: string, event: string, timeoutAt: string | null): RunEvent => ({
  type: 'step.waiting',
  stepName,
  attempt: 1,
  payload: { event, timeoutAt },
});
const suspended = (worker = 'w1'): RunEvent => ({ type: 'run.suspended', payload: { worker } });
const received = (event: string, sender?: string): RunEvent => ({
  type: 'event.received',
  payload: { event, data: { ok: true }, by: 'cli-123', ...(sender !== undefined ? { sender } : {}) },
});

// Seq n happens at timeOfSeq(n): one second apart.
const UNTIL = timeOfSeq(3601); // an hour after the run began

describe('a sleeping run', () => {
  const events = record('r', [
    created(['before', 'nap', 'after'], { pipelineId: 'long-nap' }),
    claimed('w1'),
    started('before'),
    succeeded('before'),
    started('nap'),
    sleeping('nap', UNTIL),
    suspended('w1'),
  ]);
  const now = timeOfSeq(10);
  const t = buildTimeline(events, now)!;

  it('the fold and the timeline say what it sleeps on, in the same words', () => {
    const wait = currentWait(stateOf(foldEvents(null, events)));
    expect(wait).toEqual({ kind: 'sleep', step: 'nap', until: UNTIL, event: null });
    expect(describeWait(wait!)).toBe(`sleeping until ${UNTIL.slice(0, 10)} ${UNTIL.slice(11, 19)}Z`);
    expect(t.suspended).toBe(true);
    expect(t.attempts.find((a) => a.step === 'nap')).toMatchObject({
      outcome: 'sleeping',
      endedAt: null,
      pause: { kind: 'sleep', from: events[5]!.occurredAt, until: UNTIL, to: null, end: null },
    });
    expect(t.markers.map((m) => m.kind)).toEqual(['created', 'claimed', 'suspended']);
    expect(horizonOf(t)).toBe(UNTIL);
  });

  it('orbit history: the header and the row say sleeping until its end, the bar runs to it', () => {
    const lines = text(t);
    expect(lines[0]).toMatch(
      /^Run r \(long-nap\): sleeping until \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ in step nap, 9\.00s so far; no worker holds it/,
    );
    const row = lines.find((l) => l.startsWith('nap #1'));
    expect(row).toMatch(/~{39}\|/); // from its start to the end of the sleep, an hour ahead
    expect(row).toMatch(/sleeping\s+w1|sleeping.*sleeping until/);
    expect(row).toContain(describeWait(currentWait(stateOf(foldEvents(null, events)))!));
    expect(row).not.toContain('running');
  });

  it('history --html: a labelled sleep segment to its end, a sleeping state, no "running"', () => {
    const page = html(t, events, now);
    // The band runs from the sleep's start to its end, an hour ahead (the axis ends there).
    expect(page).toMatch(
      /<i class="pause sleep on" data-pause="sleep" data-end="on" style="left:0\.14%;width:99\.86%" title="[^"]*">sleeping until /,
    );
    expect(page).toContain('<i class="pause-elapsed sleep"');
    expect(page).toMatch(/<p class="state pause" id="state" data-pause="sleep"><b>Sleeping<\/b> until /);
    expect(page).toMatch(/data-step="nap" data-attempts="1" data-status="sleeping"/);
    expect(page).not.toMatch(/running · /);
    expect(page).not.toMatch(/Running<\/b> for/);
    expect(page).not.toContain('data-kind="crash"');
  });

  it('woken at its time: slept, succeeded; no crash and no interrupted attempt at the wake-up', () => {
    const all = record('r', [
      created(['before', 'nap', 'after'], { pipelineId: 'nap' }),
      claimed('w1'),
      started('before'),
      succeeded('before'),
      started('nap'),
      sleeping('nap', timeOfSeq(8)),
      suspended('w1'),
      resumed({ by: 'w2', reason: 'woken: its sleep ended or its wait timed out' }),
      succeeded('nap', 1, null),
      started('after'),
      succeeded('after'),
      runSucceeded(),
    ]);
    const done = buildTimeline(all)!;
    expect(done.waits).toEqual([]);
    expect(done.suspended).toBe(false);
    const nap = done.attempts.filter((a) => a.step === 'nap');
    expect(nap).toHaveLength(1);
    expect(nap[0]).toMatchObject({ outcome: 'success', pause: { to: timeOfSeq(8), end: 'slept' } });
    expect(text(done).find((l) => l.startsWith('nap #1'))).toContain('slept 2.00s');
    const page = html(done, all, timeOfSeq(20));
    expect(page).toContain('data-end="slept"');
    expect(page).not.toContain('row gap');
  });
});

describe('a run with branches, one of them asleep', () => {
  it("the sleep is drawn on its branch's row too, while the other branch runs on", () => {
    const dag: RunEvent = {
      type: 'run.created',
      payload: {
        pipelineId: 'dag',
        steps: ['a', 'nap', 'b'],
        definitionHash: 'h',
        metadata: {},
        triggeredBy: null,
        dependsOn: { a: [], nap: ['a'], b: ['a'] },
      },
    };
    const events = record('r', [
      dag,
      claimed('w1'),
      started('a'),
      succeeded('a'),
      started('nap'),
      sleeping('nap', timeOfSeq(40)),
      started('b'),
    ]);
    const t = buildTimeline(events, timeOfSeq(10))!;
    expect(t.suspended).toBe(false); // the executor holds the run: b runs
    const lines = timelineLines(t, {
      width: 40,
      fancy: false,
      paint: plain,
      results: false,
      dependsOn: { a: [], nap: ['a'], b: ['a'] },
    });
    expect(lines[0]).toMatch(/^Run r \(dag\): not ended/);
    const lane = lines.find((l) => l.startsWith('branch') && l.includes('nap'));
    expect(lane).toMatch(/~{20,}\|/);
    expect(lines.find((l) => l.trim().startsWith('b #1'))).toMatch(/running/);
  });
});

describe('a waiting run', () => {
  const TIMEOUT = timeOfSeq(7201);
  const events = record('r', [
    created(['prepare', 'approve', 'ship'], { pipelineId: 'approval' }),
    claimed('w1'),
    started('prepare'),
    succeeded('prepare'),
    started('approve'),
    waiting('approve', 'approved', TIMEOUT),
    suspended('w1'),
  ]);

  it('waiting for its event, with its timeout or without one', () => {
    const t = buildTimeline(events, timeOfSeq(10))!;
    const expected = `waiting for "approved" (times out ${TIMEOUT.slice(0, 10)} ${TIMEOUT.slice(11, 19)}Z)`;
    expect(describeWait(currentWait(stateOf(foldEvents(null, events)))!)).toBe(expected);
    expect(text(t)[0]).toContain(`${expected} in step approve`);
    const page = html(t, events, timeOfSeq(10));
    expect(page).toContain(`>${expected.replace(/"/g, '&quot;')}</i>`);
    expect(page).toContain('<code>orbit send r approved</code>');
    const forever = record('r', [...events.slice(0, 5).map((e) => e.event), waiting('approve', 'approved', null), suspended()]);
    expect(describeWait(currentWait(stateOf(foldEvents(null, forever)))!)).toBe('waiting for "approved" (no timeout)');
    expect(buildTimeline(forever, timeOfSeq(10))!.attempts[1]!.pause?.until).toBeNull();
  });

  it('the event ends the wait when it arrives: drawn to it, with its sender; no crash at the resume', () => {
    const all = record('r', [
      ...events.map((e) => e.event),
      received('approved', 'ana'),
      resumed({ by: 'w2', reason: 'an event it waits for arrived' }),
      succeeded('approve', 1, { ok: true }),
      started('ship'),
      succeeded('ship'),
      runSucceeded(),
    ]);
    const t = buildTimeline(all)!;
    expect(t.waits).toEqual([]);
    expect(t.attempts.find((a) => a.step === 'approve')).toMatchObject({
      outcome: 'success',
      pause: { kind: 'wait', event: 'approved', to: timeOfSeq(8), end: 'received', sender: 'ana' },
    });
    expect(t.markers.map((m) => m.kind)).toContain('event');
    expect(text(t).find((l) => l.startsWith('approve #1'))).toContain('waited 2.00s for "approved": received from ana');
  });

  it('an event sent before the wait began is taken at once', () => {
    const all = record('r', [
      created(['prepare', 'approve'], { pipelineId: 'approval' }),
      received('approved'),
      claimed('w1'),
      started('prepare'),
      succeeded('prepare'),
      started('approve'),
      waiting('approve', 'approved', null),
      succeeded('approve', 1, { ok: true }),
    ]);
    const a = buildTimeline(all)!.attempts.find((x) => x.step === 'approve')!;
    expect(a.pause).toMatchObject({ to: all[6]!.occurredAt, end: 'received', sender: 'cli-123' });
  });
});
