import path from 'node:path';
import * as E from 'fp-ts/Either';
import { ExitCode } from './exitCodes';
import { hintFor } from './hints';
import { loadSettings, type Settings } from './config';
import { loadPipelines } from './loadPipelines';
import { createOutput, type Output } from './output';
import { printSummary, recoverAll, recoveryExitCode } from './recoveryReport';
import { checkGlobalOptions, refuseUsage } from './options';
import { installStopSignals } from './signals';
import { connect, type OrbitClient } from '../api/connect';
import { readReplicaLag, type ReplicaLag } from '../api/readReplicaLag';
import { readingClient } from '../api/internal/reading';
import { leaseFromEnv, parseDuration } from '../api/internal/durations';
import { describeDatabase } from '../api/internal/embeddedServer';
import { formatError, type OrbitError } from '../api/internal/errors';
import { registry as defaultRegistry } from '../api/internal/pipelines';

/** Options every command accepts. */
export interface GlobalArgs {
  readonly databaseUrl?: string;
  /** --read-url: a replica for read-only commands. */
  readonly readUrl?: string;
  readonly dataDir?: string;
  readonly schema?: string;
  readonly pipelines?: string;
  readonly json: boolean;
  readonly color: boolean;
  readonly threshold?: string;
  readonly autoRecover: boolean;
  /** --migrate: create or upgrade the schema before the command (needs DDL rights). */
  readonly migrate?: boolean;
  /** Also say which database is used when it is not the embedded one. */
  readonly verbose?: boolean;
  /** --timestamps: each human output line starts with its ISO time. */
  readonly timestamps?: boolean;
}

export interface Session {
  readonly client: OrbitClient;
  readonly out: Output;
  readonly args: GlobalArgs;
  /** Every setting and where it came from (flags > environment > config file > defaults). */
  readonly settings: Settings;
}

export interface SessionNeeds {
  /** Load the pipelines module (commands that execute steps). */
  readonly pipelines: boolean;
  /** Create or upgrade the schema on connect (`orbit migrate`); otherwise it must already be current. */
  readonly migrate?: boolean;
  /** Told of the command's failure, whatever it is (an isolated resume reports it to its parent). */
  readonly onFailure?: (e: OrbitError) => void;
}

/** Connects, migrates when asked, and (when needed) loads pipelines; any failure is one line on stderr. */
const openSession = async (args: GlobalArgs, out: Output, needs: SessionNeeds): Promise<E.Either<OrbitError, Session>> => {
  // Flags > environment > orbit.config.js > defaults (src/cli/config.ts; `orbit config` shows it).
  const loaded = await loadSettings(args, process.env, process.cwd());
  if (E.isLeft(loaded)) return loaded;
  const settings = loaded.right;
  // Flags and the file are resolved here; the environment and the defaults by connect() itself.
  let leaseMs: number | undefined;
  if (settings.lease.source === 'file' && settings.lease.value !== undefined) {
    const lease = leaseFromEnv({ ORBIT_LEASE: settings.lease.value });
    if (E.isLeft(lease)) return lease;
    leaseMs = lease.right;
  }
  // The environment's value connect() reads itself; the file's is handed over the same way.
  let maxResultBytes: number | undefined;
  if (settings.maxResultBytes.source === 'file' && settings.maxResultBytes.value !== undefined) {
    const v = settings.maxResultBytes.value.trim();
    maxResultBytes = /^\d+$/.test(v) ? Number(v) : NaN;
  }
  let thresholdMs: number | undefined;
  if (settings.threshold.source !== 'default' && settings.threshold.value !== undefined) {
    const t = parseDuration(settings.threshold.value, settings.threshold.from);
    if (E.isLeft(t)) return t;
    thresholdMs = t.right;
  }
  if ((needs.pipelines || args.autoRecover) && settings.pipelines.value !== undefined) {
    const registered = await loadPipelines(path.resolve(settings.pipelines.value), defaultRegistry, (stack) => {
      if (args.verbose === true) out.note(stack);
    });
    if (E.isLeft(registered)) return registered;
  }
  const client = await connect({
    // From the environment, connect() reads it itself and says so ("from DATABASE_URL").
    databaseUrl: settings.databaseUrl.source === 'env' ? undefined : settings.databaseUrl.value,
    readUrl: settings.readUrl.source === 'env' ? undefined : settings.readUrl.value,
    dataDir: settings.dataDir.value,
    // The default is left to connect(), which migrates the embedded server's default schema itself.
    schema: settings.schema.source === 'default' ? undefined : settings.schema.value,
    thresholdMs,
    leaseMs,
    maxResultBytes,
    registry: defaultRegistry,
    // undefined leaves the choice to connect(): ORBIT_MIGRATE, else the embedded server's default schema.
    migrate: needs.migrate === true || args.migrate === true ? true : undefined,
  });
  if (E.isLeft(client)) return client;
  // Which database: with --verbose; without it only when this command started the embedded
  // server, which then keeps running in the background (the note says how to stop it).
  const started = client.right.database.embedded !== undefined && !client.right.database.embedded.reused;
  if ((started || args.verbose === true) && !out.json) out.note(describeDatabase(client.right.database));
  return E.right({ client: client.right, out, args, settings });
};

