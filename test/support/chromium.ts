/**
 * A real headless Chromium (Debian's `chromium` package) driven over the DevTools protocol on a
 * pipe (`--remote-debugging-pipe`: JSON messages separated by NUL on fds 3 and 4), so tests can
 * open a page, evaluate expressions in it, list the requests it made and take a screenshot with
 * no npm dependency. A missing browser fails the test: install it (`apt-get install chromium`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export interface BrowserPage {
  /** Evaluates `expression` in the page and returns its value (JSON-serialisable). */
  evaluate<T>(expression: string): Promise<T>;
  /** Every URL the page requested, the page itself included. */
  readonly requests: readonly string[];
  /** Console errors, uncaught exceptions and browser log errors (a CSP violation is one). */
  readonly errors: readonly string[];
  /** Every alert/confirm/prompt the page opened (each is dismissed). */
  readonly dialogs: readonly string[];
  /** Loads `url` in the same tab and waits for its load event. */
  navigate(url: string): Promise<void>;
  /** A PNG of the page, `width` CSS pixels wide, as tall as its content. */
  screenshot(width: number): Promise<Buffer>;
  close(): Promise<void>;
}

export const openInChromium = async (url: string): Promise<BrowserPage> => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  const profile = mkdtempSync(path.join(tmpdir(), 'orbit-chromium-'));
  const child: ChildProcess = spawn(
    CHROMIUM_PATH,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--no-first-run',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d.slice(0, 2000)));

  let nextId = 1;
  const pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  const listeners: ((m: Message) => void)[] = [];
  let buffer = '';
  fromBrowser.setEncoding('utf8');
  fromBrowser.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\0'); i >= 0; i = buffer.indexOf('\0')) {
      const msg = JSON.parse(buffer.slice(0, i)) as Message;
      buffer = buffer.slice(i + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(msg.error.message));
        else p?.resolve(msg);
      } else {
        for (const l of listeners) l(msg);
      }
    }
  });
  child.once('exit', () => {
    for (const p of pending.values()) p.reject(new Error(`chromium exited\n${stderr}`));
  });

  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Message> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  const waitFor = (method: string, timeoutMs = 15_000): Promise<Message> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
      const l = (m: Message) => {
        if (m.method !== method) return;
        clearTimeout(timer);
        listeners.splice(listeners.indexOf(l), 1);
        resolve(m);
      };
      listeners.push(l);
    });

  const requests: string[] = [];
  listeners.push((m) => {
    if (m.method === 'Network.requestWillBeSent') requests.push(String((m.params?.request as { url: string }).url));
  });

  const errors: string[] = [];
  const dialogs: string[] = [];
  let sessionRef = '';
  listeners.push((m) => {
    if (m.method === 'Runtime.consoleAPICalled' && m.params?.type === 'error') {
      errors.push(`console.error: ${JSON.stringify(m.params?.args)}`);
    } else if (m.method === 'Runtime.exceptionThrown') {
      errors.push(`exception: ${JSON.stringify(m.params?.exceptionDetails)}`);
    } else if (m.method === 'Log.entryAdded') {
      const entry = m.params?.entry as { level: string; text: string; url?: string } | undefined;
      if (entry?.level === 'error') errors.push(`log: ${entry.text} ${entry.url ?? ''}`);
    } else if (m.method === 'Page.javascriptDialogOpening') {
      dialogs.push(String(m.params?.message));
      void send('Page.handleJavaScriptDialog', { accept: false }, sessionRef).catch(() => undefined);
    }
  });

  const target = await send('Target.createTarget', { url: 'about:blank' });
  const attached = await send('Target.attachToTarget', { targetId: target.result?.targetId, flatten: true });
  const sessionId = String(attached.result?.sessionId);
  sessionRef = sessionId;
  await send('Network.enable', {}, sessionId);
  await send('Page.enable', {}, sessionId);
  await send('Runtime.enable', {}, sessionId);
  await send('Log.enable', {}, sessionId);
  const loaded = waitFor('Page.loadEventFired');
  await send('Page.navigate', { url }, sessionId);
  await loaded;

  return {
    requests,
    errors,
    dialogs,
    navigate: async (to: string): Promise<void> => {
      const done = waitFor('Page.loadEventFired');
      await send('Page.navigate', { url: to }, sessionId);
      await done;
    },
    evaluate: async <T>(expression: string): Promise<T> => {
      const r = await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId);
      const res = r.result as { result: { value: T }; exceptionDetails?: { text: string } };
      if (res.exceptionDetails) throw new Error(`evaluate failed: ${res.exceptionDetails.text}`);
      return res.result.value;
    },
    screenshot: async (width: number): Promise<Buffer> => {
      const height = await send(
        'Runtime.evaluate',
        { expression: 'document.documentElement.scrollHeight', returnByValue: true },
        sessionId,
      );
      const h = (height.result as { result: { value: number } }).result.value;
      await send('Emulation.setDeviceMetricsOverride', { width, height: h, deviceScaleFactor: 1, mobile: false }, sessionId);
      const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId);
      return Buffer.from(String(shot.result?.data), 'base64');
    },
    close: async () => {
      await send('Browser.close').catch(() => undefined);
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
        setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5000).unref();
      });
      rmSync(profile, { recursive: true, force: true });
    },
  };
};
