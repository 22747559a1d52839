/**
 * An asynchronous failover that loses a queued run's claim while its worker executes it (a
 * throwaway primary and its replica, the WAL held back before the claim, never the shared server).
 * On the new primary the run is queued again, nobody's; the worker's next append is refused. It
 * claims the run again at once (it still has it in its lease, so no other worker could take it
 * and no NOTIFY would tell one) instead of waiting out a failed execution's backoff.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../support/waitFor';
import { lostFailover } from '../support/lostFailover';

jest.setTimeout(240_000);

const h = lostFailover('claim');
const { schema, runId, orbit, pool, stepStatus } = h;

it('claims again at once a queued run whose claim the failover lost', async () => {
  const marker = path.join(h.dir, 'marker');
  const fetched = path.join(h.dir, 'fetch');
  const meta = { marker, holdUntil: { 'fetch-data': fetched } };
  const queued = await orbit(['run', 'data-pipeline', '--queue', '--run-id', runId, '--metadata', JSON.stringify(meta)]).done;
  expect(queued.code).toBe(0);
  const primary = pool(h.pair.primaryUrl);
  // The replica has the queued run; nothing after it.
  await h.pair.caughtUp();
  h.pair.holdReplication();
  const worker = orbit(['worker', '-v']);
  await waitFor(async () => (await stepStatus(primary, 'fetch-data')) === 'running', { what: 'fetch-data to start' });
  await h.pair.killPrimary();
  await h.pair.promote();
  const promoted = pool(h.pair.replicaUrl);
  const status = async () =>
    (await promoted.query<{ status: string }>(`SELECT status FROM ${schema}.runs WHERE id = $1`, [runId])).rows[0]?.status;
  expect(await status()).toBe('pending');
  // fetch-data ends; its append meets a journal where the run was never claimed.
  writeFileSync(fetched, '');
  await waitFor(async () => (await status()) === 'success', { what: 'the run to succeed on the new primary', timeoutMs: 60_000 });
  const claims = (
    await promoted.query<{ payload: { worker: string } }>(
      `SELECT payload FROM ${schema}.run_events WHERE run_id = $1 AND type = 'run.claimed' ORDER BY seq`,
      [runId],
    )
  ).rows;
  expect(claims).toHaveLength(1);
  // fetch-data's lost start and success: executed again, under the same idempotency key.
  const runs = readFileSync(marker, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('fetch-data '));
  expect(runs).toHaveLength(2);
  expect(new Set(runs.map((l) => l.split(' ')[2])).size).toBe(1);
  expect(worker.running).toBe(true);
  // Not reported as a takeover (nobody took it) nor counted as a failed execution.
  const said = `${worker.stdout}${worker.stderr}`;
  expect(said).not.toContain(`Run ${runId} error`);
});
