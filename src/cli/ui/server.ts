import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as E from 'fp-ts/Either';
import type { OrbitClient } from '../../api/connect';
import { watchRuns, type JournalWatch } from '../../api/watchRuns';
import { OrbitErrors, type OrbitError } from '../../api/internal/errors';
import { loadAssets, type Asset } from './assets';
import { page, type Html, type PageFrame } from './html';
import {
  hostAllowed,
  isLoopback,
  newSecret,
  presentedToken,
  sameOrigin,
  sameSecret,
  SECURITY_HEADERS,
  TOKEN_COOKIE,
} from './security';
import { routes, type Route, type RouteContext } from './routes';
import { LiveFeed } from './liveFeed';

export interface UiOptions {
  readonly client: OrbitClient;
  /** Default 127.0.0.1. Any other (non-loopback) host requires `token`. */
  readonly host?: string;
  /** Default 4300; 0 picks a free port. */
  readonly port?: number;
  /** Required off loopback: sent as `Authorization: Bearer`, or once as `?token=` (then kept in a cookie). */
  readonly token?: string;
  /** Hide and refuse every action. */
  readonly readOnly?: boolean;
  /** Journaled with every action as `ui:<user>` (just `ui` without one). */
  readonly user?: string;
  /** How often the journal's head is polled for live updates (ms). Default 500. */
  readonly pollMs?: number;
}

export interface UiServer {
  readonly url: string;
  /** Browsers connected to the live feed right now. */
  readonly liveClients: () => number;
  close(): Promise<void>;
}

/** Refused at start: a non-loopback host without a token. */
export const checkExposure = (host: string, token: string | undefined): E.Either<string, void> =>
  !isLoopback(host) && (token === undefined || token === '')
    ? E.left(`--host ${host} exposes the dashboard beyond this machine: give --token (or ORBIT_UI_TOKEN) too`)
    : token !== undefined && token !== '' && token.length < 16
      ? E.left('--token must be at least 16 characters')
      : E.right(undefined);

const MAX_BODY = 16 * 1024;

const readBody = (req: IncomingMessage): Promise<string | null> =>
  new Promise((resolve) => {
    let body = '';
    let size = 0;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
      } else body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', () => resolve(null));
  });

