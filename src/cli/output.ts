import pc from 'picocolors';
import { formatError, type OrbitError } from '../errors';

/**
 * Where commands write. Results go to stdout; diagnostics to stderr. Colour follows picocolors:
 * off for NO_COLOR, non-TTY output and `--no-color`.
 */
export interface Output {
  readonly json: boolean;
  line(text?: string): void;
  success(text: string): void;
  info(text: string): void;
  failure(text: string): void;
  /** A note on stderr (where the database is, progress of background work). */
  note(text: string): void;
  /** `--json`: one document on stdout. */
  document(value: unknown): void;
  /** The one line an error gets, on stderr. */
  error(e: OrbitError | string): void;
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
}

export const createOutput = (opts: { json: boolean; color: boolean }): Output => {
  const colors = pc.createColors(opts.color && pc.isColorSupported);
  const out = (s: string) => void process.stdout.write(`${s}\n`);
  const err = (s: string) => void process.stderr.write(`${s}\n`);
  // In --json mode stdout carries only the document; human lines move to stderr.
  const human = opts.json ? err : out;
  return {
    json: opts.json,
    line: (text = '') => human(text),
    success: (text) => human(`${colors.green('✓')} ${text}`),
    info: (text) => human(`${colors.cyan('ℹ')} ${text}`),
    failure: (text) => human(`${colors.red('✗')} ${text}`),
    note: (text) => err(colors.dim(text)),
    document: (value) => out(JSON.stringify(value, null, 2)),
    error: (e) => err(`${colors.red('Error:')} ${typeof e === 'string' ? e : formatError(e)}`),
    bold: colors.bold,
    dim: colors.dim,
  };
};
