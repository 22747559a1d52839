/**
 * The CLI's settings and where each comes from: flags, then environment variables, then
 * `orbit.config.js` / `.mjs` / `.cjs` (in the working directory, else at the project root), then
 * defaults. `orbit config` prints the result.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { embeddedHome, projectRoot } from '../api/internal/embeddedServer';
import type { OrbitError } from '../api/internal/errors';
import { DEFAULT_MAX_RESULT_BYTES } from '../api/internal/settings';
import { describeModuleError } from './moduleError';

export const CONFIG_FILES = ['orbit.config.js', 'orbit.config.mjs', 'orbit.config.cjs'] as const;

/** What a config file may set. Anything else it exports (pipelines, `register`) is for the registry. */
const FileSettings = t.partial({
  databaseUrl: t.string,
  readUrl: t.string,
  schema: t.string,
  threshold: t.union([t.string, t.number]),
  lease: t.union([t.string, t.number]),
  maxResultBytes: t.union([t.string, t.number]),
  dataDir: t.string,
  pipelines: t.unknown,
});
type FileSettings = t.TypeOf<typeof FileSettings>;

export interface ConfigFile {
  readonly path: string;
  /** The module's exports (its default export for an ES module). */
  readonly exports: unknown;
  readonly settings: FileSettings;
}

export type Source = 'flag' | 'env' | 'file' | 'default';
export interface Setting {
  readonly value: string | undefined;
  readonly source: Source;
  /** The flag, variable or file it came from. */
  readonly from: string;
}

export interface Settings {
  readonly databaseUrl: Setting;
  /** A read replica for read-only commands (--read-url, ORBIT_READ_URL, readUrl in the file). */
  readonly readUrl: Setting;
  readonly schema: Setting;
  readonly threshold: Setting;
  /** How long a worker's claim on its runs lasts without renewal (ORBIT_LEASE; no flag). */
  readonly lease: Setting;
  /** The largest step result journaled, in bytes (ORBIT_MAX_RESULT_BYTES; no flag). */
  readonly maxResultBytes: Setting;
  readonly dataDir: Setting;
  readonly pipelines: Setting;
  readonly file: ConfigFile | undefined;
}

// A real import(): TypeScript would compile `import()` to require() under module commonjs.
// eslint-disable-next-line @typescript-eslint/no-implied-eval
export const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/** require() for CommonJS, import() for ES modules (.mjs, or a .js that require() refuses). */
export const loadModule = async (file: string): Promise<unknown> => {
  if (file.endsWith('.mjs')) return importModule(pathToFileURL(file).href);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as unknown;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_REQUIRE_ESM') return importModule(pathToFileURL(file).href);
    throw err;
  }
};

