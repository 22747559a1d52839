/**
 * The one place that picks a host of a multi-host URL (libpq's `target_session_attrs`, which `pg`
 * lacks): every connection Orbit opens (the pool's, hence the append path's and the lease's, and
 * the LISTEN connection) asks `pick()`. The host that matched last is remembered; a failed
 * connect or a lost connection to it forgets it, and the next connection searches the hosts in
 * order again, so after a promotion every connection finds the new primary by itself.
 */
import { Client, type ClientBase, type ClientConfig } from 'pg';
import { hostList, type ConnectionTarget, type HostPort, type TargetSessionAttrs } from './connectionTarget';
import { ConnectTimeout, connectWithin } from './connectTimeout';
import type { Logger } from '../util/logger';

/** What a session is: read from the server (src/queries/readSessionState.ts). */
export interface SessionState {
  /** `pg_is_in_recovery()`: a standby. */
  readonly inRecovery: boolean;
  /** `transaction_read_only`: a standby, or a primary with `default_transaction_read_only`. */
  readonly readOnly: boolean;
}

export type SessionStateReader = (client: ClientBase) => Promise<SessionState>;

/** `prefer-standby` takes a standby when one answers, else any host (libpq's second pass). */
export const sessionMatches = (attrs: TargetSessionAttrs, s: SessionState, lastPass: boolean): boolean => {
  switch (attrs) {
    case 'any':
      return true;
    case 'read-write':
      return !s.readOnly;
    case 'read-only':
      return s.readOnly;
    case 'primary':
      return !s.inRecovery;
    case 'standby':
      return s.inRecovery;
    case 'prefer-standby':
      return s.inRecovery || lastPass;
  }
};

/** No host gave a matching session. SQLSTATE 08001 (unable to establish connection): transient, so retried. */
export class NoMatchingHost extends Error {
  readonly code = '08001';
}

interface Picked extends HostPort {
  readonly index: number;
}

export class HostSelector {
  private current: number | undefined;
  private search: Promise<Picked> | undefined;
  private lastChosen: number | undefined;

  constructor(
    readonly target: ConnectionTarget,
    private readonly readState: SessionStateReader,
    private readonly logger: Logger,
    private readonly probeConfig: ClientConfig = {},
  ) {}

  /** Whether a new connection must be checked once connected (`any` takes whatever answers). */
  get checks(): boolean {
    return this.target.attrs !== 'any';
  }

  /** The host to connect to: the last one that matched, else the first that matches now. */
  pick(): Promise<Picked> {
    const i = this.current;
    const h = i === undefined ? undefined : this.target.hosts[i];
    if (i !== undefined && h !== undefined) return Promise.resolve({ ...h, index: i });
    this.search ??= this.searchHosts().finally(() => (this.search = undefined));
    return this.search;
  }

  /** Connection to host `index` failed or was lost: the next connection searches again. */
  lost(index: number): void {
    if (this.current === index) this.current = undefined;
  }

  /** Checks a session just opened on host `index`; a mismatch (a demoted primary) forgets the host and throws. */
  async accept(client: ClientBase, index: number): Promise<void> {
    if (!this.checks) return;
    const state = await this.readState(client);
    if (!sessionMatches(this.target.attrs, state, true)) {
      this.lost(index);
      throw new NoMatchingHost(`${this.where(index)} no longer gives a ${this.target.attrs} session`);
    }
  }

  /** `host:port` of host `i`, for messages. */
  where(i: number): string {
    const h = this.target.hosts[i];
    return h === undefined ? '?' : `${h.host}:${h.port}`;
  }

  /**
   * Connects to one host and reads its state (`any` only needs it to answer), within the URL's
   * `connect_timeout`: a host that accepts TCP and says nothing is given up and the next one tried.
   */
  private async probe(url: string, i: number): Promise<SessionState> {
    const c = new Client({ ...this.probeConfig, connectionString: url });
    c.on('error', () => undefined);
    try {
      return await connectWithin(c, this.target.connectTimeoutMs, this.where(i), async () => {
        await c.connect();
        return this.checks ? await this.readState(c) : { inRecovery: false, readOnly: false };
      });
    } finally {
      // Not awaited: a cut socket's client may never report its end.
      void c.end().catch(() => undefined);
    }
  }

