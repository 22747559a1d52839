/**
 * Ctrl+C semantics for commands that execute steps: the first SIGINT/SIGTERM asks for a graceful
 * stop (finish the current step, release the run so it can be resumed at once), the second aborts
 * the current step and releases the run, the third exits immediately.
 */
export interface StopSignals {
  /** Aborted by the first signal. */
  readonly stopSignal: AbortSignal;
  /** Aborted by the second signal. */
  readonly abortSignal: AbortSignal;
  readonly dispose: () => void;
}

export const installStopSignals = (onNote: (text: string) => void): StopSignals => {
  const stop = new AbortController();
  const abort = new AbortController();
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      onNote(`${signal}: finishing the current step, then releasing the run (again to abort the step now)`);
      stop.abort(new Error(signal));
    } else if (count === 2) {
      onNote(`${signal}: aborting the current step and releasing the run`);
      abort.abort(new Error(signal));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stopSignal: stop.signal,
    abortSignal: abort.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
};
