import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressAllowed, blockedReason, checkTargetUrl, inCidr, parseCidr, parseIp } from '#shared/outbound/guard.ts';

const METADATA = 'link-local (includes the cloud metadata address)';

describe('blockedReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private network'],
    ['10.255.255.255', 'private network'],
    ['172.16.0.1', 'private network'],
    ['172.31.255.255', 'private network'],
    ['192.168.1.1', 'private network'],
    ['169.254.169.254', METADATA],
    ['169.254.0.1', METADATA],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['fd00::1', 'unique local'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'unique local'],
    ['::ffff:10.0.0.1', 'IPv4-mapped IPv6'],
    ['::ffff:8.8.8.8', 'IPv4-mapped IPv6'],
    ['::ffff:7f00:1', 'IPv4-mapped IPv6'],
    ['::8.8.8.8', 'IPv4-compatible IPv6'],
    ['::808:808', 'IPv4-compatible IPv6'],
    ['64:ff9b::808:808', 'NAT64'],
    ['64:ff9b::10.0.0.1', 'NAT64'],
    ['64:ff9b:1::1', 'NAT64'],
    ['2002:c000:0204::1', '6to4'],
    ['192.88.99.1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.254', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.8', 'reserved'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['192.0.2.1', 'documentation range'],
    ['198.51.100.7', 'documentation range'],
    ['203.0.113.9', 'documentation range'],
    ['2001:db8::1', 'documentation range'],
    ['3fff::1', 'documentation range'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['2001:2::1', 'benchmarking'],
    ['2001:10::1', 'reserved'],
    ['2001:20::1', 'reserved'],
    ['100::1', 'discard-only'],
    ['fec0::1', 'site-local'],
    ['1::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['5f00::1', 'reserved'],
    ['example.com', 'not an IP address'],
    ['010.0.0.1', 'not an IP address'],
    ['1.2.3', 'not an IP address'],
    ['1::2::3', 'not an IP address'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(blockedReason(address)).toBe(reason);
    expect(addressAllowed(address, [])).toBe(false);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:80b::200e',
  ])('allows the public unicast address %s', (address) => {
    expect(blockedReason(address)).toBeUndefined();
    expect(addressAllowed(address)).toBe(true);
  });
});

describe('addressAllowed', () => {
  it('opens exactly the named ranges', () => {
    expect(addressAllowed('127.0.0.1', ['127.0.0.0/8', '::1/128'])).toBe(true);
    expect(addressAllowed('::1', ['127.0.0.0/8', '::1/128'])).toBe(true);
    expect(addressAllowed('10.0.0.1', ['127.0.0.0/8', '::1/128'])).toBe(false);
    expect(addressAllowed('10.1.2.3', ['10.1.0.0/16'])).toBe(true);
    expect(addressAllowed('10.2.0.1', ['10.1.0.0/16'])).toBe(false);
  });

  it('does not open an IPv4 range to the same address in IPv6 disguise', () => {
    expect(addressAllowed('::ffff:127.0.0.1', ['127.0.0.0/8'])).toBe(false);
    expect(addressAllowed('64:ff9b::7f00:1', ['127.0.0.0/8'])).toBe(false);
  });
});

describe('parseCidr and inCidr', () => {
  it('clears host bits and matches both address families', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ version: 4, network: 10n << 24n, prefix: 8 });
    expect(inCidr('10.200.0.1', '10.1.2.3/8')).toBe(true);
    expect(inCidr('11.0.0.0', '10.0.0.0/8')).toBe(false);
    expect(inCidr('fd12::1', 'fc00::/7')).toBe(true);
    expect(inCidr('fe00::1', 'fc00::/7')).toBe(false);
    expect(inCidr('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(inCidr('::1', '::1/128')).toBe(true);
  });

  it('never matches across families, nor text that is not an address', () => {
    expect(inCidr('::ffff:10.0.0.1', '10.0.0.0/8')).toBe(false);
    expect(inCidr('10.0.0.1', '::/0')).toBe(false);
    expect(inCidr('localhost', '127.0.0.0/8')).toBe(false);
  });

  it.each(['10.0.0.0', '10.0.0.0/33', '::/129', 'example.com/8', '10.0.0.0/8/8', '10.0.0/8', '/8'])(
    'rejects the range %s',
    (cidr) => {
      expect(() => parseCidr(cidr)).toThrow(/not a CIDR range/);
    },
  );
});