/** Starts the dashboard's HTTP server (node:http): pages rendered here, one live feed for every browser. */
export const startUiServer = async (opts: UiOptions): Promise<E.Either<OrbitError, UiServer>> => {
  const host = opts.host ?? '127.0.0.1';
  const exposure = checkExposure(host, opts.token);
  if (E.isLeft(exposure)) return E.left(OrbitErrors.invalidInput('--host', exposure.left));
  const { client } = opts;
  const assets = loadAssets();
  const csrf = newSecret();
  const loopback = isLoopback(host);
  const feed = new LiveFeed();
  const watch = await watchRuns((c) => feed.changed(c.runId), { client, pollMs: opts.pollMs });
  if (E.isLeft(watch)) return watch;
  const journalWatch: JournalWatch = watch.right;
  const stop = new AbortController();
  const inFlight = new Set<Promise<unknown>>();

  const frame = (f: Pick<PageFrame, 'title' | 'section' | 'live'>): PageFrame => ({
    ...f,
    csrf,
    readOnly: opts.readOnly === true,
    schema: client.schema,
    assetVersion: assets.version,
  });

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
    res.end(body);
  };
  const sendAsset = (res: ServerResponse, a: Asset, versioned: boolean) =>
    send(res, 200, a.type, a.body, {
      // A versioned URL (?v=<hash of the files>) never changes content: cache it for a year.
      'Cache-Control': versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
    });
  const text = (res: ServerResponse, status: number, message: string) =>
    send(res, status, 'text/plain; charset=utf-8', `${message}\n`);

  const ctx: RouteContext = {
    client,
    csrf,
    readOnly: opts.readOnly === true,
    askedBy: opts.user !== undefined && opts.user !== '' ? `ui:${opts.user}` : 'ui',
    stopSignal: stop.signal,
    track: (p) => {
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
    nowIso: () => new Date(client.clock.now()).toISOString(),
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!hostAllowed(req, loopback))
      return text(res, 421, 'Misdirected request: this dashboard answers only to a loopback host name');
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    if (opts.token !== undefined && opts.token !== '') {
      const given = url.searchParams.get('token');
      if (req.method === 'GET' && given !== null && sameSecret(given, opts.token)) {
        url.searchParams.delete('token');
        res.writeHead(303, {
          ...SECURITY_HEADERS,
          Location: `${url.pathname}${url.search}`,
          'Set-Cookie': `${TOKEN_COOKIE}=${encodeURIComponent(opts.token)}; HttpOnly; SameSite=Strict; Path=/`,
        });
        return void res.end();
      }
      if (!sameSecret(presentedToken(req), opts.token))
        return text(res, 401, 'Unauthorized: open the dashboard with ?token=<token> once');
    }
    const asset = assets.files.get(url.pathname);
    if (asset !== undefined && req.method === 'GET') return sendAsset(res, asset, url.searchParams.get('v') === assets.version);
    if (url.pathname === '/events' && req.method === 'GET') return feed.attach(req, res, SECURITY_HEADERS);

    const route: Route | undefined = routes.find((r) => r.method === req.method && r.path.test(url.pathname));
    if (route === undefined) {
      return url.pathname.startsWith('/assets/') || req.method === 'GET'
        ? text(res, 404, 'Not found')
        : text(res, 405, 'Method not allowed');
    }
    let form = new URLSearchParams();
    if (route.method === 'POST') {
      if (ctx.readOnly) return text(res, 403, 'Forbidden: this dashboard is read-only (--read-only)');
      if (!sameOrigin(req)) return text(res, 403, 'Forbidden: cross-origin request');
      const body = await readBody(req);
      if (body === null) return text(res, 413, 'Request too large');
      form = new URLSearchParams(body);
      const token = form.get('csrf') ?? (typeof req.headers['x-csrf-token'] === 'string' ? req.headers['x-csrf-token'] : null);
      if (!sameSecret(token, csrf)) return text(res, 403, 'Forbidden: missing or wrong CSRF token (reload the page)');
    }
    const match = route.path.exec(url.pathname);
    const params = (match?.slice(1) ?? []).map((p) => decodeURIComponent(p));
    const out = await route.handle(ctx, params, url.searchParams, form);
    if (out.kind === 'redirect') {
      res.writeHead(303, { ...SECURITY_HEADERS, Location: out.location, 'Cache-Control': 'no-store' });
      return void res.end();
    }
    if (out.kind === 'error') return text(res, out.status, out.message);
    // ?fragment=1: only <main>'s content, for the live updates that replace it in place.
    const body = url.searchParams.get('fragment') === '1' ? out.main.text : page(frame(out), out.main);
    return send(res, out.status ?? 200, 'text/html; charset=utf-8', body);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, `Internal error: ${err instanceof Error ? err.message : String(err)}`);
      else res.end();
    });
  });
  const listening = await new Promise<E.Either<OrbitError, AddressInfo>>((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      resolve(
        E.left(OrbitErrors.invalidInput('--port', `Cannot listen on ${host}:${opts.port ?? 4300}: ${err.code ?? err.message}`)),
      ),
    );
    server.listen(opts.port ?? 4300, host, () => resolve(E.right(server.address() as AddressInfo)));
  });
  if (E.isLeft(listening)) {
    await journalWatch.close();
    return listening;
  }
  const addr = listening.right;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return E.right({
    url: `http://${shownHost}:${addr.port}/`,
    liveClients: () => feed.size,
    close: async () => {
      stop.abort(new Error('dashboard stopping'));
      feed.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.allSettled([...inFlight]);
      await journalWatch.close();
    },
  });
};

export type { Html };
