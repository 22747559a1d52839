import { createStepTicker, elapsedText, TICKER_DELAY_MS, type TickerDeps } from '../../src/cli/stepTicker';

/** A clock and a timer the test moves by hand: every registered callback runs on each `advance`. */
const fakeTerminal = () => {
  let now = 0;
  const timers = new Set<() => void>();
  const written: string[] = [];
  const deps: TickerDeps = {
    write: (text) => void written.push(text),
    now: () => now,
    every: (_ms, f) => {
      timers.add(f);
      return () => void timers.delete(f);
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const f of [...timers]) f();
  };
  return { deps, written, advance, timers };
};

describe('the running-step line of orbit run', () => {
  it('shows nothing for a step that ends within the delay', () => {
    const t = fakeTerminal();
    const ticker = createStepTicker(true, t.deps);
    ticker.start('fetch', 1);
    t.advance(TICKER_DELAY_MS - 1);
    ticker.stop();
    expect(t.written).toEqual([]);
    expect(t.timers.size).toBe(0);
  });

  it('rewrites one line in place with the elapsed time, and erases it when the step ends', () => {
    const t = fakeTerminal();
    const ticker = createStepTicker(true, t.deps);
    ticker.start('load-data', 1);
    t.advance(1_000);
    t.advance(1_500);
    expect(t.written).toEqual(['\r\x1b[K⠋ load-data running 1s', '\r\x1b[K⠙ load-data running 2s']);
    ticker.stop();
    expect(t.written.at(-1)).toBe('\r\x1b[K');
    // Stopped: the timer is gone and a second stop writes nothing more.
    expect(t.timers.size).toBe(0);
    ticker.stop();
    expect(t.written).toHaveLength(3);
  });

  it('names the attempt of a retried step, and a new step replaces the previous one', () => {
    const t = fakeTerminal();
    const ticker = createStepTicker(true, t.deps);
    ticker.start('transform', 1);
    t.advance(1_200);
    ticker.start('transform', 2);
    t.advance(61_000);
    expect(t.written).toEqual(['\r\x1b[K⠋ transform running 1s', '\r\x1b[K', '\r\x1b[K⠋ transform (attempt 2) running 1m 01s']);
    expect(t.timers.size).toBe(1);
  });

  it('writes nothing at all when disabled (piped output, --json)', () => {
    const t = fakeTerminal();
    const ticker = createStepTicker(false, t.deps);
    ticker.start('load-data', 1);
    t.advance(5_000);
    ticker.stop();
    expect(t.written).toEqual([]);
    expect(t.timers.size).toBe(0);
  });

  it('formats whole seconds, then minutes', () => {
    expect([0, 999, 1_000, 59_999, 60_000, 125_400].map(elapsedText)).toEqual(['0s', '0s', '1s', '59s', '1m 00s', '2m 05s']);
  });
});
