// The library API of docs/PIPELINES.md, end to end: define a pipeline with io-ts codecs, register
// it, run it (an Either comes back), see invalid metadata refused, and cancel a run mid-step.
//
//   npm run build && node examples/run-api.js      (DATABASE_URL, else the embedded PostgreSQL)
// A fresh database has no schema yet: let the example create it (in production the schema's owner
// runs `orbit migrate` once, and the application connects without DDL rights).
process.env.ORBIT_MIGRATE ??= '1';
const t = require('io-ts');
const E = require('fp-ts/Either');
const { definePipeline, registry, runPipeline, cancelRun, formatError, closeDefaultClient } = require('orbit-pipeline');

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });

/** The run's input: checked before anything is journaled. */
const Order = t.intersection([t.type({ orderId: t.string, amountCents: t.number }), t.partial({ shipDelayMs: t.number })]);

/** What reserve-stock returns: checked before it is journaled, decoded for later steps. */
const Reservation = t.type({ reservationId: t.string, items: t.number });

const orderFulfilment = definePipeline({
  name: 'order-fulfilment',
  description: 'Reserve stock, charge, ship',
  metadata: Order,
  retry: { maxAttempts: 3, initialDelayMs: 200 },
  steps: [
    {
      name: 'reserve-stock',
      output: Reservation,
      handler: async (ctx) => ({ success: true, data: { reservationId: `res-${ctx.metadata.orderId}`, items: 2 } }),
    },
    {
      name: 'charge',
      timeoutMs: 5000,
      handler: async (ctx) => {
        const reservation = ctx.prevResults['reserve-stock']?.data;
        return {
          success: true,
          data: { chargedCents: ctx.metadata.amountCents, for: reservation.reservationId, key: ctx.idempotencyKey },
        };
      },
    },
    {
      name: 'ship',
      handler: async (ctx) => {
        // Honour ctx.signal: it fires on timeout, cancellation and takeover.
        await sleep(ctx.metadata.shipDelayMs ?? 10, ctx.signal);
        return { success: true, data: { trackingNo: `TRK-${ctx.metadata.orderId}` } };
      },
    },
  ],
});

registry.registerPipeline(orderFulfilment);

const main = async () => {
  // 1. A run to its end.
  const ok = await runPipeline('order-fulfilment', { orderId: 'o-1', amountCents: 1999 });
  if (E.isRight(ok)) {
    console.log(`run ${ok.right.runId}: ${ok.right.status}, ${ok.right.stepsExecuted} step(s) executed`);
    console.log('ship returned', ok.right.state.steps[2].result);
  } else {
    console.error(formatError(ok.left));
  }

  // 2. Metadata that does not match the codec: refused, nothing journaled.
  const bad = await runPipeline('order-fulfilment', { orderId: 42 });
  if (E.isLeft(bad)) console.log(`refused (${bad.left._tag}): ${formatError(bad.left)}`);

  // 3. Cancelled from elsewhere while `ship` runs: its signal fires, no further step starts.
  const cancelled = await runPipeline(
    'order-fulfilment',
    { orderId: 'o-2', amountCents: 500, shipDelayMs: 10_000 },
    {
      onClaimed: (runId) => {
        setTimeout(async () => {
          const c = await cancelRun(runId, { reason: 'customer cancelled' });
          console.log(`cancelRun: ${E.isRight(c) ? c.right.status : formatError(c.left)}`);
        }, 500);
      },
    },
  );
  if (E.isRight(cancelled)) console.log(`run ${cancelled.right.runId}: ${cancelled.right.status} (${cancelled.right.error})`);

  // 4. An unknown pipeline is an ordinary Left too.
  const unknown = await runPipeline('no-such-pipeline');
  if (E.isLeft(unknown)) console.log(formatError(unknown.left));

  await closeDefaultClient();
};

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
