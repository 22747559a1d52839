// The parent (scripts/bench/peers.ts) forks one runner per peer and talks to it over IPC:
// it sends { cmd: 's1', steps } or { cmd: 's2', runs, steps, concurrency } and gets back
// { ok: true, steps, ms, node_cpu_ms } (or { ok: false, error }); { cmd: 'stop' } ends it.
// Set-up (migrations, launch) happens before 'ready', outside every measured window.

/* global performance */

/** Runs `fn` and returns its wall time and this process's CPU (ms). */
export const timed = async (fn) => {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, node_cpu_ms: (cpu.user + cpu.system) / 1000 };
};

/** `count` tasks, at most `concurrency` at a time. */
export const forEachConcurrent = async (count, concurrency, task) => {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(count, concurrency) }, lane));
};

/** Answers the parent's commands with `handlers[cmd](msg)` until 'stop', then `close()`. */
export const serve = async (setup) => {
  const send = (m) => new Promise((resolve) => process.send(m, undefined, undefined, () => resolve()));
  let handlers;
  try {
    handlers = await setup();
  } catch (err) {
    await send({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
  // The bench died (Ctrl-C twice, a crash): do not outlive it.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg) => {
    void (async () => {
      if (msg.cmd === 'stop') {
        await handlers.close().catch(() => undefined);
        await send({ ok: true });
        process.exit(0);
      }
      try {
        const r = await handlers[msg.cmd](msg);
        await send({ ok: true, ...r });
      } catch (err) {
        await send({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    })();
  });
  await send({ ok: true, ready: true });
};
