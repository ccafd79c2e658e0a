/**
 * The address a request really came from, for rate limits and audit lines. `X-Forwarded-For` is
 * written by whoever sends the request, so it is believed only hop by hop from our side: starting at
 * the TCP peer, while the hop is a trusted proxy (`BOT_TRUSTED_PROXIES`, default loopback), take the
 * entry that proxy appended (right to left). The first untrusted hop is the client. A client that
 * talks to us directly cannot move itself (or anyone else) by sending the header.
 *
 * IPv6 clients are bucketed by their /64 (one customer's whole prefix): a host can pick any address
 * in its /64, so per-address limits on full IPv6 addresses would not limit anything.
 *
 * @example
 * const trusted = parseTrustedProxies('loopback,10.0.0.0/8');
 * clientAddress(ctx.req, trusted); // '203.0.113.7' behind nginx on 10.0.0.2
 * @see https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Forwarded-For#selecting_an_ip_address
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';

/** The proxies whose `X-Forwarded-For` entries are believed. */
export type TrustedProxies = net.BlockList;

/** Named groups accepted by {@link parseTrustedProxies}. */
const GROUPS: Record<string, readonly [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  private: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

/**
 * Parses a comma-separated list of `loopback`, `private` (RFC 1918 and fc00::/7), IP addresses and
 * CIDR ranges, or `none`. Throws an Error naming the first entry it cannot read.
 *
 * @example parseTrustedProxies('loopback, 10.1.2.0/24, 2001:db8::1')
 * @see https://nodejs.org/api/net.html#class-netblocklist
 */
export function parseTrustedProxies(spec: string): TrustedProxies {
  const list = new net.BlockList();
  for (const raw of spec.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '' || entry === 'none') continue;
    const group = GROUPS[entry];
    if (group) {
      for (const [prefix, bits, type] of group) list.addSubnet(prefix, bits, type);
      continue;
    }
    const [ip, bitsText, extra] = entry.split('/');
    const type = net.isIPv4(ip!) ? 'ipv4' : net.isIPv6(ip!) ? 'ipv6' : undefined;
    const max = type === 'ipv4' ? 32 : 128;
    const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
    if (!type || extra !== undefined || !(bits >= 0 && bits <= max))
      throw new Error(`"${raw.trim()}" is not an IP address, a CIDR range (10.0.0.0/8), "loopback", "private" or "none"`);
    list.addSubnet(ip!, bits, type);
  }
  return list;
}

/**
 * The client's address: the TCP peer, or, when the peer is a trusted proxy, the right-most
 * `X-Forwarded-For` entry not written by a trusted proxy. `unknown` when the socket has no address.
 *
 * @example clientAddress(ctx.req, parseTrustedProxies('loopback'))
 * @see https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Forwarded-For#selecting_an_ip_address
 */
export function clientAddress(req: Pick<IncomingMessage, 'socket' | 'headers'>, trusted?: TrustedProxies): string {
  let hop = normalizeIp(req.socket?.remoteAddress ?? '');
  if (hop === undefined) return 'unknown';
  if (!trusted) return hop;
  const header = req.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  for (let i = entries.length - 1; i >= 0 && isTrusted(hop, trusted); i--) {
    const entry = normalizeIp(entries[i]!.trim());
    // A trusted proxy appends a real address; anything else was written by the client: stop at the proxy.
    if (entry === undefined) break;
    hop = entry;
  }
  return hop;
}

/**
 * The bucket a limit counts an address in: the address itself for IPv4, its /64 for IPv6.
 *
 * @example addressBucket('2001:db8:1:2:aaaa::1') // '2001:db8:1:2::/64'
 * @see https://www.rfc-editor.org/rfc/rfc6177
 */
export function addressBucket(address: string): string {
  if (!net.isIPv6(address)) return address;
  const groups = expandIpv6(address)
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''));
  return `${groups.join(':')}::/64`;
}

// === Helpers

function isTrusted(ip: string, trusted: TrustedProxies): boolean {
  return trusted.check(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6');
}

/** A plain IP (IPv4-mapped IPv6 as IPv4, lower case, no zone or brackets), or undefined when not an IP. */
function normalizeIp(text: string): string | undefined {
  let ip = text.toLowerCase();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const zone = ip.indexOf('%');
  if (zone > 0) ip = ip.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(ip);
  if (mapped) ip = mapped[1]!;
  return net.isIP(ip) ? ip : undefined;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail converted). */
function expandIpv6(ip: string): string[] {
  let text = ip;
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right];
}