/**
 * Refuses bad input (an argument or option value) before any connection is made: one line on
 * stderr, exit 2 like every usage error, nothing touched.
 */
export const refuse = (args: GlobalArgs, e: OrbitError): void => refuseUsage(args, e);

/**
 * Runs a command: opens the session, runs `body`, closes everything, sets the exit code.
 * `body` returns the exit code; expected failures come back as OrbitError and print one line.
 */
export const runCommand = async (
  args: GlobalArgs,
  needs: SessionNeeds,
  body: (s: Session) => Promise<E.Either<OrbitError, number>>,
): Promise<void> => {
  const usage = checkGlobalOptions(args);
  if (E.isLeft(usage)) return refuseUsage(args, usage.left);
  const out = createOutput({ json: args.json, color: args.color, timestamps: args.timestamps });
  const session = await openSession(args, out, needs);
  if (E.isLeft(session)) {
    needs.onFailure?.(session.left);
    out.error(session.left);
    process.exitCode = ExitCode.error;
    return;
  }
  try {
    if (args.autoRecover) {
      // --auto-recover: recover interrupted runs first, then do what was asked.
      out.line('Run Recovery');
      out.line();
      const signals = installStopSignals(out.note);
      const recovered = await recoverAll(session.right, {
        stopSignal: signals.stopSignal,
        abortSignal: signals.abortSignal,
      }).finally(signals.dispose);
      if (E.isLeft(recovered)) {
        needs.onFailure?.(recovered.left);
        out.error(recovered.left);
        process.exitCode = ExitCode.error;
        return;
      }
      printSummary(out, recovered.right);
      out.line();
      if (signals.stopSignal.aborted) {
        // Asked to stop while recovering: do not go on to start the command's own work.
        process.exitCode = recoveryExitCode(recovered.right, true);
        return;
      }
      if (recoveryExitCode(recovered.right) !== ExitCode.ok) process.exitCode = ExitCode.recoveryIncomplete;
    }
    const result = await body(session.right);
    if (E.isLeft(result)) {
      needs.onFailure?.(result.left);
      // Still one line: the hint, when there is one, follows the error's own message.
      const hint = hintFor(result.left);
      out.error(result.left, hint === undefined ? undefined : `${formatError(result.left)}. ${hint}`);
      process.exitCode = ExitCode.error;
    } else if (result.right !== ExitCode.ok || process.exitCode === undefined) {
      process.exitCode = result.right;
    }
  } finally {
    await session.right.client.close();
  }
};

/**
 * The client for a read-only command: with a read URL (--read-url, ORBIT_READ_URL, readUrl in the
 * config file) its reads go to that replica, and a note on stderr says how far it lags.
 */
export const readingSession = async (s: Session): Promise<OrbitClient> => {
  if (s.client.readUrl === undefined) return s.client;
  const lag = await readReplicaLag({ client: s.client });
  s.out.note(describeLag(s.client.readUrl, lag));
  return readingClient(s.client);
};

const hostOf = (url: string): string => {
  const m = /^[a-z]+:\/\/(?:[^@/]*@)?([^/?]*)/i.exec(url);
  return m?.[1] !== undefined && m[1] !== '' ? m[1] : 'the read URL';
};

/** `Reading from the replica db2:5432: 0 bytes of WAL behind the primary; last transaction replayed 0.4s ago`. */
export const describeLag = (url: string, lag: E.Either<OrbitError, ReplicaLag | null>): string => {
  const where = hostOf(url);
  if (E.isLeft(lag)) return `Reading from ${where}; its replay lag could not be read: ${formatError(lag.left)}`;
  const l = lag.right;
  if (l === null) return `Reading from ${where}`;
  if (!l.standby) return `Reading from ${where}: not a standby (no replay lag)`;
  const bytes = l.bytesBehind === null ? 'an unknown amount of WAL' : `${l.bytesBehind} bytes of WAL`;
  const since =
    l.secondsSinceReplay === null ? 'no transaction replayed yet' : `last transaction replayed ${l.secondsSinceReplay}s ago`;
  return `Reading from the replica ${where}: ${bytes} behind the primary; ${since}`;
};
