import createSubscriber, { type Subscriber } from 'pg-listen';
import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';

/** What `append_events` sends on the schema's channel: ids only. */
export const RunNotification = t.type({ run_id: t.string, seq: t.number, type: t.string });
export type RunNotification = t.TypeOf<typeof RunNotification>;

type Listener = (n: RunNotification) => void;

/**
 * One LISTEN connection per process, shared by every run it executes: when another process
 * cancels or resumes one of them, the executing step's AbortSignal fires at once instead of at the
 * next append. Notifications can be missed (a dropped connection); the seq fence on the next
 * append still catches every takeover, so this is a shortcut, never the guarantee.
 */
export class RunWatcher {
  private subscriber: Subscriber<{ [channel: string]: unknown }> | undefined;
  private connecting: Promise<void> | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly everyRun = new Set<Listener>();

  constructor(private readonly db: Database) {}

  private async ensureConnected(): Promise<void> {
    if (this.connecting) return this.connecting;
    const sub = createSubscriber<{ [channel: string]: unknown }>(
      { connectionString: this.db.url },
      { retryLimit: 3, retryTimeout: 3000 },
    );
    sub.events.on('error', () => undefined);
    sub.notifications.on(this.db.channel, (payload: unknown) => {
      const n = RunNotification.decode(payload);
      if (E.isLeft(n)) return;
      for (const l of this.listeners.get(n.right.run_id) ?? []) l(n.right);
      for (const l of this.everyRun) l(n.right);
    });
    this.subscriber = sub;
    this.connecting = (async () => {
      await sub.connect();
      await sub.listenTo(this.db.channel);
    })();
    return this.connecting;
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
      // Drop the failed connection so that the next run tries again.
      await this.reset();
    }
    return () => {
      set?.delete(listener);
      if (set?.size === 0) this.listeners.delete(runId);
    };
  }

  /**
   * Calls `listener` for every notification on the channel (the recovery worker's feed) until
   * the returned function is called. Resolves once LISTEN is in place; rejects if it cannot be.
   */
  async watchAll(listener: Listener): Promise<() => void> {
    this.everyRun.add(listener);
    try {
      await this.ensureConnected();
    } catch (err) {
      this.everyRun.delete(listener);
      await this.reset();
      throw err;
    }
    return () => void this.everyRun.delete(listener);
  }

  /** Forgets a failed connection attempt (closing what it opened) so the next watch retries. */
  private async reset(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    this.connecting = undefined;
    if (sub) await sub.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    this.connecting = undefined;
    if (sub) await sub.close().catch(() => undefined);
  }
}
