import type { OrbitError } from '../api/internal/errors';

/** Quotes a word for a POSIX shell when it needs it, so printed commands paste as they are. */
export const shellWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** A URL with its password replaced by `***` (a hint is printed, maybe into a CI log). */
const redacted = (url: string): string => {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
};

/** The options a follow-up command repeats (a subset of the CLI's global options). */
export interface ConnectionFlags {
  readonly databaseUrl?: string;
  readonly dataDir?: string;
  readonly schema?: string;
  readonly pipelines?: string;
}

/**
 * The `orbit` command line for `rest`, with the options of this invocation that the follow-up
 * needs to find the same run: --database-url, --data-dir, --schema and --pipelines when they
 * were given as flags (environment variables and orbit.config.js are still there in the shell).
 */
export const orbitCommand = (args: ConnectionFlags, ...rest: string[]): string => {
  const words = ['orbit'];
  if (args.databaseUrl !== undefined && args.databaseUrl !== '') words.push('--database-url', redacted(args.databaseUrl));
  if (args.dataDir !== undefined && args.dataDir !== '') words.push('--data-dir', args.dataDir);
  if (args.schema !== undefined && args.schema !== '') words.push('--schema', args.schema);
  if (args.pipelines !== undefined && args.pipelines !== '') words.push('--pipelines', args.pipelines);
  return [...words, ...rest].map(shellWord).join(' ');
};

/** What to do about an error, when the CLI knows more than the error's one line says. */
export const hintFor = (e: OrbitError): string | undefined => {
  if (e._tag === 'PipelineNotFound') {
    return (
      `Register "${e.pipelineId}" with a module that defines it, given by --pipelines <module>, ` +
      'ORBIT_PIPELINES=<module>, or orbit.config.js (docs/PIPELINES.md)'
    );
  }
  return undefined;
};
