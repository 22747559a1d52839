import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { Client } from 'pg';
import { formatError } from '../../src/errors';
import { createRegistry, type Registry } from '../../src/pipeline/registry';
import { connect, type ConnectOptions, type OrbitClient } from '../../src/runtime/orbitClient';
import type { BenchOptions } from './options';

/** What every scenario gets: options, a way to open clients on private schemas, and a logger. */
export interface BenchContext {
  readonly opts: BenchOptions;
  /** `bench_<random>`: every schema this run creates starts with it, and all are dropped at the end. */
  readonly prefix: string;
  /** Connects (and migrates) a client on `<prefix>` or `<prefix>_<suffix>`, with its own registry. */
  client(suffix?: string, extra?: ClientExtras): Promise<OrbitClient>;
  /** A plain `pg` client on the same database (baseline, seeding). Closed by the caller. */
  raw(): Promise<Client>;
  /** Drops `schema` at the end too (one the bench's peers or children create themselves). */
  track(schema: string): void;
  /** Scale a full-size count, never below `min`. */
  size(full: number, min: number): number;
  log(line: string): void;
}

export interface ClientExtras {
  readonly registry?: Registry;
  readonly thresholdMs?: number;
  readonly poolSize?: number;
}

export interface OwnedContext extends BenchContext {
  /** The database URL the first client resolved (embedded or given). */
  url(): string | undefined;
  /** Closes every client and drops every schema (unless --keep). */
  dispose(): Promise<void>;
}

export const createContext = (opts: BenchOptions): OwnedContext => {
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const clients: OrbitClient[] = [];
  const schemas = new Set<string>();
  let resolvedUrl: string | undefined;
  const started = Date.now();

  const ctx: OwnedContext = {
    opts,
    prefix,
    async client(suffix, extra = {}) {
      const schema = suffix === undefined ? prefix : `${prefix}_${suffix}`;
      schemas.add(schema);
      const options: ConnectOptions = {
        databaseUrl: opts.databaseUrl,
        schema,
        registry: extra.registry ?? createRegistry(),
        thresholdMs: extra.thresholdMs ?? 10 * 60_000,
        poolSize: extra.poolSize ?? 10,
        // The bench owns its fresh schemas (and drops them): create them, as `orbit migrate` would.
        migrate: true,
      };
      const c = await connect(options);
      if (E.isLeft(c)) throw new Error(`cannot connect: ${formatError(c.left)}`);
      clients.push(c.right);
      resolvedUrl ??= c.right.db.url;
      return c.right;
    },
    async raw() {
      const url = resolvedUrl ?? (await ctx.client()).db.url;
      const client = new Client({ connectionString: url, application_name: 'orbit-bench' });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    track: (schema) => {
      schemas.add(schema);
    },
    size: (full, min) => Math.max(min, Math.round(full * opts.scale)),
    log: (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`),
    url: () => resolvedUrl,
    async dispose() {
      for (const c of clients.splice(0)) await c.close().catch(() => undefined);
      if (opts.keep || resolvedUrl === undefined) return;
      const client = new Client({ connectionString: resolvedUrl, application_name: 'orbit-bench' });
      client.on('error', () => undefined);
      try {
        await client.connect();
        for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
  return ctx;
};
