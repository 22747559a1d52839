/**
 * An asynchronous failover that loses the end of a run its worker had finished (a throwaway
 * primary and its replica, the WAL held back before the last step's success, never the shared
 * server). On the new primary the run is running again and names the worker its owner, but the
 * worker has nothing left to append: no refused append tells it. When its LISTEN connection comes
 * back it hands the run back (`run.released`) and it is resumed at once, with the default threshold
 * (10 minutes), not after it. The step whose success was lost runs again, under the same key.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../support/waitFor';
import type { Pool } from 'pg';
import { lostFailover } from '../support/lostFailover';

jest.setTimeout(240_000);

const h = lostFailover('end');
const { schema, runId, orbit, pool, stepStatus } = h;

it('hands back a run whose end the failover lost, and it is resumed at once', async () => {
  const marker = path.join(h.dir, 'marker');
  const notified = path.join(h.dir, 'notify');
  const meta = { marker, holdUntil: { notify: notified } };
  const queued = await orbit(['run', 'data-pipeline', '--queue', '--run-id', runId, '--metadata', JSON.stringify(meta)]).done;
  expect(queued.code).toBe(0);
  const worker = orbit(['worker']);
  const primary = pool(h.pair.primaryUrl);
  const status = async (p: Pool) =>
    (await p.query<{ status: string }>(`SELECT status FROM ${schema}.runs WHERE id = $1`, [runId])).rows[0]?.status;
  await waitFor(async () => (await stepStatus(primary, 'notify')) === 'running', { what: 'notify to start' });
  // The replica has everything up to notify's start; then it falls behind.
  await h.pair.caughtUp();
  h.pair.holdReplication();
  writeFileSync(notified, '');
  await waitFor(async () => (await status(primary)) === 'success', { what: 'the run to end on the old primary' });
  await h.pair.killPrimary();
  await h.pair.promote();
  const promoted = pool(h.pair.replicaUrl);
  await waitFor(async () => (await status(promoted)) === 'success', {
    what: 'the run to succeed on the new primary',
    timeoutMs: 60_000,
  });
  const events = (
    await promoted.query<{ type: string; payload: { reason?: string } }>(
      `SELECT type, payload FROM ${schema}.run_events WHERE run_id = $1 ORDER BY seq`,
      [runId],
    )
  ).rows;
  expect(events.find((e) => e.type === 'run.released')?.payload.reason).toMatch(
    /journal lost transitions this worker had committed/,
  );
  // notify's lost success: executed again, under the same idempotency key.
  const runs = readFileSync(marker, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('notify '));
  expect(runs).toHaveLength(2);
  expect(new Set(runs.map((l) => l.split(' ')[2])).size).toBe(1);
  expect(worker.running).toBe(true);
});
