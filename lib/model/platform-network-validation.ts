import { declarationError } from './errors';
import { PlatformNetworkProps } from './platform-network';

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Checks the scraper CIDRs: each a concrete IPv4 CIDR no wider than a /16 (a dedicated subnet is
 * small; anything wider would take in the node subnets, whose addresses are pod addresses).
 */
export function validatePlatformNetwork(subject: string, net: PlatformNetworkProps): void {
  for (const cidr of net.scraperCidrs ?? []) {
    const m = IPV4_CIDR.exec(typeof cidr === 'string' ? cidr : '');
    const valid = m !== null && m.slice(1, 5).every(o => Number(o) <= 255) && Number(m[5]) <= 32;
    if (!valid) {
      throw declarationError(subject, 'platformNetwork.scraperCidrs', cidr, 'must be a concrete IPv4 CIDR',
        "pass the scraper subnets' CIDRs, e.g. SegmentedVpc.scraperCidrs or '10.0.255.0/28'");
    }
    if (Number(m![5]) < 16) {
      throw declarationError(subject, 'platformNetwork.scraperCidrs', cidr, 'is wider than a /16, so it would admit pod addresses to the sidecar metrics ports',
        'name only the dedicated scraper subnets (no pods live there), e.g. two /28s');
    }
  }
}
