import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a listener saw: enough to prove that a request, and the credentials in it, reached it or not. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Listener {
  readonly port: number;
  /** `http://<host>:<port>` */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: SeenRequest[];
  /** TCP connections accepted, whether or not a request followed. */
  connections(): number;
  close(): Promise<void>;
}

/**
 * An HTTP server on a loopback address standing for a target an attacker would aim at (our own API,
 * a metadata endpoint) or for a vendor. By default it answers the way the listener did:
 * 418 with the text `seen-by-listener`.
 */
export async function startListener(
  opts: { host?: string; handle?: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void } = {},
): Promise<Listener> {
  const host = opts.host ?? '127.0.0.1';
  const requests: SeenRequest[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (opts.handle) opts.handle(req, res, body);
      else {
        res.writeHead(418, { 'content-type': 'text/plain' });
        res.end('seen-by-listener');
      }
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host}:${port}`,
    requests,
    connections: () => connections,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
