import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase } from '../../src/db/database';
import { formatError } from '../../src/errors';
import { Lease } from '../../src/lease/lease';
import { enqueueRun } from '../../src/executor/queue';
import { createRegistry } from '../../src/pipeline/registry';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import type { BenchContext } from './context';
import { measureCpu } from './cpu';
import { queuedPipeline } from './pipelines';
import type { ScenarioResult } from './report';
import { median, nowMs, percentile, sleep } from './stats';

const WORKERS = 2;
const CONCURRENCY = 4;

interface ChildReply {
  readonly ready?: boolean;
  readonly workerId?: string;
  readonly executions?: Array<[string, number]>;
  readonly notified?: Array<[string, number]>;
  readonly error?: string;
}

const nextMessage = (child: ChildProcess, ms: number): Promise<ChildReply> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ error: `no answer within ${ms} ms` }), ms);
    const done = (m: ChildReply) => {
      clearTimeout(timer);
      child.off('message', done);
      child.off('exit', exited);
      resolve(m);
    };
    const exited = (code: number | null) => done({ error: `exited (${code})` });
    child.on('message', done);
    child.once('exit', exited);
  });

/** Server CPU and wall time of one lease renewal (the worker's UPDATE of its row), with and without its NOTIFY. */
const leaseCost = async (client: OrbitClient, renewals: number) => {
  // A pool of one: every renewal on the same backend, whose CPU is read before and after.
  const opened = openDatabase({ url: client.db.url, schema: client.db.schema, max: 1, applicationName: 'orbit-bench-s8' });
  if (E.isLeft(opened)) throw new Error(formatError(opened.left));
  const db = opened.right;
  const lease = new Lease(db, 'bench-s8-lease', 15_000, () => undefined);
  try {
    for (let i = 0; i < 20; i++) await lease.renew(i % 2 === 0 ? null : 'r-warmup');
    // Interleaved rounds, so that a drift of the machine's load touches both kinds alike.
    const total = { update: { ms: 0, server: 0 as number | null }, notify: { ms: 0, server: 0 as number | null } };
    const round = async (taken: string | null, into: { ms: number; server: number | null }) => {
      const t0 = nowMs();
      const { cpu } = await measureCpu(async () => {
        for (let i = 0; i < renewals / 4; i++) await lease.renew(taken);
      });
      into.ms += nowMs() - t0;
      into.server = into.server === null || cpu.serverMs === null ? null : into.server + cpu.serverMs;
    };
    for (let r = 0; r < 4; r++) {
      await round(null, total.update);
      await round('r-taken', total.notify);
    }
    const per = (t: { ms: number; server: number | null }) => ({ ms: t.ms / renewals, serverMs: t.server === null ? null : t.server / renewals });
    return { update: per(total.update), updateNotify: per(total.notify) };
  } finally {
    await lease.stop();
    await closeDatabase(db);
  }
};

/**
 * S8 (issue 9): two worker processes (`startWorker` in child processes, as `orbit worker` runs
 * it) and runs queued with `enqueueRun` at a steady pace. From the journal, on the database clock:
 * claim latency (the run's `run.created` → its `run.claimed`, i.e. enqueue, NOTIFY, wake-up,
 * reservation, claim), runs per worker, and exactly-once: one claim per run, one start per step,
 * one handler execution per step across both processes. A double execution or an idle worker is
 * a FAIL (the bench then exits non-zero), not a missed goal.
 */
