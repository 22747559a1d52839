import { existsSync } from 'node:fs';
import path from 'node:path';
import * as E from 'fp-ts/Either';
import { loadModule } from './config';
import { describeModuleError } from './moduleError';
import type { OrbitError } from '../api/internal/errors';
import { isPipeline, type Registry, type Pipeline } from '../api/internal/pipelines';

export const CONFIG_FILE = 'orbit.config.js';

/** Where pipeline definitions come from: `--pipelines`, then `ORBIT_PIPELINES`, then ./orbit.config.js. */
export const pipelinesModulePath = (given: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string | undefined => {
  const p = given ?? env.ORBIT_PIPELINES;
  if (p !== undefined && p !== '') return path.resolve(cwd, p);
  const config = path.join(cwd, CONFIG_FILE);
  return existsSync(config) ? config : undefined;
};

/** Pipelines found in a module's exports: a pipeline, an array of them, or an object holding them. */
const pipelinesIn = (exported: unknown, depth = 0): Pipeline[] => {
  if (isPipeline(exported)) return [exported];
  if (depth > 2 || typeof exported !== 'object' || exported === null) return [];
  const values = Array.isArray(exported) ? exported : Object.values(exported as Record<string, unknown>);
  return values.flatMap((v) => pipelinesIn(v, depth + 1));
};

/**
 * Loads a pipelines module and registers what it exports. A module may also register its
 * pipelines itself (`registry.registerPipeline`), or export `register(registry)`.
 */
export const loadPipelines = async (
  modulePath: string,
  registry: Registry,
  /** Told the stack of an error the module threw (`--verbose`). */
  onStack: (stack: string) => void = () => undefined,
): Promise<E.Either<OrbitError, readonly string[]>> => {
  if (!existsSync(modulePath)) {
    return E.left({ _tag: 'InvalidInput', what: 'pipelines module', message: `${modulePath} does not exist` });
  }
  let mod: unknown;
  try {
    // CommonJS (or transpiled to it) through require; ES modules through import(). Both share
    // this process's registry, since they resolve 'orbit-pipeline' to the same files.
    mod = await loadModule(modulePath);
  } catch (err) {
    const thrown = describeModuleError(err, modulePath);
    if (/\.[cm]?ts$/.test(modulePath)) {
      const message = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
      return E.left({
        _tag: 'InvalidInput',
        what: 'pipelines module',
        message:
          `${modulePath} is TypeScript, which Node.js ${process.version} does not load by itself (${message}): ` +
          'compile it and pass the .js file, or run orbit through a loader: node --import tsx node_modules/.bin/orbit ...',
      });
    }
    if (thrown.stack !== undefined) onStack(thrown.stack);
    return E.left({ _tag: 'InvalidInput', what: 'pipelines module', message: `${modulePath} failed to load: ${thrown.message}` });
  }
  try {
    const register = (mod as { register?: unknown } | null)?.register;
    if (typeof register === 'function') await (register as (r: Registry) => unknown)(registry);
    for (const p of pipelinesIn(mod)) registry.registerPipeline(p);
  } catch (err) {
    const thrown = describeModuleError(err, modulePath);
    if (thrown.stack !== undefined) onStack(thrown.stack);
    return E.left({ _tag: 'InvalidInput', what: 'pipelines module', message: `${modulePath}: ${thrown.message}` });
  }
  return E.right(registry.list().map((p) => p.name));
};
