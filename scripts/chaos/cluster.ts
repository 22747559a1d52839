/**
 * A throwaway PostgreSQL of our own, built from the embedded server's binaries, that a test or
 * the chaos harness may stop, restart and kill at will: the shared server is never touched.
 *
 *   const c = await startCluster();   // initdb + start under a temp dir (a few seconds)
 *   await c.restart();                // pg_ctl stop -m fast, then start on the same port
 *   await c.dispose();                // stop and delete
 */
import { promises as fs } from 'node:fs';
import { processHost } from '../../src/runtime/processHost';
import os from 'node:os';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { ensureEmbeddedServer, stopEmbeddedServer } from '../../src/server/embeddedServer';
import { formatError, type OrbitError } from '../../src/errors';

export interface Cluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication). */
  readonly url: string;
  readonly port: number;
  readonly baseDir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Fast stop (every session ends with 57P01) and a start on the same port. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

const must = <A>(e: E.Either<OrbitError, A>, what: string): A => {
  if (E.isLeft(e)) throw new Error(`${what}: ${formatError(e.left)}`);
  return e.right;
};

export const startCluster = async (label = 'orbit-chaos'): Promise<Cluster> => {
  const baseDir = await fs.mkdtemp(path.join(os.tmpdir(), `${label}-`));
  const first = must(await ensureEmbeddedServer(baseDir, processHost()), 'starting a throwaway PostgreSQL');
  const start = async (): Promise<void> => {
    const s = must(await ensureEmbeddedServer(baseDir, processHost()), 'restarting the throwaway PostgreSQL');
    // Clients hold the URL: the server must come back where it was.
    if (s.port !== first.port) throw new Error(`throwaway PostgreSQL came back on port ${s.port}, not ${first.port}`);
  };
  const stop = async (): Promise<void> => {
    must(await stopEmbeddedServer(baseDir, processHost()), 'stopping the throwaway PostgreSQL');
  };
  return {
    url: first.url,
    port: first.port,
    baseDir,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    dispose: async () => {
      await stopEmbeddedServer(baseDir, processHost()).catch(() => undefined);
      await fs.rm(baseDir, { recursive: true, force: true });
    },
  };
};
