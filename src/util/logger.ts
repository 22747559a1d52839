/**
 * Where the library says what it would otherwise swallow (a lease renewal that failed, a LISTEN
 * connection lost and back, a statement retried through a transient failure). The client's
 * (`connect({ logger })`); silent by default: a library does not write to a program's stderr.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined };
