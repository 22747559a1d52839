/**
 * S9's memory check: a fresh Node process runs one map step of N no-op items, then folds the
 * run's journal again (what a resume reads), and reports its peak RSS. Prints one JSON line.
 *   node s9child.js <url> <schema> <items> <concurrency>
 */
import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { runPipeline } from '../../src/executor/runPipeline';
import { loadRunState } from '../../src/journal/loadRunState';
import { createRegistry } from '../../src/pipeline/registry';
import { connect } from '../../src/runtime/orbitClient';
import { mapPipeline } from './pipelines';

const mb = (bytes: number) => bytes / 2 ** 20;

const main = async () => {
  const [url, schema, itemsArg, concurrencyArg] = process.argv.slice(2) as [string, string, string, string];
  const items = Number(itemsArg);
  const registry = createRegistry();
  registry.registerPipeline(mapPipeline('bench-s9-rss', items, Number(concurrencyArg)));
  const c = await connect({ databaseUrl: url, schema, registry });
  if (E.isLeft(c)) throw new Error(formatError(c.left));
  const client = c.right;
  let peakSampled = mb(process.memoryUsage.rss());
  const sampler = setInterval(() => (peakSampled = Math.max(peakSampled, mb(process.memoryUsage.rss()))), 20);
  const t0 = process.hrtime.bigint();
  const r = await runPipeline('bench-s9-rss', {}, { client });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (E.isLeft(r) || r.right.status !== 'success') throw new Error(`S9 child: ${E.isLeft(r) ? formatError(r.left) : r.right.status}`);
  const runId = r.right.runId;
  const t1 = process.hrtime.bigint();
  const s = await loadRunState(client.db, runId);
  if (E.isLeft(s)) throw new Error(formatError(s.left));
  const foldSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  clearInterval(sampler);
  await client.close();
  const peakRss = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ items, seconds, events: s.right.lastSeq, foldSeconds, peakRss, peakSampled })}\n`);
};

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
