/**
 * libpq's `connect_timeout` for `pg`, per host: a host that accepts TCP and never answers (a
 * stopped postmaster, a blackholed address, a half-dead proxy) must not hang a connection for
 * ever. Every connection Orbit opens (the pool's, the LISTEN connection, the host selector's
 * probes) is given up after the URL's `connect_timeout` with a ConnectTimeout naming the host.
 */
import { Client } from 'pg';

/** A host gave no session in time. SQLSTATE 08001 (unable to establish connection): transient, so retried. */
export class ConnectTimeout extends Error {
  readonly code = '08001';
  constructor(
    readonly host: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from ${host} within ${timeoutMs / 1000} s (connect_timeout)`);
    this.name = 'ConnectTimeout';
  }
}

/**
 * Runs `attempt` (connecting `client`, and whatever check belongs to the connection) and cuts the
 * socket if it has not finished within `timeoutMs`: `pg` then fails what is pending, and the
 * failure becomes a ConnectTimeout. Cutting the socket, not `end()`: ending politely waits for a
 * peer that does not answer.
 */
export const connectWithin = async <A>(
  client: Client,
  timeoutMs: number | undefined,
  host: string,
  attempt: () => Promise<A>,
): Promise<A> => {
  if (timeoutMs === undefined) return attempt();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    client.connection.stream.destroy();
  }, timeoutMs);
  try {
    return await attempt();
  } catch (err) {
    throw expired ? new ConnectTimeout(host, timeoutMs) : err;
  } finally {
    clearTimeout(timer);
  }
};

/** `host:port` as `pg` resolved them (a `?host=` parameter, a socket directory). */
export const hostOf = (client: Client): string => `${client.host}:${client.port}`;

/** A `pg` Client whose `connect()` gives up after `timeoutMs`: the class a single-host URL's pool and LISTEN use. */
export const timedClient = (timeoutMs: number | undefined): typeof Client =>
  class TimedClient extends Client {
    override connect(): Promise<Client>;
    override connect(callback: ((err: Error) => void) | ((err: null, c: Client) => void)): void;
    override connect(callback?: ((err: Error) => void) | ((err: null, c: Client) => void)): Promise<Client> | undefined {
      const done = connectWithin(this, timeoutMs, hostOf(this), () => super.connect()).then(() => this);
      if (callback === undefined) return done;
      const cb = callback as (err: Error | null, c?: Client) => void;
      done.then(
        (c) => cb(null, c),
        (err: unknown) => cb(err as Error),
      );
      return undefined;
    }
  };
