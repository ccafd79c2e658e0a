import { addressBucket, clientAddress, parseTrustedProxies } from '../../src/lib/client-address';

const req = (remoteAddress: string | undefined, xff?: string | string[]) =>
  ({ socket: { remoteAddress }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as never;

describe('clientAddress', () => {
  const trusted = parseTrustedProxies('loopback, 10.0.0.0/8');

  it.each([
    ['a direct client, header ignored', req('198.51.100.7', '203.0.113.1'), '198.51.100.7'],
    ['the peer when no proxy is trusted', req('127.0.0.1', '203.0.113.1'), '127.0.0.1', parseTrustedProxies('none')],
    ['one trusted proxy', req('127.0.0.1', '203.0.113.1, 198.51.100.7'), '198.51.100.7'],
    ['two trusted proxies', req('127.0.0.1', '6.6.6.6, 198.51.100.7, 10.1.2.3'), '198.51.100.7'],
    ['header split over lines', req('10.0.0.2', ['6.6.6.6', '198.51.100.7']), '198.51.100.7'],
    ['a trusted proxy without the header', req('10.0.0.2'), '10.0.0.2'],
    ['garbage where a proxy would append', req('10.0.0.2', '198.51.100.7, evil'), '10.0.0.2'],
    ['IPv4-mapped peer', req('::ffff:198.51.100.7'), '198.51.100.7'],
    ['no socket address', req(undefined), 'unknown'],
  ])('should take %s', (_label, request, expected, list = trusted) => {
    expect(clientAddress(request, list)).toBe(expected);
  });
});

describe('addressBucket', () => {
  it.each([
    ['198.51.100.7', '198.51.100.7'],
    ['2001:db8:1:2:aaaa::1', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('should bucket %s as %s', (address, bucket) => {
    expect(addressBucket(address)).toBe(bucket);
  });
});

describe('parseTrustedProxies', () => {
  it('should read groups, addresses and ranges', () => {
    const list = parseTrustedProxies('private, 203.0.113.9, 2001:db8::/32');
    expect(list.check('172.20.1.1', 'ipv4')).toBe(true);
    expect(list.check('203.0.113.9', 'ipv4')).toBe(true);
    expect(list.check('203.0.113.10', 'ipv4')).toBe(false);
    expect(list.check('2001:db8:ffff::1', 'ipv6')).toBe(true);
    expect(list.check('127.0.0.1', 'ipv4')).toBe(false);
    expect(parseTrustedProxies('none').check('127.0.0.1', 'ipv4')).toBe(false);
  });

  it.each(['example.com', '10.0.0.0/33', '10.0.0.0/8/1', '::/abc'])('should refuse %s', (entry) => {
    expect(() => parseTrustedProxies(`loopback,${entry}`)).toThrow(`"${entry}" is not an IP address, a CIDR range`);
  });
});
