import { addressRule } from '../../connectors/addresses';
import { googleCalendar } from '../../connectors/calendar/google';
import { isOutboundRefusal, type OutboundRefusal } from '../../connectors/errors';
import { vendorHttp } from '../../connectors/http';
import { createOutboundGuard, vetDestination, type OutboundGuard, type Resolver } from '../../connectors/outbound';
import { stripe } from '../../connectors/payment/stripe';
import { context, connectorFailure, staticOAuth } from '../support/connectors';
import { startListener, type Listener } from '../support/listener';

/**
 * The guarded HTTP layer against real sockets on loopback (no nock here: the checks under test sit
 * below fetch, in the socket's lookup and connect).
 */

const guards: OutboundGuard[] = [];
const listeners: Listener[] = [];
afterEach(async () => {
  await Promise.all(guards.splice(0).map((g) => g.close()));
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

function guard(opts: Parameters<typeof createOutboundGuard>[0] = {}): OutboundGuard {
  const g = createOutboundGuard(opts);
  guards.push(g);
  return g;
}

async function listener(...args: Parameters<typeof startListener>): Promise<Listener> {
  const l = await startListener(...args);
  listeners.push(l);
  return l;
}

/** A resolver that answers `address` for every name, changeable between calls (DNS rebinding). */
function dns(address: string): Resolver & { answer: string } {
  const r = Object.assign(async () => [{ address: r.answer, family: r.answer.includes(':') ? 6 : 4 }], { answer: address });
  return r;
}

/** Why a promise was rejected, walking `cause` to the guard's own refusal if there is one. */
async function refusalOf(promise: Promise<unknown>): Promise<OutboundRefusal | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) if (isOutboundRefusal(e)) return e;
  return undefined;
}

describe('addressRule (ipaddr.js ranges)', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['169.254.1.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2002:7f00:1::1', 'reserved'],
    ['2001:db8::1', 'reserved'],
  ])('%s is %s', (address, rule) => {
    expect(addressRule(address)).toBe(rule);
  });

  it.each(['8.8.8.8', '54.86.1.1', '2606:4700::1111', '64:ff9b::808:808'])('%s is a public address', (address) => {
    expect(addressRule(address)).toBeUndefined();
  });
});

