/**
 * A TCP proxy on loopback between Orbit and PostgreSQL that makes commits ambiguous: for a chosen
 * share of appends (a Bind of a prepared `orbit.append…` statement, single or batched), it lets the statement run
 * and commit on the server, swallows the server's reply up to ReadyForQuery, then cuts both
 * connections. Orbit sees a dropped connection after its events were durably written.
 */
import net from 'node:net';

export interface AmbiguityProxy {
  readonly port: number;
  /** Replies swallowed after the server committed (ReadyForQuery seen). */
  readonly dropped: () => number;
  close(): Promise<void>;
}

/** Splits a protocol byte stream into messages; `typed` once the untyped startup phase is over. */
class Framer {
  private buf = Buffer.alloc(0);
  constructor(private typed: boolean) {}
  /** Feeds bytes; returns complete messages as [type ('' when untyped), whole message bytes, body]. */
  push(chunk: Buffer): Array<[string, Buffer, Buffer]> {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: Array<[string, Buffer, Buffer]> = [];
    for (;;) {
      if (!this.typed) {
        if (this.buf.length < 8) break;
        const len = this.buf.readInt32BE(0);
        if (this.buf.length < len) break;
        const code = this.buf.readInt32BE(4);
        out.push(['', this.buf.subarray(0, len), this.buf.subarray(8, len)]);
        this.buf = this.buf.subarray(len);
        // SSLRequest / GSSENCRequest are followed by another startup message; the rest start typed messages.
        if (code !== 80877103 && code !== 80877104) this.typed = true;
        continue;
      }
      if (this.buf.length < 5) break;
      const len = this.buf.readInt32BE(1);
      if (this.buf.length < len + 1) break;
      out.push([String.fromCharCode(this.buf[0] as number), this.buf.subarray(0, len + 1), this.buf.subarray(5, len + 1)]);
      this.buf = this.buf.subarray(len + 1);
    }
    return out;
  }
}

export const startAmbiguityProxy = async (
  targetPort: number,
  shouldDrop: () => boolean,
  marker = 'orbit.append',
): Promise<AmbiguityProxy> => {
  let dropped = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    const fromClient = new Framer(false);
    const fromServer = new Framer(true);
    let doomed = false;
    client.on('data', (chunk: Buffer) => {
      for (const [type, whole, body] of fromClient.push(chunk)) {
        if (type === 'B' && !doomed) {
          const portalEnd = body.indexOf(0);
          const statement = body.subarray(portalEnd + 1, body.indexOf(0, portalEnd + 1)).toString('utf8');
          if (statement.startsWith(marker) && shouldDrop()) doomed = true;
        }
        upstream.write(whole);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!doomed) {
        // The first server bytes may be the one-byte SSL answer; this proxy's clients never ask.
        fromServer.push(chunk);
        client.write(chunk);
        return;
      }
      // Swallow the reply; once the server is ready again, the commit has happened: cut.
      for (const [type] of fromServer.push(chunk)) {
        if (type === 'Z') {
          dropped += 1;
          cut();
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    dropped: () => dropped,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
