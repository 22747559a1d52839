// Pipelines for the lease tests (`--pipelines test/lease/pipelines.js`), steered by metadata:
//   metadata.firstSleepMs: { [step]: ms }  the step's FIRST attempt sleeps that long (honouring its signal);
//                                          later attempts (after a takeover) return at once
//   metadata.laterSleepMs: { [step]: ms }  attempts after the first sleep that long
//   metadata.poison: "<step>"              that step kills its own process (SIGKILL) on every attempt
//   metadata.marker: "/path/file"          every handler appends "<step> <attempt> start|end|aborted\n"
//   metadata.holdUntil: { [step]: "/path" } the step's first attempt waits until that file exists (honouring its signal):
//                                          the test decides when it ends, not a clock
//   metadata.abortReasons: "/path/file"    an aborted handler appends its signal's reason there
//   metadata.busyUntil: { [step]: "/path" } the step's first attempt keeps the event loop busy (no timer, no
//                                          I/O runs) until that file exists, as a CPU-bound step would
const fs = require('node:fs');
const { definePipeline } = require('orbit-pipeline');

// LEASE_TEST_LOADS=/path/file: every process that loads this module appends "<pid> <its arguments>"
// there (a worker passes its environment to the isolated resumes it spawns: they are counted too).
if (process.env.LEASE_TEST_LOADS) {
  fs.appendFileSync(process.env.LEASE_TEST_LOADS, `${process.pid} ${process.argv.slice(2).join(' ')}\n`);
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

const holdUntil = async (file, signal) => {
  while (!fs.existsSync(file)) await sleep(20, signal);
};

const step = (name) => ({
  name,
  handler: async (ctx) => {
    const m = ctx.metadata || {};
    const mark = (what) => m.marker && fs.appendFileSync(m.marker, `${name} ${ctx.attempt} ${what}\n`);
    mark('start');
    if (m.poison === name) process.kill(process.pid, 'SIGKILL');
    const ms = ctx.attempt === 1 ? m.firstSleepMs && m.firstSleepMs[name] : m.laterSleepMs && m.laterSleepMs[name];
    const hold = ctx.attempt === 1 && m.holdUntil && m.holdUntil[name];
    const busy = ctx.attempt === 1 && m.busyUntil && m.busyUntil[name];
    while (busy && !fs.existsSync(busy)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    try {
      if (ms) await sleep(ms, ctx.signal);
      if (hold) await holdUntil(hold, ctx.signal);
    } catch (err) {
      // The reason first: a test that sees "aborted" in the marker then reads a complete reason.
      if (m.abortReasons) fs.appendFileSync(m.abortReasons, `${name} ${ctx.attempt}: ${err && err.message}\n`);
      mark('aborted');
      throw err;
    }
    mark('end');
    return { success: true, data: { step: name, attempt: ctx.attempt } };
  },
});

module.exports = [
  definePipeline({
    name: 'lease-pipeline',
    retry: { maxAttempts: 1 },
    steps: ['prepare', 'long', 'finish'].map(step),
  }),
];
