import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { LookupFunction } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { addressRule, canonicalAddress, inNetworks, isIpLiteral, parseNetwork, type Network } from './addresses';
import { isOutboundRefusal, outboundRefusal, type OutboundRefusal } from './errors';

/**
 * The deployment's side of the guarded HTTP layer (http.ts makes the requests): which addresses a
 * socket may connect to, checked on the address DNS returned for that very connection, so a name that
 * resolves to a public address when saved and to 127.0.0.1 when called (DNS rebinding) still cannot
 * reach 127.0.0.1. Built once per process from config (cli/services.ts) and shared by every connector.
 */

/** A provider host: an exact name (`api.stripe.com`) or an anchored pattern (`/^us\d+\.api\.mailchimp\.com$/`). */
export type HostPattern = string | RegExp;

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Name -> addresses. The system resolver unless a test injects one (a name that resolves to 127.0.0.1). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface OutboundOptions {
  /** Provider id -> base URL its calls go to instead of the vendor's (tests, sandboxes): CONNECTOR_BASE_URLS. */
  baseUrls?: Readonly<Record<string, string>>;
  /** Networks reachable despite the address rules (loopback fakes): OUTBOUND_ALLOWED_NETWORKS. Never metadata. */
  allowedNetworks?: readonly string[];
  /** Host names (or addresses) of our own services: the API's public URL, Temporal, Postgres. */
  ownHosts?: readonly string[];
  /** The most bytes of one answer that are read: OUTBOUND_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
  resolve?: Resolver;
  /**
   * Certificate authorities trusted besides the system's (PEM): a test's loopback https receiver. A
   * deployment with a private CA sets NODE_EXTRA_CA_CERTS instead, which Node applies everywhere.
   */
  extraCa?: readonly string[];
}

