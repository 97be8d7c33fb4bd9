/**
 * The SSRF guard of docs/api.md §7: which outbound targets are refused, and why. Pure: no I/O; the
 * outbound client (client.ts) resolves host names and asks this module about every address.
 */

/** What the deployment allows beyond public https targets. */
export interface TargetPolicy {
  /** Plain http:// targets are allowed (deployment setting `allowHttpTargets`). */
  allowHttp: boolean;
  /** Ranges opened despite the rules below (deployment setting `allowedTargetCidrs`, e.g. the twin's loopback). */
  allowedCidrs?: string[];
}

export interface IpAddress {
  version: 4 | 6;
  /** The address as one number: 32 bits for IPv4, 128 bits for IPv6. */
  value: bigint;
}

export interface Cidr {
  version: 4 | 6;
  /** The network address, host bits cleared. */
  network: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;

/** Canonical dotted-quad IPv4 or RFC 4291 IPv6 text (an optional `%zone` is ignored); anything else is undefined. */
export function parseIp(text: string): IpAddress | undefined {
  const ipv4 = parseIpv4(text);
  if (ipv4 !== undefined) return { version: 4, value: ipv4 };
  const ipv6 = parseIpv6(text);
  return ipv6 === undefined ? undefined : { version: 6, value: ipv6 };
}

/** `10.0.0.0/8` or `fc00::/7`; host bits are cleared. Throws on anything else, as a bad setting should fail loudly. */
export function parseCidr(text: string): Cidr {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  const address = match && parseIp(match[1]!);
  const prefix = match ? Number(match[2]) : NaN;
  if (!address || !(prefix <= BITS[address.version])) throw new Error(`not a CIDR range: ${JSON.stringify(text)}`);
  const hostBits = BigInt(BITS[address.version] - prefix);
  return { version: address.version, network: (address.value >> hostBits) << hostBits, prefix };
}

/** Whether the address lies in the range. IPv4 and IPv6 never match each other (::ffff:10.0.0.1 is not in 10.0.0.0/8). */
export function inCidr(address: string | IpAddress, cidr: string | Cidr): boolean {
  const ip = typeof address === 'string' ? parseIp(address) : address;
  const range = typeof cidr === 'string' ? parsedCidr(cidr) : cidr;
  if (!ip || ip.version !== range.version) return false;
  const hostBits = BigInt(BITS[ip.version] - range.prefix);
  return ip.value >> hostBits === range.network >> hostBits;
}

/** The deployment's few `allowedCidrs`, parsed once (checked before every request); bounded all the same. */
const parsedCidrs = new Map<string, Cidr>();
function parsedCidr(text: string): Cidr {
  let cidr = parsedCidrs.get(text);
  if (!cidr) {
    cidr = parseCidr(text);
    if (parsedCidrs.size >= 64) parsedCidrs.clear();
    parsedCidrs.set(text, cidr);
  }
  return cidr;
}

const LINK_LOCAL_V4 = 'link-local (includes the cloud metadata address)';

/** First match wins, so a narrower range comes before the range that holds it. */
const BLOCKED_RANGES: [Cidr, string][] = (
  [
    ['0.0.0.0/8', 'unspecified'],
    ['10.0.0.0/8', 'private network'],
    ['100.64.0.0/10', 'carrier-grade NAT'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', LINK_LOCAL_V4],
    ['172.16.0.0/12', 'private network'],
    ['192.0.0.0/24', 'reserved'],
    ['192.0.2.0/24', 'documentation range'],
    ['192.88.99.0/24', '6to4'],
    ['192.168.0.0/16', 'private network'],
    ['198.18.0.0/15', 'benchmarking'],
    ['198.51.100.0/24', 'documentation range'],
    ['203.0.113.0/24', 'documentation range'],
    ['224.0.0.0/4', 'multicast'],
    ['255.255.255.255/32', 'broadcast'],
    ['240.0.0.0/4', 'reserved'],

    ['::/128', 'unspecified'],
    ['::1/128', 'loopback'],
    ['::ffff:0:0/96', 'IPv4-mapped IPv6'],
    ['::/96', 'IPv4-compatible IPv6'],
    ['64:ff9b::/96', 'NAT64'],
    ['64:ff9b:1::/48', 'NAT64'],
    ['100::/64', 'discard-only'],
    ['fc00::/7', 'unique local'],
    ['fe80::/10', 'link-local'],
    ['fec0::/10', 'site-local'],
    ['ff00::/8', 'multicast'],
    // Inside 2000::/3, the global unicast space, which is otherwise allowed:
    ['2001::/32', 'Teredo'],
    ['2001:2::/48', 'benchmarking'],
    ['2001:10::/28', 'reserved'],
    ['2001:20::/28', 'reserved'],
    ['2001:db8::/32', 'documentation range'],
    ['2002::/16', '6to4'],
    ['3fff::/20', 'documentation range'],
  ] as const
).map(([cidr, reason]) => [parseCidr(cidr), reason]);

const GLOBAL_UNICAST_V6 = parseCidr('2000::/3');

/**
 * Why an address must not be connected to ("loopback", "private network", …), or undefined for a
 * public unicast address. Text that is not an IP address is refused too.
 */
export function blockedReason(address: string | IpAddress): string | undefined {
  const ip = typeof address === 'string' ? parseIp(address) : address;
  if (!ip) return 'not an IP address';
  const blocked = BLOCKED_RANGES.find(([range]) => inCidr(ip, range));
  if (blocked) return blocked[1];
  if (ip.version === 6 && !inCidr(ip, GLOBAL_UNICAST_V6)) return 'reserved';
  return undefined;
}

/** An address in one of the allowed ranges, or else any address that is not blocked. */
export function addressAllowed(address: string | IpAddress, allowedCidrs: readonly string[] = []): boolean {
  const ip = typeof address === 'string' ? parseIp(address) : address;
  if (!ip) return false;
  return allowedCidrs.some((cidr) => inCidr(ip, cidr)) || blockedReason(ip) === undefined;
}

/**
 * The check when a loop is created or its URL changed (docs/api.md §7, a 400): a human reason why the URL
 * cannot be a target, or undefined. It resolves nothing; an IP literal in any spelling the URL parser
 * normalises (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`, `[::ffff:7f00:1]`) is checked as the
 * address it is. The outbound client runs the same check before every request.
 */
export function checkTargetUrl(raw: string | URL, policy: TargetPolicy): string | undefined {
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : raw;
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return `${url.protocol.replace(':', '')} URLs are not allowed; use https`;
  }
  if (url.username || url.password) return 'URLs with user info are not allowed';
  const host = hostOf(url);
  if (!host) return 'the URL has no host';
  const allowedCidrs = policy.allowedCidrs ?? [];
  const ip = parseIp(host);
  if (ip) {
    return addressAllowed(ip, allowedCidrs) ? undefined : `${host} is a blocked address (${blockedReason(ip)})`;
  }
  // Resolvers answer loopback for these names without asking DNS (RFC 6761), so no lookup is needed to know.
  const bareName = host.replace(/\.$/, '');
  if ((bareName === 'localhost' || bareName.endsWith('.localhost')) && !addressAllowed('127.0.0.1', allowedCidrs)) {
    return `${host} is a blocked name (loopback)`;
  }
  return undefined;
}

/** The URL's host without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0; // 32 bits fit a double exactly: one BigInt at the end instead of eight operations
  for (const part of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return BigInt(value);
}

function parseIpv6(text: string): bigint | undefined {
  const address = text.replace(/%[^%]+$/, '');
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail].reduce(
    (value, group) => (value << 16n) | BigInt(group),
    0n,
  );
}

/** Colon-separated 16-bit groups; the last may be dotted IPv4 when the part ends the address. */
function parseGroups(part: string, endsAddress: boolean): number[] | undefined {
  if (part === '') return [];
  const pieces = part.split(':');
  const groups: number[] = [];
  for (const [index, piece] of pieces.entries()) {
    if (endsAddress && index === pieces.length - 1 && piece.includes('.')) {
      const ipv4 = parseIpv4(piece);
      if (ipv4 === undefined) return undefined;
      groups.push(Number(ipv4 >> 16n), Number(ipv4 & 0xffffn));
    } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}
