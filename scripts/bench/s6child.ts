/**
 * S6's measuring process: a fresh Node process, so its peak RSS is the reader's alone (not the
 * bench's seeding and earlier scenarios). Prints one JSON line.
 *   node s6child.js <url> <schema> <runId> stream|fold|read-all
 */
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { loadRunState } from '../../src/journal/loadRunState';
import { readRunEvents, streamRunEvents } from '../../src/journal/readEvents';

const mb = (bytes: number) => bytes / 2 ** 20;

const main = async () => {
  const [url, schema, runId, mode] = process.argv.slice(2) as [string, string, string, string];
  const opened = openDatabase({ url, schema, max: 2, applicationName: 'orbit-bench-s6' });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  const db = opened.right;
  await db.pool.query('SELECT 1');
  const rssBefore = mb(process.memoryUsage.rss());
  let peakSampled = rssBefore;
  const sampler = setInterval(() => {
    peakSampled = Math.max(peakSampled, mb(process.memoryUsage.rss()));
  }, 5);
  const t0 = process.hrtime.bigint();
  let events = 0;
  let lastSeq = 0;
  let batches = 0;
  if (mode === 'stream') {
    for await (const batch of streamRunEvents(db, runId)) {
      if (E.isLeft(batch)) throw new Error(formatError(batch.left));
      for (const e of batch.right) {
        if (e.seq !== lastSeq + 1) throw new Error(`seq ${e.seq} after ${lastSeq}`);
        lastSeq = e.seq;
      }
      events += batch.right.length;
      batches += 1;
      peakSampled = Math.max(peakSampled, mb(process.memoryUsage.rss()));
    }
  } else if (mode === 'fold') {
    const s = await loadRunState(db, runId);
    if (E.isLeft(s)) throw new Error(formatError(s.left));
    events = s.right.lastSeq;
  } else {
    const all = await readRunEvents(db, runId);
    if (E.isLeft(all)) throw new Error(formatError(all.left));
    events = all.right.length;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  await closeDatabase(db);
  const peakRss = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ mode, events, batches, seconds, rssBefore, peakRss, peakSampled })}\n`);
};

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
