import { hostname } from 'node:os';
import { readNextDeadlines } from '../../src/queries/readNextDeadlines';
import { readRunDeadlines } from '../../src/queries/readRunDeadlines';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';

/*
 * The worker's wake-up deadlines are read set-based (readNextDeadlines) and per run named by a
 * NOTIFY (readRunDeadlines). Both must say what `run_liveness` (sql/006, the one statement of the
 * rule) says: the earliest `interruptible_at` of a run that is leased or waiting, a lease taken for
 * a run before its claim is journaled, a same-host owner's next renewal. A later answer would be a
 * missed interruption; an earlier one a wake-up for nothing. The reference below is the query the
 * worker ran before, evaluating `run_liveness` per run.
 */

const T_MS = 600_000;
let tc: TestClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'deadlines', thresholdMs: T_MS });
});
afterAll(async () => tc.dispose());

/** The earliest interruption by evaluating `run_liveness` per run (ms from now, database clock). */
const reference = async (): Promise<number | null> => {
  const qs = tc.client.db.qs;
  const rs = await tc.client.db.pool.query<{ ms: number | null }>(
    `SELECT (extract(epoch FROM min(t.at) - now()) * 1000)::float8 AS ms
       FROM (SELECT l.interruptible_at AS at
               FROM ${qs}.runs r CROSS JOIN LATERAL ${qs}.run_liveness(r, $1, '{}') l
              WHERE r.status IN ('pending', 'running') AND l.verdict = ANY ('{leased,waiting}')
             UNION ALL
             SELECT w.lease_until FROM ${qs}.workers w
              WHERE w.lease_until > now()
                AND EXISTS (SELECT 1 FROM unnest(w.held) h(id)
                             WHERE NOT EXISTS (SELECT 1 FROM ${qs}.runs r WHERE r.id = h.id AND r.owner = w.id))
             UNION ALL
             SELECT w.heartbeat_at + (w.lease_until - w.heartbeat_at) / 3 + interval '1 second' FROM ${qs}.workers w
              WHERE w.host = $2 AND w.identity IS NOT NULL AND cardinality(w.held) > 0
                AND w.heartbeat_at + (w.lease_until - w.heartbeat_at) / 3 + interval '1 second' > now()) t`,
    [T_MS, hostname()],
  );
  return rs.rows[0]?.ms ?? null;
};

interface RunRow {
  readonly id: string;
  readonly status: string;
  readonly triggeredBy: string | null;
  readonly owner: string | null;
  /** Seconds before now of its last event. */
  readonly eventAgoS: number;
}
interface WorkerRow {
  readonly id: string;
  /** Seconds from now (negative: expired). */
  readonly leaseInS: number;
  readonly heartbeatAgoS: number;
  readonly held: readonly string[];
  readonly host?: string;
}

const seed = async (runs: readonly RunRow[], workers: readonly WorkerRow[]): Promise<void> => {
  const { pool, qs } = tc.client.db;
  await pool.query(`DELETE FROM ${qs}.runs`);
  await pool.query(`DELETE FROM ${qs}.workers`);
  for (const r of runs) {
    await pool.query(
      `INSERT INTO ${qs}.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names, started_at,
                               owner, recovery_count, last_seq, last_event_at)
       VALUES ($1, 'p', $2, $3, '{}', 'h', '[]', now(), $4, 0, 2, now() - make_interval(secs => $5))`,
      [r.id, r.status, r.triggeredBy, r.owner, r.eventAgoS],
    );
  }
  for (const w of workers) {
    await pool.query(
      `INSERT INTO ${qs}.workers (id, host, pid, identity, heartbeat_at, lease_until, held)
       VALUES ($1, $2, 1, 'boot:1', now() - make_interval(secs => $3), now() + make_interval(secs => $4), $5)`,
      [w.id, w.host ?? 'elsewhere', w.heartbeatAgoS, w.leaseInS, [...w.held]],
    );
  }
};

const running = (id: string, owner: string | null, eventAgoS: number): RunRow => ({
  id,
  status: 'running',
  triggeredBy: 'queue:p',
  owner,
  eventAgoS,
});
const T_S = T_MS / 1000;

