import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * What the dashboard forbids the browser: any script but its own file, any inline script or
 * style, any other origin, being framed, and forms posting anywhere else.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on its own form posts.
  'Referrer-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

/** Whether binding to `host` keeps the dashboard on this machine (anything else needs a token). */
export const isLoopback = (host: string): boolean => LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);

export const newSecret = (): string => randomBytes(32).toString('base64url');

/** Constant-time comparison of two secrets (a length difference is not secret). */
export const sameSecret = (a: string | undefined | null, b: string): boolean => {
  if (a === undefined || a === null) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export const TOKEN_COOKIE = 'orbit_ui_token';

const cookie = (req: IncomingMessage, name: string): string | undefined => {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
};

/** The token a request carries: `Authorization: Bearer`, or the cookie set after `?token=`. */
export const presentedToken = (req: IncomingMessage): string | undefined => {
  const auth = req.headers.authorization;
  if (auth !== undefined && auth.startsWith('Bearer ')) return auth.slice(7).trim();
  return cookie(req, TOKEN_COOKIE);
};

/**
 * A loopback-bound dashboard answers only requests addressed to a loopback name: a page on
 * another site cannot reach it through DNS rebinding (its Host header names that site).
 */
export const hostAllowed = (req: IncomingMessage, boundToLoopback: boolean): boolean => {
  if (!boundToLoopback) return true;
  const host = req.headers.host;
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  return isLoopback(name);
};

/** A cross-site POST carries another Origin: refused whatever its token says. */
export const sameOrigin = (req: IncomingMessage): boolean => {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return origin === undefined;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
};
