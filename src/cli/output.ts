import pc from 'picocolors';
import { formatError, type OrbitError } from '../api/internal/errors';

/**
 * Where commands write. Results go to stdout; diagnostics to stderr. Colour only on a terminal
 * (or with FORCE_COLOR), never with NO_COLOR or `--no-color`: output that is piped or parsed
 * (cron logs, CI, tests) stays plain text.
 */
export interface Output {
  readonly json: boolean;
  readonly line: (text?: string) => void;
  readonly success: (text: string) => void;
  readonly info: (text: string) => void;
  readonly failure: (text: string) => void;
  /** A note on stderr (where the database is, progress of background work). */
  readonly note: (text: string) => void;
  /** `--json`: one document on stdout. */
  readonly document: (value: unknown) => void;
  /**
   * The one line an error gets, on stderr: `text` (default: the error's own line), or with
   * `--json` the error itself as a JSON line, its `_tag` first: `{"error":{"_tag":…},"message":…}`.
   */
  readonly error: (e: OrbitError, text?: string) => void;
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
}

export const wantsColor = (flag: boolean, env: NodeJS.ProcessEnv = process.env, isTTY = process.stdout.isTTY === true): boolean =>
  flag && !('NO_COLOR' in env) && (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' ? true : isTTY);

export const createOutput = (opts: { json: boolean; color: boolean; timestamps?: boolean }): Output => {
  const colors = pc.createColors(wantsColor(opts.color));
  const out = (s: string) => void process.stdout.write(`${s}\n`);
  const err = (s: string) => void process.stderr.write(`${s}\n`);
  // --timestamps: each non-blank human line starts with the ISO time it was printed (cron logs).
  const stamp = (s: string) => (opts.timestamps === true && s !== '' ? `${new Date().toISOString()} ${s}` : s);
  // In --json mode stdout carries only the document, and stderr only errors.
  const human = opts.json ? () => undefined : (s: string) => out(stamp(s));
  return {
    json: opts.json,
    line: (text = '') => human(text),
    success: (text) => human(`${colors.green('✓')} ${text}`),
    info: (text) => human(`${colors.cyan('ℹ')} ${text}`),
    failure: (text) => human(`${colors.red('✗')} ${text}`),
    note: (text) => err(colors.dim(stamp(text))),
    document: (value) => out(JSON.stringify(value, null, 2)),
    error: (e, text) =>
      opts.json
        ? err(JSON.stringify({ error: e, message: text ?? formatError(e) }))
        : err(`${colors.red('Error:')} ${text ?? formatError(e)}`),
    bold: colors.bold,
    dim: colors.dim,
  };
};

/**
 * An Output whose human lines are held until `flush()` (then written to `out`, in order): keeps
 * one run's lines together when several runs are recovered at once. Notes, documents and errors
 * go through at once.
 */
export const bufferedOutput = (out: Output): { readonly out: Output; readonly flush: () => void } => {
  const held: (() => void)[] = [];
  const hold =
    (f: (text: string) => void) =>
    (text = ''): void =>
      void held.push(() => f(text));
  return {
    out: {
      ...out,
      line: hold(out.line),
      success: hold(out.success),
      info: hold(out.info),
      failure: hold(out.failure),
    },
    flush: () => {
      for (const f of held.splice(0)) f();
    },
  };
};
