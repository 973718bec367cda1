/* eslint-disable no-bitwise */ // address and hash arithmetic
/** IPv4 and IPv6 CIDR containment, for NetworkPolicy ipBlock peers. */

/** Parses an address to a bigint and its bit width, or undefined when it is not an IP. */
export function parseIp(ip: string): { value: bigint; bits: number } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some(p => p > 255)) {
      return undefined;
    }
    return { value: parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n), bits: 32 };
  }
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    if (ip.split('::').length > 2 || (tail === undefined && h.length !== 8)) {
      return undefined;
    }
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    if (groups.length !== 8 || groups.some(g => !/^[0-9a-fA-F]{1,4}$/.test(g))) {
      return undefined;
    }
    return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
  }
  return undefined;
}

/** Whether `ip` lies in `cidr`; false for malformed input or mixed families. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base, lenText] = cidr.split('/');
  const net = parseIp(base);
  const addr = parseIp(ip);
  const len = Number(lenText);
  if (!net || !addr || net.bits !== addr.bits || !Number.isInteger(len) || len < 0 || len > net.bits) {
    return false;
  }
  const shift = BigInt(net.bits - len);
  return (net.value >> shift) === (addr.value >> shift);
}

/** Prefix length of a CIDR, or undefined when malformed. */
export function prefixLength(cidr: string): number | undefined {
  const [base, lenText] = cidr.split('/');
  const net = parseIp(base);
  const len = Number(lenText);
  return net && Number.isInteger(len) && len >= 0 && len <= net.bits ? len : undefined;
}

/** A public address of each family, standing for "the internet" when deciding whether an ipBlock opens a pod to it. */
export const INTERNET_SAMPLES = ['198.51.100.7', '2001:db8::7'];
