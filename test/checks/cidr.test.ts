import { formatRange, parseIpv4Cidr, rangeContains, rangesOverlap, subtractRanges } from '../../lib/checks/cidr';

const r = (cidr: string) => {
  const range = parseIpv4Cidr(cidr);
  if (!range) {
    throw new Error(`bad test CIDR ${cidr}`);
  }
  return range;
};

describe('IPv4 CIDR arithmetic', () => {
  test('parses ranges, masking host bits', () => {
    expect(parseIpv4Cidr('10.0.0.0/16')).toEqual({ first: 167772160, last: 167837695 });
    expect(parseIpv4Cidr('10.0.3.7/19')).toEqual(parseIpv4Cidr('10.0.0.0/19'));
    expect(parseIpv4Cidr('0.0.0.0/0')).toEqual({ first: 0, last: 2 ** 32 - 1 });
    expect(parseIpv4Cidr('255.255.255.255/32')).toEqual({ first: 2 ** 32 - 1, last: 2 ** 32 - 1 });
    expect(parseIpv4Cidr(' 192.168.1.0/24 ')).toEqual(parseIpv4Cidr('192.168.1.0/24'));
  });

  test.each(['10.0.0.0', '10.0.0.0/33', '256.0.0.0/8', '10.0.0/8', '010.0.0.0/8', '10.0.0.0/08', '::/0', 'fd00::/8', '', '${Token[0]}'])(
    'rejects %p', text => {
      expect(parseIpv4Cidr(text)).toBeUndefined();
    });

  test('overlap is symmetric and includes touching edges only when an address is shared', () => {
    expect(rangesOverlap(r('10.0.0.0/19'), r('10.0.31.255/32'))).toBe(true);
    expect(rangesOverlap(r('10.0.31.255/32'), r('10.0.0.0/19'))).toBe(true);
    expect(rangesOverlap(r('10.0.0.0/19'), r('10.0.32.0/19'))).toBe(false);
    expect(rangesOverlap(r('10.0.0.0/8'), r('10.200.0.0/16'))).toBe(true);
    expect(rangesOverlap(r('0.0.0.0/0'), r('192.0.2.1/32'))).toBe(true);
    expect(rangesOverlap(r('172.16.0.0/12'), r('172.32.0.0/16'))).toBe(false);
  });

  test('containment: equal ranges contain each other, a subnet does not contain its supernet', () => {
    expect(rangeContains(r('10.0.0.0/16'), r('10.0.0.0/16'))).toBe(true);
    expect(rangeContains(r('10.0.0.0/8'), r('10.0.0.0/16'))).toBe(true);
    expect(rangeContains(r('10.0.0.0/17'), r('10.0.0.0/16'))).toBe(false);
    expect(rangeContains(r('0.0.0.0/0'), r('10.0.0.0/16'))).toBe(true);
  });

  test('subtraction yields the disjoint pieces an ipBlock with except matches', () => {
    expect(subtractRanges(r('10.0.0.0/16'), [r('10.0.0.0/17')]).map(formatRange)).toEqual(['10.0.128.0/17']);
    expect(subtractRanges(r('10.0.0.0/24'), [r('10.0.0.128/26')]).map(formatRange)).toEqual(['10.0.0.0/25', '10.0.0.192/26']);
    expect(subtractRanges(r('10.0.0.0/16'), [r('10.0.0.0/16')])).toEqual([]);
    expect(subtractRanges(r('10.0.0.0/16'), [r('192.168.0.0/16')]).map(formatRange)).toEqual(['10.0.0.0/16']);
    expect(subtractRanges(r('0.0.0.0/0'), [r('10.0.0.0/8'), r('192.168.0.0/16')]).map(formatRange))
      .toEqual(['0.0.0.0-9.255.255.255', '11.0.0.0-192.167.255.255', '192.169.0.0-255.255.255.255']);
  });

  test('formatting', () => {
    expect(formatRange(r('0.0.0.0/0'))).toBe('0.0.0.0/0');
    expect(formatRange(r('10.1.2.3/32'))).toBe('10.1.2.3/32');
    expect(formatRange({ first: 1, last: 2 })).toBe('0.0.0.1-0.0.0.2');
  });
});
