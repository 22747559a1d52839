/**
 * Waiting in tests without guessing durations: `waitFor` polls the condition the test is really
 * waiting for and fails naming it; `holdsFor` is the one honest use of time left, a negative check
 * ("for 300 ms nothing more is written"), and fails as soon as the condition breaks.
 */
import { sleep } from '../../src/util/sleep';

/**
 * The least a wait lasts before it fails: a timeout is not an assertion about speed, only how long
 * to keep looking before calling the condition false. A loaded machine (scripts/stress-test.sh:
 * every core busy, load average far above the core count) makes a condition a few statements away
 * take seconds; the suite must still hold there.
 */
export const MIN_WAIT_MS = 30_000;

export interface WaitOptions {
  /** What the test waits for, as the failure message's end: "timed out after 30000 ms waiting for <what>". */
  readonly what: string;
  /** At least MIN_WAIT_MS (the default); more for conditions that take long on an idle machine too. */
  readonly timeoutMs?: number;
  /** Poll interval. Default 20 ms. */
  readonly everyMs?: number;
}

type Falsy = undefined | null | false;

/** Polls `condition` until it returns a value other than undefined, null or false, and returns it. */
export const waitFor = async <A>(
  condition: () => Promise<A | Falsy> | A | Falsy,
  opts: WaitOptions,
): Promise<Exclude<A, Falsy>> => {
  const timeoutMs = Math.max(opts.timeoutMs ?? 0, MIN_WAIT_MS);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await condition();
    if (v !== undefined && v !== null && v !== false) return v as Exclude<A, Falsy>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}`);
    await sleep(opts.everyMs ?? 20);
  }
};

/** Checks `condition` repeatedly for `forMs` and fails the first time it is false. */
export const holdsFor = async (
  condition: () => Promise<boolean> | boolean,
  opts: { readonly what: string; readonly forMs: number; readonly everyMs?: number },
): Promise<void> => {
  const t0 = Date.now();
  for (;;) {
    if (!(await condition()))
      throw new Error(`${opts.what}: no longer true after ${Date.now() - t0} ms (should hold ${opts.forMs} ms)`);
    if (Date.now() - t0 >= opts.forMs) return;
    await sleep(opts.everyMs ?? 25);
  }
};
