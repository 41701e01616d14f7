import https from 'node:https';
import type { AddressInfo } from 'node:net';
import selfsigned from 'selfsigned';

/** What a receiver saw, and what it answered. */
export interface Received {
  headers: Record<string, string>;
  body: string;
  status: number;
  at: number;
}

export interface HttpsReceiver {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** PEM of the receiver's self-signed certificate: give it to the outbound guard's `extraCa`. */
  readonly ca: string;
  readonly received: Received[];
  close(): Promise<void>;
}

let certificate: Promise<{ cert: string; key: string }> | undefined;

/** One self-signed certificate for 127.0.0.1 per test process (generating one takes a moment). */
function loopbackCertificate() {
  certificate ??= (async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      curve: 'P-256',
      notAfterDate: new Date(Date.now() + 24 * 3600_000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    return { cert: pems.cert, key: pems.private };
  })();
  return certificate;
}

/**
 * A subscriber's endpoint on loopback, over https as subscriptions require. `answer` decides each
 * response's status from the request (fail for a while, then recover).
 */
export async function startHttpsReceiver(answer: (r: { headers: Record<string, string>; body: string; index: number }) => number): Promise<HttpsReceiver> {
  const { cert, key } = await loopbackCertificate();
  const received: Received[] = [];
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const body = Buffer.concat(chunks).toString('utf8');
      const status = answer({ headers, body, index: received.length });
      received.push({ headers, body, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'not now');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
