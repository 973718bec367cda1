/**
 * IPv4 CIDR arithmetic for the read-only checks (ZT-NET-1). Addresses are plain numbers in [0, 2^32 - 1];
 * no bitwise operators are used because JavaScript's are signed 32-bit.
 */

/** An inclusive range of IPv4 addresses. */
export interface Ipv4Range {
  readonly first: number;
  readonly last: number;
}

/**
 * Parses `a.b.c.d/n` (decimal octets 0-255 without leading zeros, prefix 0-32). Host bits are masked off, as
 * Kubernetes and the EC2 API do. Returns undefined for anything else, including IPv6.
 */
export function parseIpv4Cidr(cidr: string): Ipv4Range | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) {
    return undefined;
  }
  const octets = match.slice(1, 5);
  if (octets.some(o => Number(o) > 255 || (o.length > 1 && o.startsWith('0')))) {
    return undefined;
  }
  const prefix = Number(match[5]);
  if (prefix > 32 || (match[5].length > 1 && match[5].startsWith('0'))) {
    return undefined;
  }
  const address = octets.reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  return { first, last: first + size - 1 };
}

/** Formats a range back to CIDR text when it is a single block, else `first-last`. */
export function formatRange(range: Ipv4Range): string {
  const ip = (n: number) => [24, 16, 8, 0].map(shift => Math.floor(n / 2 ** shift) % 256).join('.');
  const size = range.last - range.first + 1;
  const prefix = 32 - Math.log2(size);
  if (Number.isInteger(prefix) && range.first % size === 0) {
    return `${ip(range.first)}/${prefix}`;
  }
  return `${ip(range.first)}-${ip(range.last)}`;
}

/** Whether two ranges share at least one address. */
export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** Whether `outer` holds every address of `inner` (equal ranges contain each other). */
export function rangeContains(outer: Ipv4Range, inner: Ipv4Range): boolean {
  return outer.first <= inner.first && inner.last <= outer.last;
}

/**
 * `base` minus every range in `holes`: the disjoint, sorted, non-adjacent pieces that remain. This is what an
 * ipBlock `{ cidr, except }` matches.
 */
export function subtractRanges(base: Ipv4Range, holes: readonly Ipv4Range[]): Ipv4Range[] {
  let pieces: Ipv4Range[] = [base];
  for (const hole of holes) {
    const next: Ipv4Range[] = [];
    for (const piece of pieces) {
      if (!rangesOverlap(piece, hole)) {
        next.push(piece);
        continue;
      }
      if (piece.first < hole.first) {
        next.push({ first: piece.first, last: hole.first - 1 });
      }
      if (hole.last < piece.last) {
        next.push({ first: hole.last + 1, last: piece.last });
      }
    }
    pieces = next;
  }
  return pieces.sort((a, b) => a.first - b.first);
}
