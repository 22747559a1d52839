/** Waits `ms`, or less when one of `signals` aborts first. Never rejects. */
export const sleep = (ms: number, signals: readonly (AbortSignal | undefined)[] = []): Promise<void> =>
  new Promise((resolve) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    const done = () => {
      clearTimeout(timer);
      for (const s of live) s.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of live) {
      if (s.aborted) return done();
      s.addEventListener('abort', done, { once: true });
    }
  });
