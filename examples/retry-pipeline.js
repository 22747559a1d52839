// Pipelines for docs/RETRY.md: `orbit --pipelines examples/retry-pipeline.js run flaky-import ...`.
// Behaviour is steered by metadata, so every example in the guide is one command:
//   metadata.failures  fetch-page fails its first N attempts (default 2) with a retryable error
//   ORBIT_DEMO_UPSTREAM_DOWN=1  fetch-page fails every attempt (until you "fix" it by unsetting it)
//   metadata.malformed parse-page throws NonRetryableError (no retry, the run fails at once)
//   metadata.renderMs  render sleeps this long (default 10); its timeoutMs is 1000
// partner-sync: call-partner fails its first attempt and is retried 4 s later (the crash example).
const { definePipeline, NonRetryableError } = require('orbit-pipeline');

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });

const flakyImport = definePipeline({
  name: 'flaky-import',
  // Every step: up to 4 attempts, waits of 500 ms, 1 s, 2 s (capped at 5 s), no jitter.
  retry: { maxAttempts: 4, initialDelayMs: 500, backoffFactor: 2, maxDelayMs: 5000, jitter: 0 },
  steps: [
    {
      name: 'fetch-page',
      handler: async (ctx) => {
        const failures = ctx.metadata?.failures ?? 2;
        if (ctx.attempt <= failures || process.env.ORBIT_DEMO_UPSTREAM_DOWN)
          throw new Error(`upstream answered 503 (attempt ${ctx.attempt})`);
        return { success: true, data: { body: '<html>…</html>', fetchedOnAttempt: ctx.attempt } };
      },
    },
    {
      name: 'parse-page',
      handler: async (ctx) => {
        if (ctx.metadata?.malformed) throw new NonRetryableError('page is not valid HTML; retrying cannot help');
        return { success: true, data: { title: 'Example', bytes: ctx.prevResults['fetch-page']?.data?.body?.length ?? 0 } };
      },
    },
    {
      name: 'render',
      timeoutMs: 1000,
      // This step's own policy: two attempts, 100 ms apart.
      retry: { maxAttempts: 2, initialDelayMs: 100 },
      handler: async (ctx) => {
        await sleep(ctx.metadata?.renderMs ?? 10, ctx.signal);
        return { success: true, data: { html: `<h1>${ctx.prevResults['parse-page']?.data?.title}</h1>` } };
      },
    },
  ],
});

const partnerSync = definePipeline({
  name: 'partner-sync',
  steps: [
    {
      name: 'call-partner',
      retry: { maxAttempts: 3, initialDelayMs: 4000 },
      handler: async (ctx) => {
        if (ctx.attempt === 1) throw new Error('partner API rate limit (429)');
        return { success: true, data: { synced: 42, attempt: ctx.attempt } };
      },
    },
    {
      name: 'store',
      handler: async (ctx) => ({ success: true, data: { stored: ctx.prevResults['call-partner']?.data?.synced } }),
    },
  ],
});

module.exports = { flakyImport, partnerSync };
