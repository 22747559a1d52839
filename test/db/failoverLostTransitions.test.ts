/**
 * An asynchronous failover that loses a run's last transitions while its worker executes it (a
 * throwaway primary and its replica, the WAL held back before the kill, never the shared server).
 * The worker's next append is refused: the journal on the new primary is behind what it committed,
 * yet still names it the owner. It hands the run back at the journal's seq and it is resumed at
 * once — with the default threshold (10 minutes), not after it. The step whose success was lost
 * runs again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../support/waitFor';
import { lostFailover } from '../support/lostFailover';

jest.setTimeout(240_000);

const h = lostFailover('transitions');
const { schema, runId, orbit, pool, stepStatus } = h;

it('hands back a run whose last transitions the failover lost, and it is resumed at once', async () => {
  const marker = path.join(h.dir, 'marker');
  const transformed = path.join(h.dir, 'transform');
  const loaded = path.join(h.dir, 'load');
  const meta = { marker, holdUntil: { 'transform-data': transformed, 'load-data': loaded } };
  const queued = await orbit(['run', 'data-pipeline', '--queue', '--run-id', runId, '--metadata', JSON.stringify(meta)]).done;
  expect(queued.code).toBe(0);
  // The default threshold (10 min): only a hand-back can get the run going again within the test.
  const worker = orbit(['worker']);
  const primary = pool(h.pair.primaryUrl);
  await waitFor(async () => (await stepStatus(primary, 'transform-data')) === 'running', { what: 'transform-data to start' });
  // The replica has the claim and transform-data's start; then it falls behind.
  await h.pair.caughtUp();
  h.pair.holdReplication();
  writeFileSync(transformed, '');
  await waitFor(async () => (await stepStatus(primary, 'load-data')) === 'running', { what: 'load-data to start' });
  await h.pair.killPrimary();
  await h.pair.promote();
  // load-data ends; its append meets a journal where transform-data never ended.
  writeFileSync(loaded, '');
  const promoted = pool(h.pair.replicaUrl);
  await waitFor(
    async () =>
      (await promoted.query<{ status: string }>(`SELECT status FROM ${schema}.runs WHERE id = $1`, [runId])).rows[0]?.status ===
      'success',
    { what: 'the run to succeed on the new primary', timeoutMs: 60_000 },
  );
  const events = (
    await promoted.query<{ type: string; payload: { reason?: string } }>(
      `SELECT type, payload FROM ${schema}.run_events WHERE run_id = $1 ORDER BY seq`,
      [runId],
    )
  ).rows;
  const release = events.find((e) => e.type === 'run.released');
  expect(release?.payload.reason).toMatch(/journal lost transitions this worker had committed/);
  // transform-data's lost success: executed again, under the same idempotency key.
  const runs = readFileSync(marker, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('transform-data '));
  expect(runs).toHaveLength(2);
  expect(new Set(runs.map((l) => l.split(' ')[2])).size).toBe(1);
  expect(worker.running).toBe(true);
});
