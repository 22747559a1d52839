import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a module that failed to load (the pipelines module, orbit.config.js) said, with where:
 * its first line plus the file and line it was thrown from, so the user need not guess which of
 * their files broke. `--verbose` prints `stack` too.
 */
export interface ModuleError {
  readonly message: string;
  readonly stack: string | undefined;
}

const firstLine = (text: string): string => text.split('\n')[0] ?? text;

/** `file:line:col` of a stack frame (`at f (/a/b.js:3:9)`, `at file:///a/b.mjs:2:7`). */
const frameLocation = (line: string): string | undefined => {
  const m = /^\s*at (?:.*\()?((?:file:\/\/)?[^()\s]+?:\d+:\d+)\)?$/.exec(line);
  const where = m?.[1];
  if (where === undefined || where.startsWith('node:')) return undefined;
  return where.startsWith('file://') ? where.replace(/^file:\/\/[^:]*/, (u) => fileURLToPath(u)) : where;
};

/** Orbit's own files: a frame there says where Orbit called the module, not what broke. */
const ORBIT_DIRS = [path.resolve(__dirname, '..'), path.resolve(__dirname, '..', '..', 'src')];
const isOrbits = (where: string): boolean => ORBIT_DIRS.some((d) => where.startsWith(d + path.sep));

/** Where the error was thrown: the user's own frame first (not Node's, not a dependency's). */
const locationOf = (stack: string, syntaxError: boolean, file: string): string | undefined => {
  // A SyntaxError from require() starts its stack with "/path/file.js:3".
  const head = /^(\/.+|[A-Za-z]:\\.+):(\d+)$/.exec(firstLine(stack));
  if (head !== null) return `${head[1]}:${head[2]}`;
  const frames = stack
    .split('\n')
    .map(frameLocation)
    .filter((w): w is string => w !== undefined && !isOrbits(w));
  const own = frames.find((w) => !w.includes(`${path.sep}node_modules${path.sep}`)) ?? frames[0];
  if (own !== undefined) return own;
  if (syntaxError) {
    // An ES module's SyntaxError carries no location in Node 20: ask `node --check`, which prints it.
    const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
    const where = /^(?:file:\/\/)?(\S+:\d+)$/m.exec(r.stderr ?? '')?.[1];
    return where === undefined ? undefined : where;
  }
  return undefined;
};

/** A property of a thrown value, if reading it works and gives a string (a module may throw anything). */
const read = (err: unknown, key: 'name' | 'message' | 'stack'): string | undefined => {
  try {
    const v: unknown = (err as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
};

export const describeModuleError = (err: unknown, file: string): ModuleError => {
  let text: string;
  if (err instanceof Error) {
    const name = read(err, 'name');
    text = `${name === undefined || name === 'Error' ? '' : `${name}: `}${firstLine(read(err, 'message') ?? '')}`;
  } else {
    try {
      text = String(err);
    } catch {
      text = 'a value that is not an Error';
    }
  }
  let where: string | undefined;
  try {
    where = locationOf(read(err, 'stack') ?? '', err instanceof SyntaxError, file);
  } catch {
    where = undefined;
  }
  return { message: where === undefined ? text : `${text} (at ${where})`, stack: read(err, 'stack') };
};
