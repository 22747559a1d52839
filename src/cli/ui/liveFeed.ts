import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long changes are gathered before the browsers hear of them: a burst of events is one refresh. */
const COALESCE_MS = 200;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * Server-Sent Events to every open dashboard, fed by the server's one journal watch: fifty
 * browsers cost the database one LISTEN connection, not fifty. Each message names the runs that
 * changed (or says `"all": true` when the journal's head moved without a NOTIFY naming a run).
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private pending = new Set<string>();
  private all = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly keepalive: NodeJS.Timeout;

  constructor() {
    this.keepalive = setInterval(() => {
      for (const c of this.clients) c.write(': keep-alive\n\n');
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse, headers: Readonly<Record<string, string>>): void {
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  changed(runId: string | null): void {
    if (runId === null) this.all = true;
    else this.pending.add(runId);
    this.timer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const data = JSON.stringify({ all: this.all, runs: [...this.pending].slice(0, 100) });
    this.pending = new Set();
    this.all = false;
    for (const c of this.clients) c.write(`event: change\ndata: ${data}\n\n`);
  }

  close(): void {
    clearInterval(this.keepalive);
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
