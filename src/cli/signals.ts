import { ExitCode } from './exitCodes';

/**
 * Ctrl+C semantics for commands that execute steps: the first SIGINT/SIGTERM asks for a graceful
 * stop (finish the current step, release the run so it can be resumed at once), the second aborts
 * the current step and releases the run, the third exits immediately.
 *
 * Until `dispose`, the process has work in hand, so an exit it did not decide on (a step calling
 * `process.exit(0)`) is said on stderr and never ends with 0: a supervisor (`Restart=on-failure`)
 * restarts the worker, a script sees that `orbit run` did not finish, and the parent of an
 * isolated resume learns that its child was lost. The runs stay recoverable (the lease row stays).
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
      process.off('exit', onExit);
      process.exit(ExitCode.interrupted);
    }
  };
  const onExit = (code: number) => {
    const exitCode = code === ExitCode.ok ? ExitCode.error : code;
    // Written synchronously (stderr is a pipe, file or terminal): the process ends right after.
    process.stderr.write(
      `✗ process.exit(${code}) was called while this process had work in hand (by a step?): exiting with code ${exitCode}; its runs stay recoverable\n`,
    );
    process.exitCode = exitCode;
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('exit', onExit);
  return {
    stopSignal: stop.signal,
    abortSignal: abort.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      process.off('exit', onExit);
    },
  };
};
