import type { Client, Notification } from 'pg';
import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { listen } from '../queries/listen';
import { probeConnection } from '../queries/probeConnection';
import { readBackendPid } from '../queries/readBackendPid';

/** What `append_run_events` sends on the schema's channel: ids only. */
export const RunNotification = t.type({ run_id: t.string, seq: t.number, type: t.string });
export type RunNotification = t.TypeOf<typeof RunNotification>;

type Listener = (n: RunNotification) => void;

/** The LISTEN connection was lost (`lost`), or is in place again after a loss (`restored`). */
export type ConnectionEvent =
  | { readonly kind: 'lost'; readonly reason: string }
  | { readonly kind: 'restored'; readonly downMs: number; readonly attempts: number };

/**
 * Wait before reconnection attempt `n` (1-based): 250 ms, then 500 ms. Two attempts a second per
 * process are cheap for the server (a refused or a fresh connection), and a worker is back, and has
 * swept for what came due meanwhile (a sleep's end), within a second of the database's return: with
 * 1 s between attempts, the attempt plus the sweep could take longer than that.
 */
export const reconnectDelayMs = (attempt: number): number => Math.min(500, 250 * 2 ** Math.max(0, attempt - 1));

/** How often an idle LISTEN connection is checked: a silent network loss raises no error by itself. */
const CHECK_EVERY_MS = 5_000;

/**
 * One LISTEN connection per process, shared by every run it executes: when another process
 * cancels or resumes one of them, the executing step's AbortSignal fires at once instead of at the
 * next append; the recovery worker takes its wake-ups from it. Once established, the connection is
 * re-established forever after any loss (an attempt every 500 ms), and `onConnection` listeners hear of
 * the loss and the return, so that a worker can sweep at once for what it missed. Notifications
 * can be missed while it is down; the seq fence on the next append still catches every takeover,
 * so for an executing run this is a shortcut, never the guarantee.
 */
export class RunWatcher {
  private client: Client | undefined;
  private loop: Promise<void> | undefined;
  private ready: Promise<void> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly everyRun = new Set<Listener>();
  private readonly connectionListeners = new Set<(e: ConnectionEvent) => void>();

  /** `role` names the connection in pg_stat_activity (`orbit-<role>:<schema>`). */
  constructor(
    private readonly db: Database,
    private readonly role = 'listen',
  ) {}

  /** A backoff wait that `close` cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private dispatch(msg: Notification): void {
    if (msg.channel !== this.db.channel || msg.payload === undefined) return;
    let json: unknown;
    try {
      json = JSON.parse(msg.payload);
    } catch {
      return;
    }
    const n = RunNotification.decode(json);
    if (E.isLeft(n)) return;
    for (const l of this.listeners.get(n.right.run_id) ?? []) l(n.right);
    for (const l of this.everyRun) l(n.right);
  }

  /** Connects and LISTENs once; resolves with the client, which is closed when its connection ends. */
  private async open(): Promise<{ client: Client; ended: Promise<string> }> {
    // On the host the URL selects (the primary after a failover), like the pool's connections.
    const client = this.db.newClient({
      keepAlive: true,
      application_name: `orbit-${this.role}:${this.db.schema}`.slice(0, 63),
    });
    const ended = new Promise<string>((resolve) => {
      client.once('error', (err: Error) => resolve(err.message));
      client.once('end', () => resolve('connection ended'));
    });
    client.on('notification', (m) => this.dispatch(m));
    try {
      await client.connect();
      await listen(client, this.db.channel);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return { client, ended };
  }

  /** Holds the connection until it is lost, then reconnects with backoff, until `close`. */
  private async hold(first: { client: Client; ended: Promise<string> }): Promise<void> {
    let current: { client: Client; ended: Promise<string> } | undefined = first;
    while (!this.closed) {
      if (current !== undefined) {
        this.client = current.client;
        const c = current.client;
        // A partition can leave a socket open and silent: probe it while idle.
        const probe = setInterval(() => void probeConnection(c).catch(() => c.end().catch(() => undefined)), CHECK_EVERY_MS);
        probe.unref();
        const reason = await current.ended;
        clearInterval(probe);
        this.client = undefined;
        await c.end().catch(() => undefined);
        if (this.closed) return;
        this.emitConnection({ kind: 'lost', reason });
      }
      const lostAt = this.db.clock.now();
      current = undefined;
      for (let attempt = 1; !this.closed && current === undefined; attempt++) {
        await this.sleep(reconnectDelayMs(attempt));
        if (this.closed) return;
        try {
          current = await this.open();
          if (this.closed) {
            await current.client.end().catch(() => undefined);
            return;
          }
          this.emitConnection({ kind: 'restored', downMs: this.db.clock.now() - lostAt, attempts: attempt });
        } catch {
          // Still unreachable: try again after a longer wait.
        }
      }
    }
  }

  private emitConnection(e: ConnectionEvent): void {
    for (const l of this.connectionListeners) l(e);
  }

  /** Resolves once the first LISTEN is in place (rejects if that first attempt fails). */
  private ensureConnected(): Promise<void> {
    if (this.ready) return this.ready;
    this.closed = false;
    this.ready = this.open().then((first) => {
      this.loop = this.hold(first);
    });
    return this.ready;
  }

  /** Calls `listener` on every loss and return of the LISTEN connection until the returned function is called. */
  onConnection(listener: (e: ConnectionEvent) => void): () => void {
    this.connectionListeners.add(listener);
    return () => void this.connectionListeners.delete(listener);
  }

  /** The backend pid of the LISTEN connection (null while it is down); for tests and diagnostics. */
  async backendPid(): Promise<number | null> {
    const c = this.client;
    if (c === undefined) return null;
    try {
      return await readBackendPid(c);
    } catch {
      return null;
    }
  }

  /** Calls `listener` for notifications about `runId` until the returned function is called. */
  async watch(runId: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    try {
      await this.ensureConnected();
    } catch {
      // Without LISTEN the fence still holds; the signal just fires later (at the next append).
      // Drop the failed attempt so that the next run tries again.
      this.ready = undefined;
    }
    return () => {
      set?.delete(listener);
      if (set?.size === 0) this.listeners.delete(runId);
    };
  }

  /**
   * Calls `listener` for every notification on the channel (the recovery worker's feed) until
   * the returned function is called. Resolves once LISTEN is in place; rejects if the first
   * attempt fails. After that, losses are repaired forever (see `onConnection`).
   */
  async watchAll(listener: Listener): Promise<() => void> {
    this.everyRun.add(listener);
    try {
      await this.ensureConnected();
    } catch (err) {
      this.everyRun.delete(listener);
      this.ready = undefined;
      throw err;
    }
    return () => void this.everyRun.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    const ready = this.ready;
    this.ready = undefined;
    await ready?.catch(() => undefined);
    const c = this.client;
    this.client = undefined;
    if (c) await c.end().catch(() => undefined);
    await this.loop;
    this.loop = undefined;
  }
}