// One state per case: each verdict, covered or not, lease valid or expired, heartbeat before or after the last event.
const cases: ReadonlyArray<readonly [string, readonly RunRow[], readonly WorkerRow[]]> = [
  [
    'leased, heartbeat after the last event',
    [running('a', 'wA', 60)],
    [{ id: 'wA', leaseInS: 30, heartbeatAgoS: 5, held: ['a'] }],
  ],
  [
    'leased, last event after the heartbeat',
    [running('a', 'wA', 1)],
    [{ id: 'wA', leaseInS: 30, heartbeatAgoS: 5, held: ['a'] }],
  ],
  [
    'leased, lease later than the threshold',
    [running('a', 'wA', T_S)],
    [{ id: 'wA', leaseInS: 300, heartbeatAgoS: T_S, held: ['a'] }],
  ],
  ['lease expired, heartbeat recent', [running('a', 'wB', 300)], [{ id: 'wB', leaseInS: -60, heartbeatAgoS: 120, held: ['a'] }]],
  [
    'lease expired, stale',
    [running('a', 'wC', T_S + 300)],
    [{ id: 'wC', leaseInS: -900, heartbeatAgoS: T_S + 600, held: ['a'] }],
  ],
  [
    'lease expired, last event recent',
    [running('a', 'wC', 180)],
    [{ id: 'wC', leaseInS: -900, heartbeatAgoS: T_S + 600, held: ['a'] }],
  ],
  ['owned, not held by its owner', [running('a', 'wA', 240)], [{ id: 'wA', leaseInS: 30, heartbeatAgoS: 5, held: ['zz'] }]],
  ['owner without a lease row', [running('a', 'ghost', T_S - 60)], []],
  ['owner without a lease row, stale', [running('a', 'ghost', T_S + 60)], []],
  [
    'held by another worker than its owner',
    [running('a', 'wB', 200)],
    [{ id: 'wA', leaseInS: 30, heartbeatAgoS: 5, held: ['a'] }],
  ],
  ['queued', [{ id: 'a', status: 'pending', triggeredBy: 'queue:p', owner: null, eventAgoS: T_S - 30 }], []],
  [
    'queued, lease taken before its claim',
    [{ id: 'a', status: 'pending', triggeredBy: 'queue:p', owner: null, eventAgoS: 5 }],
    [{ id: 'wA', leaseInS: 30, heartbeatAgoS: 0, held: ['a'] }],
  ],
  ['pending, no trigger', [{ id: 'a', status: 'pending', triggeredBy: null, owner: null, eventAgoS: T_S - 12 }], []],
  ['pending, not queued', [{ id: 'a', status: 'pending', triggeredBy: 'api', owner: null, eventAgoS: T_S - 6 }], []],
  ['released', [running('a', null, T_S - 3)], []],
  ['finished', [{ id: 'a', status: 'success', triggeredBy: 'api', owner: null, eventAgoS: T_S - 3 }], []],
  ['sleeping', [{ id: 'a', status: 'sleeping', triggeredBy: 'api', owner: null, eventAgoS: T_S - 3 }], []],
  [
    'an owner on this host',
    [running('a', 'wH', 60)],
    [{ id: 'wH', leaseInS: 30, heartbeatAgoS: 5, held: ['a'], host: hostname() }],
  ],
];

/** The two reads are separate statements, a moment apart: their `now()` differs by that moment. */
const SLACK_MS = 5_000;

const expectClose = (actual: number | null, expected: number | null): void => {
  if (expected === null) expect(actual).toBeNull();
  else {
    expect(actual).not.toBeNull();
    expect(Math.abs((actual as number) - expected)).toBeLessThan(SLACK_MS);
  }
};

describe('the next deadline read set-based says what run_liveness says', () => {
  it.each(cases)('%s', async (_name, runs, workers) => {
    await seed(runs, workers);
    const want = await reference();
    const got = expectRight(await readNextDeadlines(tc.client.db, T_MS, hostname(), 'another'));
    expectClose(got.interruption, want);
    // The runs a NOTIFY names give the same deadline when they are all there is.
    const named = expectRight(
      await readRunDeadlines(
        tc.client.db,
        [...new Set([...runs.map((r) => r.id), ...workers.flatMap((w) => w.held)])],
        T_MS,
        hostname(),
        'another',
      ),
    );
    expectClose(named, want);
  });

  it('all of them at once: the earliest', async () => {
    const runs = cases.flatMap(([, rs], i) =>
      rs.map((r) => ({ ...r, id: `${r.id}${i}`, owner: r.owner === null ? null : `${r.owner}${i}` })),
    );
    const workers = cases.flatMap(([, , ws], i) =>
      ws.map((w) => ({ ...w, id: `${w.id}${i}`, held: w.held.map((h) => `${h}${i}`) })),
    );
    await seed(runs, workers);
    const want = await reference();
    expect(want).not.toBeNull();
    expectClose(expectRight(await readNextDeadlines(tc.client.db, T_MS, hostname(), 'another')).interruption, want);
  });

  it("a worker's own lease is no deadline for it: its pending claims and its own renewal", async () => {
    // wH on this host holds a run it has claimed ('a', last event 60 s ago) and one whose claim is not journaled yet ('b').
    await seed(
      [running('a', 'wH', 60), { id: 'b', status: 'pending', triggeredBy: 'queue:p', owner: null, eventAgoS: 1 }],
      [{ id: 'wH', leaseInS: 30, heartbeatAgoS: 5, held: ['a', 'b'], host: hostname() }],
    );
    const others = expectRight(await readNextDeadlines(tc.client.db, T_MS, hostname(), 'another')).interruption;
    // Another worker looks again at wH's next renewal (5 s + 1 s after its heartbeat): wH may die.
    expectClose(others, ((30 + 5) / 3 - 5 + 1) * 1000);
    // wH itself waits only for what its lease covers: 'a', the threshold after wH's heartbeat.
    const own = expectRight(await readNextDeadlines(tc.client.db, T_MS, hostname(), 'wH')).interruption;
    expectClose(own, T_MS - 5_000);
    expectClose(expectRight(await readRunDeadlines(tc.client.db, ['a', 'b'], T_MS, hostname(), 'wH')), T_MS - 5_000);
  });

  it('a deep queue brings no deadline', async () => {
    const { pool, qs } = tc.client.db;
    await seed([], []);
    await pool.query(
      `INSERT INTO ${qs}.runs (id, pipeline_id, status, triggered_by, metadata, definition_hash, step_names, started_at,
                               owner, recovery_count, last_seq, last_event_at)
       SELECT 'q' || i, 'p', 'pending', 'queue:p', '{}', 'h', '[]', now(), NULL, 0, 1, now() FROM generate_series(1, 5000) i`,
    );
    expect(expectRight(await readNextDeadlines(tc.client.db, T_MS, hostname(), 'another')).interruption).toBeNull();
    expect(await reference()).toBeNull();
  });
});
