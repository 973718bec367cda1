/** IPv4 CIDR arithmetic for the network tests (independent of the code under test). */

export interface Range {
  readonly first: number;
  readonly last: number;
}

/** The first and last address of an IPv4 CIDR, as unsigned integers. */
export function range(cidr: string): Range {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (match === null) {
    throw new Error(`not an IPv4 CIDR: ${cidr}`);
  }
  const address = match.slice(1, 5).reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(match[5]));
  if (address % size !== 0) {
    throw new Error(`host bits set in ${cidr}`);
  }
  return { first: address, last: address + size - 1 };
}

/** True when `inner` lies entirely inside `outer`. */
export function contains(outer: string, inner: string): boolean {
  const o = range(outer);
  const i = range(inner);
  return o.first <= i.first && i.last <= o.last;
}

/** True when the two CIDRs share at least one address. */
export function overlaps(a: string, b: string): boolean {
  const x = range(a);
  const y = range(b);
  return x.first <= y.last && y.first <= x.last;
}
