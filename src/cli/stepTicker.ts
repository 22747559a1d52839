/** What the ticker needs from the world, injected so tests can drive the clock. */
export interface TickerDeps {
  readonly write: (text: string) => void;
  readonly now: () => number;
  /** Calls `f` every `ms` until the returned function is called. */
  readonly every: (ms: number, f: () => void) => () => void;
}

export interface StepTicker {
  /** A step began: after a moment, show it running with its elapsed time, updated in place. */
  readonly start: (stepName: string, attempt: number) => void;
  /** The step ended (or the run did): erase the running line, so the step's own line replaces it. */
  readonly stop: () => void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Steps that end sooner show nothing: a fast pipeline's output does not flicker. */
export const TICKER_DELAY_MS = 1_000;
const TICK_MS = 100;
/** Back to the line's start and erase it (the terminal's cursor stays on that line). */
const CLEAR = '\r\x1b[K';

/** Whole seconds, so the line changes once a second: `7s`, `2m 05s`. */
export const elapsedText = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
};

/**
 * `orbit run`'s "still running" line for a long step: `⠹ load-data running 12s`, rewritten in
 * place on a terminal. Disabled (piped output, --json), it writes nothing at all, so what tests
 * and logs read does not change.
 */
export const createStepTicker = (enabled: boolean, deps: TickerDeps): StepTicker => {
  let cancel: (() => void) | undefined;
  let shown = false;
  const stop = (): void => {
    cancel?.();
    cancel = undefined;
    if (shown) deps.write(CLEAR);
    shown = false;
  };
  return {
    stop,
    start: (stepName, attempt) => {
      stop();
      if (!enabled) return;
      const t0 = deps.now();
      let frame = 0;
      cancel = deps.every(TICK_MS, () => {
        const elapsed = deps.now() - t0;
        if (elapsed < TICKER_DELAY_MS) return;
        const label = attempt > 1 ? `${stepName} (attempt ${attempt})` : stepName;
        deps.write(`${CLEAR}${FRAMES[frame++ % FRAMES.length] ?? ''} ${label} running ${elapsedText(elapsed)}`);
        shown = true;
      });
    },
  };
};

/** The ticker on this process's stdout, when it is a terminal and human output is wanted. */
export const terminalTicker = (wanted: boolean): StepTicker =>
  createStepTicker(wanted && process.stdout.isTTY === true, {
    write: (text) => void process.stdout.write(text),
    now: () => Date.now(),
    every: (ms, f) => {
      const timer = setInterval(f, ms);
      // A ticker never keeps the process alive on its own.
      timer.unref();
      return () => clearInterval(timer);
    },
  });
