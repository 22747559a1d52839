/**
 * The wall clock, behind one interface: the only module that reads it. Everything else takes a
 * `Clock` (the client's, `connect({ clock })`), so a test can inject one, and no decision about a
 * run is ever taken on a worker's clock (liveness uses the database's `now()`; DESIGN "Liveness").
 * test/structure/settingsOnClient.test.ts keeps `Date.now()` and `new Date()` out of the rest.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The clock's time as an ISO-8601 string (for logs and file stamps, never for a run's decision). */
export const isoNow = (clock: Clock): string => new Date(clock.now()).toISOString();