/** The config file in effect: in `cwd`, else at the project root. */
export const findConfigFile = (cwd: string): string | undefined => {
  for (const dir of [path.resolve(cwd), projectRoot(cwd)]) {
    for (const name of CONFIG_FILES) {
      const p = path.join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
};

export const loadConfigFile = async (file: string): Promise<E.Either<OrbitError, ConfigFile>> => {
  let mod: unknown;
  try {
    mod = await loadModule(file);
  } catch (err) {
    return E.left({
      _tag: 'InvalidInput',
      what: 'config file',
      message: `${file} failed to load: ${describeModuleError(err, file).message}`,
    });
  }
  // An ES module's settings are its default export (or its named exports); CommonJS: module.exports.
  const exported: unknown =
    typeof mod === 'object' && mod !== null && 'default' in mod && typeof mod.default === 'object' ? mod.default : mod;
  const decoded = FileSettings.decode(exported ?? {});
  if (E.isLeft(decoded)) {
    const bad = decoded.left[0]?.context.map((c) => c.key).filter((k) => k !== '')[0] ?? 'a setting';
    return E.left({ _tag: 'InvalidInput', what: 'config file', message: `${file}: ${bad} has the wrong type` });
  }
  return E.right({ path: file, exports: exported, settings: decoded.right });
};

export interface FlagValues {
  readonly databaseUrl?: string;
  readonly readUrl?: string;
  readonly schema?: string;
  readonly threshold?: string;
  readonly dataDir?: string;
  readonly pipelines?: string;
}

const nonEmpty = (v: string | undefined): v is string => v !== undefined && v !== '';

/** Flags > environment > config file > defaults, setting by setting. */
export const resolveSettings = (
  flags: FlagValues,
  env: Readonly<Record<string, string | undefined>>,
  file: ConfigFile | undefined,
  cwd: string,
): Settings => {
  const pick = (
    flag: string,
    flagValue: string | undefined,
    envName: string,
    fileValue: string | undefined,
    fallback: Setting,
  ): Setting => {
    if (nonEmpty(flagValue)) return { value: flagValue, source: 'flag', from: flag };
    const fromEnv = env[envName];
    if (nonEmpty(fromEnv)) return { value: fromEnv, source: 'env', from: envName };
    if (file !== undefined && nonEmpty(fileValue)) return { value: fileValue, source: 'file', from: file.path };
    return fallback;
  };
  const s = file?.settings ?? {};
  // Paths in the file are relative to the file, as a user reading it would expect.
  const fromFile = (p: string | undefined): string | undefined =>
    file !== undefined && nonEmpty(p) ? path.resolve(path.dirname(file.path), p) : undefined;
  const asDuration = (v: string | number | undefined): string | undefined => (typeof v === 'number' ? `${v}ms` : v);
  const threshold = asDuration(s.threshold);
  const pipelinesInFile = typeof s.pipelines === 'string' ? fromFile(s.pipelines) : undefined;
  const dataDir = pick('--data-dir', flags.dataDir, 'ORBIT_HOME', fromFile(s.dataDir), {
    value: embeddedHome({ cwd, env: {} }),
    source: 'default',
    from: '.orbit at the project root',
  });
  return {
    databaseUrl: pick('--database-url', flags.databaseUrl, 'DATABASE_URL', s.databaseUrl, {
      value: undefined,
      source: 'default',
      from: `the embedded server in ${dataDir.value ?? '.orbit'}`,
    }),
    readUrl: pick('--read-url', flags.readUrl, 'ORBIT_READ_URL', s.readUrl, {
      value: undefined,
      source: 'default',
      from: 'none: reads go to the database URL',
    }),
    schema: pick('--schema', flags.schema, 'ORBIT_SCHEMA', s.schema, { value: 'orbit', source: 'default', from: 'default' }),
    threshold: pick('--threshold', flags.threshold, 'ORBIT_INTERRUPTED_THRESHOLD', threshold, {
      value: '10m',
      source: 'default',
      from: 'default',
    }),
    lease: pick('(no flag)', undefined, 'ORBIT_LEASE', asDuration(s.lease), { value: '15s', source: 'default', from: 'default' }),
    maxResultBytes: pick(
      '(no flag)',
      undefined,
      'ORBIT_MAX_RESULT_BYTES',
      s.maxResultBytes === undefined ? undefined : String(s.maxResultBytes),
      { value: String(DEFAULT_MAX_RESULT_BYTES), source: 'default', from: 'default' },
    ),
    dataDir,
    pipelines: pick('--pipelines', flags.pipelines, 'ORBIT_PIPELINES', pipelinesInFile, {
      value: file?.path,
      source: file !== undefined ? 'file' : 'default',
      from: file !== undefined ? `${file.path} itself` : 'none',
    }),
    file,
  };
};

/** Finds and loads the config file (if any), then resolves every setting. */
export const loadSettings = async (
  flags: FlagValues,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<E.Either<OrbitError, Settings>> => {
  const found = findConfigFile(cwd);
  if (found === undefined) return E.right(resolveSettings(flags, env, undefined, cwd));
  const file = await loadConfigFile(found);
  return E.isLeft(file) ? file : E.right(resolveSettings(flags, env, file.right, cwd));
};
