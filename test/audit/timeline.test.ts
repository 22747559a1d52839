import { buildTimeline, formatDuration } from '../../src/audit/timeline';
import { timelineLines } from '../../src/cli/timelineText';
import {
  claimed,
  created,
  failed,
  record,
  released,
  resumed,
  retryScheduled,
  runFailed,
  runSucceeded,
  started,
  succeeded,
} from '../support/eventBuilders';

/* The timeline is a pure arrangement of a run's events on a time axis. */

describe('buildTimeline', () => {
  it('a retried step, a crash and a resume: attempts with their workers, the back-off and the gap', () => {
    const events = record('r', [
      created(['a', 'b']),
      claimed('w1'),
      started('a', 1),
      failed('a', 1),
      retryScheduled('a', 1, 1000),
      started('a', 2),
      succeeded('a', 2),
      started('b', 1),
      resumed({ by: 'w2', fromStep: 'b', inFlight: ['b'] }),
      started('b', 1),
    ]).map((e, i) => (i >= 8 ? { ...e, writer: 'w2' } : { ...e, writer: 'w1' }));
    const t = buildTimeline(events)!;
    expect(t.attempts.map((a) => [a.step, a.attempt, a.outcome, a.worker])).toEqual([
      ['a', 1, 'failed', 'w1'],
      ['a', 2, 'success', 'w1'],
      ['b', 1, 'interrupted', 'w1'],
      ['b', 1, 'running', 'w2'],
    ]);
    expect(t.waits).toEqual([
      { kind: 'retry', step: 'a', from: events[4]!.occurredAt, to: events[5]!.occurredAt, worker: 'w1' },
      { kind: 'crash', step: 'b', from: events[7]!.occurredAt, to: events[8]!.occurredAt, worker: 'w1' },
    ]);
    expect(t.attempts[2]!.endedAt).toBe(events[8]!.occurredAt);
    expect(t.ended).toBe(false);
    expect(t.durationMs).toBe(9000);
  });

  it('a graceful release is a release, not a crash; a --retry-failed resume is neither', () => {
    const t = buildTimeline(
      record('r', [
        created(['a']),
        claimed('w1'),
        started('a', 1),
        released('w1'),
        resumed({ by: 'w2', fromStep: 'a', inFlight: ['a'] }),
        started('a', 1),
        failed('a', 1, { retryable: false }),
        runFailed('a failed', 'a'),
        resumed({ by: 'op', retryFailed: true, reason: 'retry failed' }),
      ]),
    )!;
    expect(t.waits.map((w) => w.kind)).toEqual(['released']);
    expect(t.waits[0]!.to).not.toBeNull();
    expect(t.markers.map((m) => m.kind)).toEqual(['created', 'claimed', 'released', 'resumed', 'failed', 'resumed']);
  });

  it('a run not ended is drawn up to the given now (the database clock), not frozen at its last event', () => {
    const events = record('r', [created(['a', 'b']), claimed('w1'), started('a', 1)]);
    const last = events[2]!.occurredAt;
    const now = new Date(Date.parse(last) + 60_000).toISOString();
    const t = buildTimeline(events, now)!;
    expect(t.ended).toBe(false);
    expect(t.endedAt).toBe(now);
    expect(t.lastEventAt).toBe(last);
    expect(t.durationMs).toBe(62_000);
    expect(t.attempts[0]!.outcome).toBe('running');
    const plain = { green: (x: string) => x, red: (x: string) => x, yellow: (x: string) => x, dim: (x: string) => x };
    const lines = timelineLines(t, { width: 20, fancy: false, paint: plain, results: false });
    expect(lines[0]).toBe(
      'Run r (etl): not ended, 1m 02s so far (last event 1m 00s ago); 1 attempt(s) of 2 step(s) by 1 worker(s)',
    );
    // The running attempt's bar and figure reach now: a minute, not 0 ms.
    expect(lines.find((l) => l.startsWith('a #1'))).toMatch(/\|#{20}\|\s+1m 00s running/);
    // Without a now (or for an ended run) nothing is extrapolated.
    expect(buildTimeline(events)!.durationMs).toBe(2_000);
    const done = record('r', [created(['a']), claimed('w1'), started('a', 1), succeeded('a', 1), runSucceeded()]);
    expect(buildTimeline(done, now)!.endedAt).toBe(done[4]!.occurredAt);
  });

  it('formats durations for a column', () => {
    expect([0, 850, 1234, 12_345, 184_000, 7_500_000].map(formatDuration)).toEqual([
      '0ms',
      '850ms',
      '1.23s',
      '12.3s',
      '3m 04s',
      '2h 05m',
    ]);
  });
});
