import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where the dashboard's files are: `assets/ui/` at the package root (from src/cli/ui/ or dist/cli/ui/ alike). */
export const ASSETS_DIR =
  // dist-scripts/src/cli/ui/ (the bench) is one level deeper than src/cli/ui/ and dist/cli/ui/.
  [path.join(__dirname, '..', '..', '..', 'assets', 'ui'), path.join(__dirname, '..', '..', '..', '..', 'assets', 'ui')].find(
    (d) => existsSync(path.join(d, 'app.js')),
  ) ?? path.join(__dirname, '..', '..', '..', 'assets', 'ui');

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/**
 * The only files the dashboard serves, by URL path, read once at start. A request for any other
 * path is a 404, so no path a browser sends can reach the filesystem.
 */
export const loadAssets = (dir = ASSETS_DIR): { readonly files: ReadonlyMap<string, Asset>; readonly version: string } => {
  const list: readonly [string, string][] = [
    ['app.js', 'text/javascript; charset=utf-8'],
    ['app.css', 'text/css; charset=utf-8'],
    ['favicon.svg', 'image/svg+xml'],
  ];
  const files = new Map<string, Asset>();
  const hash = createHash('sha256');
  for (const [name, type] of list) {
    const body = readFileSync(path.join(dir, name));
    hash.update(body);
    files.set(`/assets/${name}`, { body, type });
  }
  // Browsers ask for /favicon.ico on pages that name no icon (a plain-text error page).
  const icon = files.get('/assets/favicon.svg');
  if (icon !== undefined) files.set('/favicon.ico', icon);
  return { files, version: hash.digest('hex').slice(0, 12) };
};
