/** Exit codes of `orbit`. Scripts and cron jobs can tell "nothing to do" from "look at this". */
export const ExitCode = {
  /** Everything asked for was done (including: nothing needed doing). */
  ok: 0,
  /** An error: bad input, unreachable database, a refused resume, a failed run. Nothing half-done. */
  error: 1,
  /** Wrong usage (unknown option or command). */
  usage: 2,
  /** Recovery ran, but some runs could not be recovered. */
  recoveryIncomplete: 3,
  /**
   * Stopped by SIGINT/SIGTERM before the end: `orbit run` and `orbit resume` whose run was
   * released, `orbit recover --auto-resume` (and `--auto-recover`) stopped (one signal or two);
   * any command stopped by a second signal (running steps aborted). The runs stay recoverable.
   * `orbit worker` exits 0 after one signal: stopping is its normal end.
   */
  interrupted: 130,
} as const;
