import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * `mkdir -p`, one level at a time. Node's own `mkdir(…, { recursive: true })` never returns for
 * some paths (under /proc it loops forever: mkdir says ENOENT for a parent that exists), so a
 * bad `--data-dir` hung every command instead of failing.
 */
export const makeDirectory = async (dir: string): Promise<void> => {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let d = target; ; d = path.dirname(d)) {
    const st = await fs.stat(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (st !== undefined) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR' });
      break;
    }
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    await fs.mkdir(d).catch((err: NodeJS.ErrnoException) => {
      // Another process may create it at the same moment.
      if (err.code !== 'EEXIST') throw err;
    });
  }
};
