/**
 * Waiting in tests without guessing durations: `waitFor` polls the condition the test is really
 * waiting for and fails naming it; `holdsFor` is the one honest use of time left, a negative check
 * ("for 300 ms nothing more is written"), and fails as soon as the condition breaks.
 */
import { sleep } from '../../src/util/sleep';

export interface WaitOptions {
  /** What the test waits for, as the failure message's end: "timed out after 5000 ms waiting for <what>". */
  readonly what: string;
  /** Default 5 s: the conditions are events a few statements away, not timers. */
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
  const timeoutMs = opts.timeoutMs ?? 5_000;
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