describe('the connect-time address check', () => {
  it('refuses a name that resolves to 127.0.0.1 before the socket connects', async () => {
    const target = await listener();
    const g = guard({ resolve: dns('127.0.0.1') });
    const refusal = await refusalOf(fetch(`http://vendor.test:${target.port}/internal`, { dispatcher: g.dispatcher } as RequestInit));
    expect(refusal).toMatchObject({ rule: 'loopback', host: 'vendor.test', address: '127.0.0.1' });
    expect(target.connections()).toBe(0);
  });

  it('checks the address each connection dials, so a name that turns into 127.0.0.1 after it was vetted (rebinding) is still refused', async () => {
    const target = await listener();
    const resolver = dns('54.86.1.1');
    const g = guard({ resolve: resolver });
    // Vetted when saved: a Zapier name resolving to a public address is fine.
    await expect(vetDestination(g, 'honeybook', ['hooks.zapier.com'], 'https://hooks.zapier.com/hooks/catch/1/a/')).resolves.toBeUndefined();
    resolver.answer = '127.0.0.1';
    const http = vendorHttp({ provider: 'acme', hosts: [], guard: g, timeoutMs: 2000, baseUrl: `http://rebind.test:${target.port}` });
    const err = await connectorFailure(http.client({ baseUrl: http.baseUrl!, headers: () => ({ authorization: 'Bearer secret' }) }).request({ method: 'GET', path: 'me' }));
    expect(err).toMatchObject({ code: 'outbound_forbidden', retryable: false, details: { rule: 'loopback', host: 'rebind.test', address: '127.0.0.1' } });
    expect(target.connections()).toBe(0);
  });

  it('refuses a name whose answers mix a public and a private address', async () => {
    const g = guard({ resolve: async () => [{ address: '54.86.1.1', family: 4 }, { address: '10.0.0.5', family: 4 }] });
    await expect(refusalOf(g.resolveChecked('mixed.test'))).resolves.toMatchObject({ rule: 'private', address: '10.0.0.5' });
  });

  it('refuses address literals, IPv4-mapped IPv6 included, without a lookup', async () => {
    const target = await listener();
    const g = guard();
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) {
      const refusal = await refusalOf(fetch(`http://${host}:${target.port}/`, { dispatcher: g.dispatcher } as RequestInit));
      expect(refusal).toMatchObject({ rule: 'loopback' });
    }
    expect(target.connections()).toBe(0);
  });

  it('lets through the networks the deployment allows, and never a metadata endpoint', async () => {
    const target = await listener();
    const g = guard({ allowedNetworks: ['127.0.0.1/32', '169.254.0.0/16'] });
    const res = await fetch(`${target.url}/fake`, { dispatcher: g.dispatcher } as RequestInit);
    expect(res.status).toBe(418);
    expect(target.requests.map((r) => r.url)).toEqual(['/fake']);
    await expect(g.checkAddress('169.254.169.254', '169.254.169.254')).resolves.toMatchObject({ rule: 'metadata' });
    await expect(g.checkAddress('169.254.1.1', '169.254.1.1')).resolves.toBeUndefined();
  });

  it('refuses our own services on public addresses, by name and by address', async () => {
    const g = guard({ ownHosts: ['api.tourhub.example'], resolve: async () => [{ address: '34.120.0.10', family: 4 }] });
    await expect(refusalOf(g.resolveChecked('api.tourhub.example'))).resolves.toMatchObject({ rule: 'own_service' });
    await expect(refusalOf(g.resolveChecked('another-name-for-us.example'))).resolves.toMatchObject({ rule: 'own_service', address: '34.120.0.10' });
  });
});