describe('checkTargetUrl', () => {
  const https = { allowHttp: false };
  const http = { allowHttp: true };

  it.each([
    ['decimal', 'http://2130706433/', http, '127.0.0.1 is a blocked address (loopback)'],
    ['hex', 'https://0x7f.1/', https, '127.0.0.1 is a blocked address (loopback)'],
    ['octal', 'https://0177.0.0.1/', https, '127.0.0.1 is a blocked address (loopback)'],
    ['short form', 'https://127.1/', https, '127.0.0.1 is a blocked address (loopback)'],
    ['trailing dot', 'https://127.0.0.1./', https, '127.0.0.1 is a blocked address (loopback)'],
    [
      'hex metadata',
      'http://0xa9.0xfe.0xa9.0xfe/latest/meta-data/',
      http,
      `169.254.169.254 is a blocked address (${METADATA})`,
    ],
    ['private with a port', 'https://10.1.2.3:8443/hook', https, '10.1.2.3 is a blocked address (private network)'],
    ['bracketed IPv6', 'https://[::1]/', https, '::1 is a blocked address (loopback)'],
    ['mapped IPv6', 'https://[::ffff:127.0.0.1]/', https, '::ffff:7f00:1 is a blocked address (IPv4-mapped IPv6)'],
    ['mapped IPv6 in hex', 'https://[::ffff:7f00:1]/', https, '::ffff:7f00:1 is a blocked address (IPv4-mapped IPv6)'],
    ['unique local', 'https://[fd00::1]/', https, 'fd00::1 is a blocked address (unique local)'],
    ['user and password', 'https://user:pw@example.com/', https, 'URLs with user info are not allowed'],
    ['user only', 'https://user@example.com/', https, 'URLs with user info are not allowed'],
    ['ftp', 'ftp://example.com/', http, 'ftp URLs are not allowed; use https'],
    ['file', 'file:///etc/passwd', http, 'file URLs are not allowed; use https'],
    ['http when not allowed', 'http://example.com/hook', https, 'http URLs are not allowed; use https'],
    ['not a URL', 'example.com/hook', https, 'not a valid URL'],
    ['localhost', 'https://localhost/', https, 'localhost is a blocked name (loopback)'],
    ['localhost with a trailing dot', 'https://localhost./', https, 'localhost. is a blocked name (loopback)'],
    ['localhost in capitals', 'https://LocalHost:8443/', https, 'localhost is a blocked name (loopback)'],
    ['a .localhost name', 'https://api.localhost/', https, 'api.localhost is a blocked name (loopback)'],
  ])('refuses %s: %s', (_spelling, url, policy, reason) => {
    expect(checkTargetUrl(url, policy)).toBe(reason);
  });

  it.each([
    ['a public name (not resolved)', 'https://example.com/hook', https],
    ['a public name with a trailing dot', 'https://example.com./hook', https],
    ['a name that merely starts with localhost', 'https://localhost.example.com/', https],
    ['http when allowed', 'http://example.com/hook', http],
    ['a public IPv4 literal', 'https://8.8.8.8/hook', https],
    ['a public IPv6 literal', 'https://[2606:4700:4700::1111]/hook', https],
    ['loopback in allowedCidrs', 'http://127.0.0.1:3000/hook', { allowHttp: true, allowedCidrs: ['127.0.0.0/8'] }],
    [
      'a short-form spelling of an allowed address',
      'http://127.1:3000/hook',
      { allowHttp: true, allowedCidrs: ['127.0.0.0/8'] },
    ],
    ['IPv6 loopback in allowedCidrs', 'http://[::1]:3000/hook', { allowHttp: true, allowedCidrs: ['::1/128'] }],
    [
      'localhost when 127.0.0.1 is allowed',
      'https://localhost:3000/hook',
      { allowHttp: false, allowedCidrs: ['127.0.0.0/8'] },
    ],
  ])('allows %s', (_case, url, policy) => {
    expect(checkTargetUrl(url, policy)).toBeUndefined();
  });

  it('does not let allowedCidrs open an IPv4 address in IPv6 disguise', () => {
    expect(checkTargetUrl('https://[::ffff:127.0.0.1]/', { allowHttp: false, allowedCidrs: ['127.0.0.0/8'] })).toMatch(
      /IPv4-mapped/,
    );
  });
});