export const runS8 = async (ctx: BenchContext): Promise<ScenarioResult> => {
  // One run every pace ms: arrivals, not a backlog, so the figure is the wake-up and the claim.
  const PACE_MS = ctx.opts.s8PaceMs;
  const runs = ctx.opts.quick ? 50 : ctx.size(200, 50);
  const registry = createRegistry();
  registry.registerPipeline(queuedPipeline());
  const client = await ctx.client('s8', { registry });
  const children: ChildProcess[] = [];
  try {
    const workerIds: string[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const child = fork(path.join(__dirname, 's8child.js'), [client.db.url, client.db.schema, String(CONCURRENCY)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      const ready = await nextMessage(child, 30_000);
      if (ready.workerId === undefined) throw new Error(`S8: worker ${i + 1} did not start: ${ready.error ?? 'no id'}`);
      workerIds.push(ready.workerId);
    }
    // Let both finish their first sweep and claim pass, so every run arrives to idle, listening workers.
    await sleep(500);

    const ids: string[] = [];
    const t0 = nowMs();
    for (let i = 0; i < runs; i++) {
      const due = t0 + i * PACE_MS;
      if (due > nowMs()) await sleep(due - nowMs());
      const r = await enqueueRun('bench-s8', {}, { client });
      if (E.isLeft(r)) throw new Error(`S8: enqueue failed: ${formatError(r.left)}`);
      ids.push(r.right.runId);
    }
    const deadline = nowMs() + 60_000;
    let finished = 0;
    while (nowMs() < deadline) {
      finished = Number(
        (
          await client.db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${client.db.qs}.runs WHERE id = ANY ($1) AND status IN ('success', 'failed', 'cancelled')`,
            [ids],
          )
        ).rows[0]?.n ?? 0,
      );
      if (finished === runs) break;
      await sleep(50);
    }
    const drainMs = nowMs() - t0;

    const executions = new Map<string, number>();
    const notifiedAt = new Map<string, number>();
    for (const child of children) {
      child.send({ cmd: 'stop' });
      const reply = await nextMessage(child, 30_000);
      if (reply.executions === undefined) throw new Error(`S8: a worker did not stop cleanly: ${reply.error ?? '?'}`);
      for (const [key, n] of reply.executions) executions.set(key, (executions.get(key) ?? 0) + n);
      for (const [id, at] of reply.notified ?? []) notifiedAt.set(id, Math.min(at, notifiedAt.get(id) ?? at));
    }

    const rows = (
      await client.db.pool.query<{
        run_id: string;
        created: number;
        claimed: number | null;
        ms: number | null;
        worker: string | null;
        claims: number;
        starts: number;
        status: string;
      }>(
        `SELECT c.run_id, extract(epoch FROM c.occurred_at)::float8 * 1000 AS created, extract(epoch FROM k.occurred_at)::float8 * 1000 AS claimed,
                extract(epoch FROM k.occurred_at - c.occurred_at)::float8 * 1000 AS ms, k.payload ->> 'worker' AS worker,
                (SELECT count(*)::int FROM ${client.db.qs}.run_events x WHERE x.run_id = c.run_id AND x.type = 'run.claimed') AS claims,
                (SELECT count(*)::int FROM ${client.db.qs}.run_events x WHERE x.run_id = c.run_id AND x.type = 'step.started') AS starts,
                r.status
           FROM ${client.db.qs}.run_events c
           JOIN ${client.db.qs}.runs r ON r.id = c.run_id
           LEFT JOIN LATERAL (SELECT occurred_at, payload FROM ${client.db.qs}.run_events k
                               WHERE k.run_id = c.run_id AND k.type = 'run.claimed' ORDER BY k.seq LIMIT 1) k ON true
          WHERE c.type = 'run.created' AND c.run_id = ANY ($1)`,
        [ids],
      )
    ).rows;
    const latencies = rows.flatMap((r) => (r.ms === null ? [] : [r.ms]));
    // Split: enqueue transaction's start -> NOTIFY received (commit, delivery), then -> claim.
    const toNotify = rows.flatMap((r) => (notifiedAt.has(r.run_id) ? [(notifiedAt.get(r.run_id) as number) - r.created] : []));
    const notifyToClaim = rows.flatMap((r) => (r.claimed !== null && notifiedAt.has(r.run_id) ? [r.claimed - (notifiedAt.get(r.run_id) as number)] : []));
    // Backlog: the most runs queued and not yet claimed at any enqueue (0 means none waited behind another).
    const backlog = Math.max(0, ...rows.map((r) => rows.filter((o) => o.run_id !== r.run_id && o.created <= r.created && (o.claimed ?? Infinity) > r.created).length));
    const perWorker = workerIds.map((id) => rows.filter((r) => r.worker === id).length);
    const problems: string[] = [];
    if (finished !== runs) problems.push(`${runs - finished} of ${runs} runs did not finish within 60 s`);
    const notSucceeded = rows.filter((r) => r.status !== 'success').length;
    if (notSucceeded > 0) problems.push(`${notSucceeded} run(s) did not succeed`);
    const claimedTwice = rows.filter((r) => r.claims > 1).length;
    if (claimedTwice > 0) problems.push(`${claimedTwice} run(s) claimed more than once`);
    const startedTwice = rows.filter((r) => r.starts > 2).length;
    if (startedTwice > 0) problems.push(`${startedTwice} run(s) with a step started twice`);
    const executedTwice = [...executions.values()].filter((n) => n > 1).length;
    if (executedTwice > 0) problems.push(`${executedTwice} step(s) executed more than once`);
    if (executions.size !== runs * 2 && finished === runs) problems.push(`${executions.size} step executions seen, expected ${runs * 2}`);
    perWorker.forEach((n, i) => {
      if (n === 0) problems.push(`worker ${i + 1} took no part`);
    });
    const lease = await leaseCost(client, ctx.opts.quick ? 50 : 200);
    const med = median(latencies);
    ctx.log(
      `S8: ${runs} runs, claim latency median ${med.toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms; ` +
        `per worker ${perWorker.join(' / ')}; lease renewal ${lease.update.ms.toFixed(2)} ms (${lease.updateNotify.ms.toFixed(2)} ms with NOTIFY)`,
    );
    return {
      id: 'S8',
      title: `${WORKERS} workers x concurrency ${CONCURRENCY}, ${runs} queued runs (one per ${PACE_MS} ms)`,
      figure: 'claim latency ms, median',
      value: med,
      ratio: null,
      goal: 'median < 50 ms; each run once; both workers',
      met: problems.length === 0 && med < 50,
      fail: problems.length > 0 ? problems.join('; ') : undefined,
      details: {
        runs,
        claim_ms_median: med,
        claim_ms_p95: percentile(latencies, 95),
        claim_ms_max: percentile(latencies, 100),
        enqueue_to_notify_ms_median: median(toNotify),
        notify_to_claim_ms_median: median(notifyToClaim),
        notify_to_claim_ms_p95: percentile(notifyToClaim, 95),
        max_backlog: backlog,
        runs_per_worker: perWorker.join(' / '),
        runs_per_worker_list: perWorker,
        exactly_once: problems.length === 0,
        drain_s: drainMs / 1000,
        pace_ms: PACE_MS,
        lease_renew_ms: lease.update.ms,
        lease_renew_server_cpu_ms: lease.update.serverMs,
        lease_renew_notify_ms: lease.updateNotify.ms,
        lease_renew_notify_server_cpu_ms: lease.updateNotify.serverMs,
        note: 'latency on the database clock, run.created -> run.claimed (ms precision); runs arrive one per pace interval',
      },
    };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
};