  private async searchHosts(): Promise<Picked> {
    const { hosts, urls, attrs } = this.target;
    const seen = new Map<number, SessionState | string>();
    const passes = attrs === 'prefer-standby' ? [false, true] : [true];
    for (const lastPass of passes) {
      for (let i = 0; i < hosts.length; i++) {
        const url = urls[i];
        const host = hosts[i];
        if (url === undefined || host === undefined) continue;
        let state = seen.get(i);
        if (state === undefined) {
          try {
            state = await this.probe(url, i);
          } catch (err) {
            state =
              err instanceof ConnectTimeout
                ? `no answer within ${err.timeoutMs / 1000} s (connect_timeout)`
                : err instanceof Error
                  ? err.message || err.name
                  : String(err);
          }
          seen.set(i, state);
        }
        if (typeof state !== 'string' && sessionMatches(attrs, state, lastPass)) {
          if (this.lastChosen !== undefined && this.lastChosen !== i) {
            this.logger.warn(`database: now on ${this.where(i)} (${attrs}), was ${this.where(this.lastChosen)}`);
          }
          this.lastChosen = i;
          this.current = i;
          return { ...host, index: i };
        }
      }
    }
    const why = [...seen].map(([i, s]) => `${this.where(i)}: ${typeof s === 'string' ? s : describe(s)}`).join('; ');
    const wanted = attrs === 'any' ? 'answers' : `gives a ${attrs} session`;
    throw new NoMatchingHost(`no host of ${hostList(this.target)} ${wanted} (${why})`);
  }
}

const describe = (s: SessionState): string => (s.inRecovery ? 'a standby' : s.readOnly ? 'read-only' : 'read-write');

/**
 * The failed connect as `pg`'s callback gets it: the error itself whenever it is one. An error made
 * in another realm (Node's own, seen from a VM context such as a test runner's) is no `instanceof
 * Error`; wrapping it lost its errno `code`, so a refused connection to a host that had died was
 * not retried but returned as DatabaseUnavailable (`enqueueRun` right after a promotion in R10).
 */
const asError = (err: unknown): Error =>
  err instanceof Error || (typeof err === 'object' && err !== null && 'message' in err) ? (err as Error) : new Error(String(err));

/**
 * A `pg` Client whose `connect()` asks the selector for the host first and checks the session it
 * gets: the pool creates these (its `Client` option), the LISTEN connection is one.
 */
export const selectingClient = (selector: HostSelector): typeof Client =>
  class SelectingClient extends Client {
    override connect(): Promise<Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: Client) => void)): void;
    override connect(callback?: ((err: Error) => void) | ((err: null, c: Client) => void)): Promise<Client> | undefined {
      const done = this.connectSelected();
      if (callback === undefined) return done;
      const cb = callback as (err: Error | null, c?: Client) => void;
      done.then(
        (c) => cb(null, c),
        (err: unknown) => cb(asError(err)),
      );
      return undefined;
    }

    private async connectSelected(): Promise<Client> {
      const h = await selector.pick();
      // pg wants an IPv6 address without the URL's brackets.
      this.host = h.host.replace(/^\[(.*)\]$/, '$1');
      this.port = h.port;
      // The host remembered may have gone silent since (blackholed, stopped): the connection and
      // its session check get the URL's connect_timeout, then the next connection searches.
      let connected = false;
      try {
        await connectWithin(this, selector.target.connectTimeoutMs, selector.where(h.index), async () => {
          await super.connect();
          connected = true;
          // A connection that breaks (the primary killed) sends the next one searching.
          this.on('error', () => selector.lost(h.index));
          await selector.accept(this, h.index);
        });
      } catch (err) {
        selector.lost(h.index);
        if (connected) void this.end().catch(() => undefined);
        throw err;
      }
      return this;
    }
  };