export interface OutboundGuard {
  readonly maxResponseBytes: number;
  /** The deployment's base URL for a provider, if it has one. */
  baseUrlFor(provider: string): string | undefined;
  /** Why `address` (reached as `host`) may not be dialled, or undefined if it may. */
  checkAddress(host: string, address: string): Promise<OutboundRefusal | undefined>;
  /** Resolves `hostname` and checks every address; rejects with an OutboundRefusal or the DNS error. */
  resolveChecked(hostname: string): Promise<ResolvedAddress[]>;
  /** A `lookup` for node:net and node:http agents that only ever yields allowed addresses. */
  readonly lookup: LookupFunction;
  /** An undici dispatcher for fetch whose every socket connects only to an allowed address. */
  readonly dispatcher: Dispatcher;
  /** A node:http(s) agent with the same rule, for SDKs on node:http (Stripe). */
  nodeAgent(protocol: 'http:' | 'https:'): http.Agent;
  close(): Promise<void>;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** How long our own services' names stay resolved before they are looked up again. */
const OWN_ADDRESSES_TTL_MS = 5 * 60_000;

const systemResolver: Resolver = async (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

function bareHost(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

export function matchesHost(host: string, patterns: readonly HostPattern[]): boolean {
  const h = host.toLowerCase();
  return patterns.some((p) => (typeof p === 'string' ? p.toLowerCase() === h : p.test(h)));
}

export function createOutboundGuard(opts: OutboundOptions = {}): OutboundGuard {
  const resolve = opts.resolve ?? systemResolver;
  const allowed: Network[] = (opts.allowedNetworks ?? []).map(parseNetwork);
  const baseUrls = opts.baseUrls ?? {};
  const ownNames = new Set<string>();
  const ownLiterals = new Set<string>();
  for (const h of opts.ownHosts ?? []) {
    const bare = bareHost(h);
    if (isIpLiteral(bare)) ownLiterals.add(canonicalAddress(bare)!);
    else if (bare) ownNames.add(bare);
  }

  let own: { at: number; addresses: Promise<Set<string>> } | undefined;
  function ownAddresses(): Promise<Set<string>> {
    if (own && Date.now() - own.at < OWN_ADDRESSES_TTL_MS) return own.addresses;
    const addresses = (async () => {
      const found = new Set(ownLiterals);
      await Promise.all(
        [...ownNames].map(async (name) => {
          // A name of ours that does not resolve here cannot be reached through it either.
          const resolved = await resolve(name).catch(() => []);
          for (const r of resolved) found.add(canonicalAddress(r.address) ?? r.address);
        }),
      );
      return found;
    })();
    own = { at: Date.now(), addresses };
    return addresses;
  }

  async function checkAddress(host: string, address: string): Promise<OutboundRefusal | undefined> {
    const rule = addressRule(address);
    if (rule === 'metadata') return outboundRefusal('metadata', host, address);
    if (inNetworks(address, allowed)) return undefined;
    if (rule !== undefined) return outboundRefusal(rule, host, address);
    // Our own services on public addresses (a load balancer, a managed Postgres) are refused too.
    const canonical = canonicalAddress(address);
    if (ownNames.has(bareHost(host)) || (canonical !== undefined && (await ownAddresses()).has(canonical))) {
      return outboundRefusal('own_service', host, address);
    }
    return undefined;
  }

  async function resolveChecked(hostname: string): Promise<ResolvedAddress[]> {
    const host = bareHost(hostname);
    if (isIpLiteral(host)) {
      const refusal = await checkAddress(host, host);
      if (refusal) throw refusal;
      return [{ address: host, family: host.includes(':') ? 6 : 4 }];
    }
    const addresses = await resolve(host);
    if (addresses.length === 0) throw Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND', hostname: host });
    // One bad address refuses the name: a resolver that mixes a public and a private answer is the
    // rebinding trick itself, and connecting to "the other one" would depend on the OS's ordering.
    for (const a of addresses) {
      const refusal = await checkAddress(host, a.address);
      if (refusal) throw refusal;
    }
    return addresses;
  }

  const lookup = ((hostname: string, options: dns.LookupOptions | number | ((...args: unknown[]) => void), callback?: (...args: unknown[]) => void) => {
    const cb = (typeof options === 'function' ? options : callback)!;
    const o: dns.LookupOptions = typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
    resolveChecked(hostname).then(
      (all) => {
        const family = o.family === 'IPv4' ? 4 : o.family === 'IPv6' ? 6 : o.family;
        const wanted = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
        if (wanted.length === 0) {
          cb(Object.assign(new Error(`no IPv${family} address for ${hostname}`), { code: 'ENOTFOUND', hostname }));
          return;
        }
        if (o.all) cb(null, wanted);
        else cb(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: unknown) => cb(err),
    );
  }) as LookupFunction;

  // net.connect never calls `lookup` for an address literal, so literals are checked here first.
  const ca = opts.extraCa?.length ? [...tls.rootCertificates, ...opts.extraCa] : undefined;
  const baseConnect = buildConnector({ lookup, ...(ca ? { ca } : {}) });
  const connect: buildConnector.connector = (options, callback) => {
    const host = bareHost(options.hostname);
    if (!isIpLiteral(host)) {
      baseConnect(options, callback);
      return;
    }
    checkAddress(host, host).then(
      (refusal) => (refusal ? callback(refusal, null) : baseConnect(options, callback)),
      (err: unknown) => callback(err as Error, null),
    );
  };
  const dispatcher = new Agent({ connect });
  const agents: Partial<Record<'http:' | 'https:', http.Agent>> = {};

  return {
    maxResponseBytes: opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    baseUrlFor: (provider) => baseUrls[provider],
    checkAddress,
    resolveChecked,
    lookup,
    dispatcher,
    nodeAgent(protocol) {
      agents[protocol] ??= protocol === 'https:' ? new https.Agent({ keepAlive: true, lookup, ...(ca ? { ca } : {}) }) : new http.Agent({ keepAlive: true, lookup });
      return agents[protocol]!;
    },
    async close() {
      for (const a of Object.values(agents)) a.destroy();
      await dispatcher.close();
    },
  };
}

/** How long a save-time DNS check may take before the save goes ahead and the connect-time check decides. */
const VET_RESOLVE_TIMEOUT_MS = 3_000;

/**
 * Checks an organisation-chosen URL (a HoneyBook catch hook, a Light Blue account host) when it is
 * saved: https, on one of the provider's hosts (default port), not an address literal of a refused
 * range, and, unless the deployment sends this provider's calls elsewhere, resolving only to allowed
 * addresses. A name that does not resolve now is accepted: the connect-time check is the binding one.
 */
export async function vetDestination(guard: OutboundGuard, provider: string, hosts: readonly HostPattern[], raw: string): Promise<OutboundRefusal | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return outboundRefusal('invalid_url', raw.slice(0, 100));
  }
  const host = bareHost(url.hostname);
  if (url.username || url.password) return outboundRefusal('invalid_url', host);
  // The address rules first: they name what the URL was aiming at, whatever its scheme.
  if (isIpLiteral(host)) {
    const refusal = await guard.checkAddress(host, host);
    if (refusal) return refusal;
  }
  // RFC 6761: every *.localhost name is loopback, whatever a resolver says.
  if (host === 'localhost' || host.endsWith('.localhost')) return outboundRefusal('loopback', host);
  if (url.protocol !== 'https:') return outboundRefusal('https_required', host);
  // url.host keeps a non-default port, which no provider pattern names.
  if (!matchesHost(url.host, hosts)) return outboundRefusal('host_not_allowed', url.host);
  if (guard.baseUrlFor(provider) !== undefined) return undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      guard.resolveChecked(host),
      new Promise((resolve) => {
        timer = setTimeout(resolve, VET_RESOLVE_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    if (isOutboundRefusal(err)) return err;
  } finally {
    clearTimeout(timer);
  }
  return undefined;
}