describe('the HTTP client of the guarded layer', () => {
  const loopback = () => guard({ allowedNetworks: ['127.0.0.1/32'] });

  it('never follows a redirect: a 3xx is redirect_refused and its target receives nothing', async () => {
    const inside = await listener();
    const vendor = await listener({
      handle: (_req, res) => {
        res.writeHead(302, { location: `${inside.url}/internal/studio/me` });
        res.end();
      },
    });
    const http = vendorHttp({ provider: 'tave', hosts: ['workspace.vsco.co'], guard: loopback(), timeoutMs: 2000, baseUrl: vendor.url });
    const err = await connectorFailure(http.client({ baseUrl: vendor.url, headers: () => ({ 'x-api-key': 'K' }) }).request({ method: 'GET', path: 'studio/me' }));
    expect(err).toMatchObject({ code: 'redirect_refused', retryable: false, status: 302, details: { rule: 'redirect', location_host: `127.0.0.1:${inside.port}` } });
    expect(vendor.requests).toHaveLength(1);
    expect(inside.connections()).toBe(0);
  });

  it('stops reading an answer past the limit, with or without a declared length', async () => {
    const big = JSON.stringify({ items: 'x'.repeat(4096) });
    const declared = await listener({
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) });
        res.end(big);
      },
    });
    // No length: chunks keep coming, and reading stops at the limit.
    const chunked = await listener({
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < 8; i++) res.write(big.slice(i * 512, (i + 1) * 512));
        res.end(big.slice(8 * 512));
      },
    });
    const g = guard({ allowedNetworks: ['127.0.0.1/32'], maxResponseBytes: 1024 });
    const client = (url: string) => vendorHttp({ provider: 'acme', hosts: [], guard: g, timeoutMs: 2000, baseUrl: url }).client({ baseUrl: url });
    for (const l of [declared, chunked]) {
      await expect(connectorFailure(client(l.url).request({ method: 'GET', path: 'a' }))).resolves.toMatchObject({
        code: 'response_too_large',
        retryable: false,
        details: { limit_bytes: 1024 },
      });
    }
    const small = await listener({
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      },
    });
    await expect(client(small.url).request({ method: 'GET', path: 'a' })).resolves.toMatchObject({ status: 200, body: { ok: true } });
  });

  it('tells an admin a classified code and a short vendor message, never the body', async () => {
    const text = await listener();
    const g = loopback();
    const client = (url: string) => vendorHttp({ provider: 'tave', hosts: [], guard: g, timeoutMs: 2000, baseUrl: url }).client({ baseUrl: url });
    const err = await connectorFailure(client(text.url).request({ method: 'GET', path: 'studio/me' }));
    expect(err).toMatchObject({ code: 'bad_request', status: 418 });
    expect(err.message).toBe('tave answered 418');
    const verbose = await listener({
      handle: (_req, res) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ title: `Bad\nrequest ${'y'.repeat(1000)}`, secretEcho: 'K' }));
      },
    });
    const long = await connectorFailure(client(verbose.url).request({ method: 'GET', path: 'x' }));
    expect(long.message.length).toBeLessThanOrEqual(230);
    expect(long.message).not.toContain('\n');
    expect(long.message).not.toContain('secretEcho');
  });

  it('sends nothing, credentials included, to a host the provider entry does not name', async () => {
    const other = await listener();
    const g = loopback();
    const http = vendorHttp({ provider: 'twilio', hosts: ['api.twilio.com'], guard: g, timeoutMs: 2000 });
    const client = http.client({ baseUrl: 'https://api.twilio.com', headers: () => ({ authorization: 'Basic QUM6dG9rZW4=' }) });
    for (const [url, rule] of [
      [`https://127.0.0.1:${other.port}/2010-04-01/Accounts/AC1.json`, 'host_not_allowed'],
      [`http://127.0.0.1:${other.port}/2010-04-01/Accounts/AC1.json`, 'https_required'],
      ['https://api.twilio.com.evil.example/2010-04-01/Accounts/AC1.json', 'host_not_allowed'],
      ['https://api.twilio.com:8443/2010-04-01/Accounts/AC1.json', 'host_not_allowed'],
    ] as const) {
      const err = await connectorFailure(client.request({ method: 'GET', path: url }));
      expect(err).toMatchObject({ code: 'outbound_forbidden', details: { rule } });
    }
    expect(other.connections()).toBe(0);
  });

  it('guards the Stripe SDK’s sockets too (node:http agent with the same lookup)', async () => {
    const target = await listener();
    const g = guard({ resolve: dns('127.0.0.1') });
    const connector = stripe.create(context(stripe, { secretKey: 'sk_test_123' }, {}, { outbound: g, baseUrl: `http://stripe-sandbox.test:${target.port}` }));
    const err = await connectorFailure(connector.ping());
    expect(err).toMatchObject({ code: 'outbound_forbidden', provider: 'stripe', details: { rule: 'loopback' } });
    expect(target.connections()).toBe(0);
  });

  it('guards googleapis through the layer’s fetch: no redirect is followed', async () => {
    const inside = await listener();
    const vendor = await listener({
      handle: (_req, res) => {
        res.writeHead(307, { location: `${inside.url}/computeMetadata/v1/` });
        res.end();
      },
    });
    const connector = googleCalendar.create(
      context(googleCalendar, { accessToken: 'ya29.token' }, googleCalendar.settingsSchema.parse({}), { outbound: loopback(), baseUrl: vendor.url, oauth: staticOAuth('ya29.token') }),
    );
    const err = await connectorFailure(connector.ping());
    expect(err).toMatchObject({ code: 'redirect_refused', provider: 'google-calendar', status: 307 });
    expect(inside.connections()).toBe(0);
  });
});
