import net from 'node:net';
import ipaddr from 'ipaddr.js';
import type { OutboundRule } from './errors';

/**
 * Which IP addresses an outbound call may reach: pure, so every rule is table-tested. ipaddr.js knows
 * the IANA special-purpose registries (and keeps them current), which a hand-written list of CIDRs
 * would not; `process()` unwraps IPv4-mapped IPv6 (::ffff:127.0.0.1) so it is judged as the IPv4 it is.
 */

/** Why an address is refused: the address rules of `OutboundRule`. */
export type AddressRule = Exclude<OutboundRule, 'https_required' | 'host_not_allowed' | 'invalid_url' | 'own_service'>;

/**
 * Cloud instance-metadata endpoints: AWS, GCP, Azure, OCI (169.254.169.254), AWS ECS task metadata,
 * AWS's IPv6 IMDS, Alibaba Cloud. Named apart from their ranges so the refusal says what it protects,
 * and never allowed by OUTBOUND_ALLOWED_NETWORKS: no test or sandbox needs a credential server.
 */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200'].map((a) => normalise(ipaddr.parse(a))));

const IPV4_RULES: Record<string, AddressRule> = {
  unspecified: 'unspecified',
  broadcast: 'reserved',
  multicast: 'multicast',
  linkLocal: 'link_local',
  loopback: 'loopback',
  carrierGradeNat: 'cgnat',
  private: 'private',
};

const IPV6_RULES: Record<string, AddressRule> = {
  unspecified: 'unspecified',
  linkLocal: 'link_local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'private',
  deprecatedSiteLocal: 'private',
};

// Only global unicast (2000::/3) is dialled over IPv6: it excludes the IPv4-compatible ::/96 forms
// (::127.0.0.1), which ipaddr.js files under plain "unicast".
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
// NAT64's well-known prefix carries a real IPv4 address in its last 32 bits: judge that address.
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96');

function normalise(ip: ipaddr.IPv4 | ipaddr.IPv6): string {
  return ip.kind() === 'ipv6' ? (ip as ipaddr.IPv6).toNormalizedString() : ip.toString();
}

/** The address in its one canonical spelling (IPv4-mapped IPv6 as IPv4), or undefined if it is not one. */
export function canonicalAddress(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return undefined;
  return normalise(ipaddr.process(bare));
}

/** True for an IP literal as a URL or socket carries it (either family, IPv6 with or without brackets). */
export function isIpLiteral(host: string): boolean {
  return net.isIP(host.replace(/^\[|\]$/g, '')) !== 0;
}

function embeddedIpv4(ip: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = ip.toByteArray();
  return new ipaddr.IPv4(bytes.slice(12, 16));
}

/** The rule an address breaks, or undefined for an address on the public internet. */
export function addressRule(address: string): AddressRule | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return 'reserved';
  let ip = ipaddr.process(bare);
  if (METADATA_ADDRESSES.has(normalise(ip))) return 'metadata';
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.match(NAT64)) {
      ip = embeddedIpv4(v6);
      if (METADATA_ADDRESSES.has(normalise(ip))) return 'metadata';
    } else {
      const range = v6.range();
      if (IPV6_RULES[range]) return IPV6_RULES[range];
      // 6to4, Teredo, ORCHID, documentation and the rest of the special registry: no vendor lives there.
      if (range !== 'unicast' || !v6.match(GLOBAL_UNICAST)) return 'reserved';
      return undefined;
    }
  }
  const range = (ip as ipaddr.IPv4).range();
  if (range === 'unicast') return undefined;
  return IPV4_RULES[range] ?? 'reserved';
}

/** `10.0.0.0/8`, `127.0.0.1` (a single address) or `::1/128`. Throws on anything else. */
export type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseNetwork(spec: string): Network {
  const trimmed = spec.trim();
  const [ip, bits] = trimmed.includes('/') ? ipaddr.parseCIDR(trimmed) : ([ipaddr.parse(trimmed), trimmed.includes(':') ? 128 : 32] as const);
  // ::ffff:10.0.0.0/104 means 10.0.0.0/8: addresses are compared after the same unwrapping.
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) return [(ip as ipaddr.IPv6).toIPv4Address(), bits - 96];
  return [ip, bits];
}

/** True when `address` falls in one of `networks`. */
export function inNetworks(address: string, networks: readonly Network[]): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return false;
  const ip = ipaddr.process(bare);
  return networks.some(([net, bits]) => net.kind() === ip.kind() && (ip as ipaddr.IPv4).match(net as ipaddr.IPv4, bits));
}