/** The blocked IPv4 ranges of docs/api.md §7, written out again as the test's own reference. */
const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

const ipv4Text = (value: number) => [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
const ipv4Bits = (text: string) =>
  text
    .split('.')
    .map((octet) => Number(octet).toString(2).padStart(8, '0'))
    .join('');
const ipv6Bits = (groups: number[]) => groups.map((group) => group.toString(2).padStart(16, '0')).join('');
/** The URL parser's canonical (compressed) spelling of an IPv6 address. */
const canonicalIpv6 = (text: string) => new URL(`http://[${text}]/`).hostname.slice(1, -1);

describe('properties', () => {
  it('refuses every address in 10.0.0.0/8, bare and in a URL', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 24 - 1 }), (low) => {
        const address = ipv4Text((10 * 2 ** 24 + low) >>> 0);
        expect(blockedReason(address)).toBe('private network');
        expect(checkTargetUrl(`https://${address}/hook`, { allowHttp: false })).toBe(
          `${address} is a blocked address (private network)`,
        );
      }),
    );
  });

  it('allows every IPv4 address outside the blocked ranges', () => {
    const blocked = (address: string) =>
      BLOCKED_V4.some(([network, prefix]) => ipv4Bits(address).slice(0, prefix) === ipv4Bits(network).slice(0, prefix));
    fc.assert(
      fc.property(
        fc.ipV4().filter((address) => !blocked(address)),
        (address) => {
          expect(blockedReason(address)).toBeUndefined();
          expect(addressAllowed(address, [])).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses every IPv4 address in mapped IPv6 disguise', () => {
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        expect(blockedReason(`::ffff:${address}`)).toBe('IPv4-mapped IPv6');
        expect(
          checkTargetUrl(`https://[::ffff:${address}]/`, { allowHttp: false, allowedCidrs: ['0.0.0.0/0'] }),
        ).toMatch(/IPv4-mapped IPv6/);
      }),
    );
  });

  it('inCidr agrees with comparing bit strings, for IPv4', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (address, network, prefix) => {
        const expected = ipv4Bits(address).slice(0, prefix) === ipv4Bits(network).slice(0, prefix);
        expect(inCidr(address, `${network}/${prefix}`)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('inCidr agrees with comparing bit strings, for IPv6 in full and compressed spelling', () => {
    const groups = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
      minLength: 8,
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        groups,
        groups,
        fc.integer({ min: 0, max: 128 }),
        fc.boolean(),
        (address, network, prefix, compress) => {
          // Sharing a random number of leading groups makes matches common enough to test.
          const near = [...address.slice(0, prefix >> 4), ...network.slice(prefix >> 4)];
          const spell = (value: number[]) =>
            compress
              ? canonicalIpv6(value.map((g) => g.toString(16)).join(':'))
              : value.map((g) => g.toString(16)).join(':');
          const expected = ipv6Bits(address).slice(0, prefix) === ipv6Bits(near).slice(0, prefix);
          expect(inCidr(spell(address), `${spell(near)}/${prefix}`)).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('reads every IPv6 spelling as the URL parser does', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        expect(parseIp(text)).toEqual(parseIp(canonicalIpv6(text)));
        expect(parseIp(text)?.version).toBe(6);
      }),
      { numRuns: 1000 },
    );
  });
});
