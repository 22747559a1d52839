import type { RunEvent } from '../../src/events/runEvents';
import { buildTimeline } from '../../src/audit/timeline';
import { renderTimelineHtml, type TimelinePage } from '../../src/audit/timelineHtml';
import { lanesOf } from '../../src/audit/timelineLanes';
import {
  claimed,
  created,
  failed,
  record,
  retryScheduled,
  runFailed,
  runSucceeded,
  started,
  succeeded,
  timeOfSeq,
} from '../support/eventBuilders';

/*
 * Issue 21 item 5: the static `history --html` page, built from events only. Sizes stay bounded
 * for a 10,000-event run, a crashed run is not "running · 0ms", steps that never ran are shown, and
 * a run with branches (issue 18 item 5) is drawn one lane per branch.
 */

const VERIFIED = { runId: 'r', verified: true, journalIntact: true, problems: [], lastSeq: 0, lastHash: 'ab'.repeat(32) };

const render = (events: RunEvent[], more: Partial<TimelinePage> = {}): string => {
  const recorded = record('r', events).map((e) => ({ ...e, writer: 'w1' }));
  const timeline = buildTimeline(recorded);
  if (timeline === null) throw new Error('no timeline');
  return renderTimelineHtml({
    timeline,
    events: recorded,
    nowIso: timeOfSeq(recorded.length + 60),
    verification: { ...VERIFIED, lastSeq: recorded.length },
    liveness: null,
    ...more,
  });
};

const count = (html: string, re: RegExp): number => (html.match(re) ?? []).length;

describe('history --html page', () => {
  it('a 10,000-event run of one step retried 3,333 times: one row, merged bars, errors written out, under 1 MB', () => {
    const events: RunEvent[] = [created(['flaky', 'after']), claimed('w1')];
    for (let a = 1; a <= 3333; a++)
      events.push(started('flaky', a), failed('flaky', a, { message: `boom ${a % 2}` }), retryScheduled('flaky', a, 10));
    events.push(
      started('flaky', 3334),
      failed('flaky', 3334, { retryable: false, message: 'gave up' }),
      runFailed('flaky failed', 'flaky'),
    );
    const html = render(events);
    expect(events.length).toBeGreaterThanOrEqual(10_000);
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
    expect(count(html, /class="row step/g)).toBe(2);
    expect(html).toMatch(/data-step="flaky" data-attempts="3334" data-status="failed"/);
    expect(count(html, /<i class="ko/g)).toBeLessThan(200);
    // Errors inline: each distinct message with its count, not only in a tooltip.
    expect(html).toContain('<b>Error: boom 1</b> <span class="muted">×1,667 (attempts 1–3333)</span>');
    expect(html).toContain('<b>Error: gave up</b>');
    expect(html).toMatch(
      /data-step="after" data-attempts="0" data-status="never"><span class="lbl"[^>]*>after<\/span><span class="trk">.*never ran/,
    );
    expect(html).toContain('not shown: <code>orbit history r --events</code>');
  });

  it('a 10,000-event run of 5,000 steps: plain steps folded, under 1 MB', () => {
    const steps = Array.from({ length: 5000 }, (_, i) => `s${i}`);
    const events: RunEvent[] = [created(steps), claimed('w1')];
    for (const s of steps) events.push(started(s), succeeded(s));
    events.push(runSucceeded());
    const html = render(events);
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
    expect(count(html, /class="row step/g)).toBe(16);
    expect(html).toContain('data-steps="4984"');
  });

  it('a crashed run is interrupted (for how long, which step), not "running · 0ms"; the chain and its last hash are shown', () => {
    const events = [created(['a', 'b', 'c']), claimed('w1'), started('a'), succeeded('a'), started('b')];
    const html = render(events, {
      liveness: { verdict: 'stale', interrupted: true, owner: 'w1', leaseUntil: null },
    });
    expect(html).not.toMatch(/running · 0ms/);
    expect(html).toContain('<b>Interrupted</b> (stale)');
    expect(html).toMatch(/data-step="b" data-attempts="1" data-status="interrupted"/);
    expect(html).toContain('interrupted · no outcome, started 1m 00s ago');
    expect(html).toMatch(/data-kind="crash"[^]*during b after its last event; not resumed/);
    expect(html).toMatch(/data-step="c" data-attempts="0" data-status="never".*not started \(run interrupted\)/);
    expect(html).toContain(`last hash <code id="last-hash">${'ab'.repeat(32)}</code>`);
    // A running one says so, up to now.
    const running = render(events, { liveness: { verdict: 'leased', interrupted: false, owner: 'w1', leaseUntil: null } });
    expect(running).toContain('running · 1m 00s so far');
    expect(running).toContain('data-kind="now"');
  });

  it('a map step is one row with its item counts and the items that failed', () => {
    const item = (type: 'item.started' | 'item.succeeded' | 'item.failed', index: number, attempt = 1): RunEvent =>
      type === 'item.started'
        ? { type, stepName: 'each', attempt, payload: { index } }
        : type === 'item.succeeded'
          ? { type, stepName: 'each', attempt, payload: { index, result: index } }
          : {
              type,
              stepName: 'each',
              attempt,
              payload: { index, error: { name: 'Error', message: `item ${index} broke` }, retryable: false },
            };
    const events: RunEvent[] = [
      created(['each']),
      claimed('w1'),
      { type: 'step.started', stepName: 'each', attempt: 1, payload: { items: 4 } },
    ];
    for (const i of [0, 1, 2, 3])
      events.push(item('item.started', i), i === 2 ? item('item.failed', i) : item('item.succeeded', i));
    events.push(failed('each', 1, { retryable: false, message: 'item 2 failed' }), runFailed('each failed', 'each'));
    const html = render(events);
    expect(count(html, /class="row step/g)).toBe(1);
    expect(html).toContain('<span class="items errnote" data-items="4">map: 4 items, 3 succeeded, 1 failed (items 2)</span>');
    expect(html).toContain('<b>Error: item 2 broke</b>');
  });

  it('one lane per branch for a run with dependsOn; a linear run has none', () => {
    const dag: RunEvent = {
      type: 'run.created',
      payload: {
        pipelineId: 'diamond',
        steps: ['a', 'b', 'c', 'd'],
        definitionHash: 'h',
        metadata: {},
        triggeredBy: null,
        dependsOn: { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] },
      },
    };
    expect(lanesOf(['a', 'b', 'c', 'd'], { a: [], b: ['a'], c: ['a'], d: ['b', 'c'] })).toEqual([
      { number: 1, steps: ['a', 'b', 'd'] },
      { number: 2, steps: ['c'] },
    ]);
    expect(lanesOf(['a', 'b'], null)).toEqual([{ number: 1, steps: ['a', 'b'] }]);
    const html = render([
      dag,
      claimed('w1'),
      started('a'),
      succeeded('a'),
      started('b'),
      started('c'),
      succeeded('c'),
      succeeded('b'),
      started('d'),
      succeeded('d'),
      runSucceeded(),
    ]);
    expect(count(html, /class="row lane"/g)).toBe(2);
    expect(html).toContain('branch 1</span>');
    expect(html).toContain('a → b → d');
    expect(html).toContain('in 2 branches');
    expect(count(render([created(['a', 'b']), claimed('w1'), started('a'), succeeded('a')]), /class="row lane"/g)).toBe(0);
  });
});
