import { Token } from 'aws-cdk-lib';
import { PublicEndpointOptions } from './zero-trust-cluster-props';
import { parseIpv4Cidr } from '../checks/cidr';

/**
 * Checks the public endpoint option: literal IPv4 CIDRs, none of them the whole internet, and a
 * non-blank reason when given. Internal: not exported from the library.
 */
export function checkPublicEndpoint(path: string, options: PublicEndpointOptions): void {
  const cidrs = options.allowedCidrs;
  const fix = 'Fix: name your office or VPN CIDRs (literal IPv4, e.g. 203.0.113.0/24), or leave publicEndpoint out for a private endpoint.';
  if (!Array.isArray(cidrs) || cidrs.length === 0) {
    throw new Error(`ZeroTrustCluster '${path}': publicEndpoint.allowedCidrs must list the networks that may reach the API; EKS opens an empty list to 0.0.0.0/0 `
      + `(got ${JSON.stringify(cidrs)}). ${fix}`);
  }
  for (const cidr of cidrs) {
    if (typeof cidr !== 'string' || Token.isUnresolved(cidr)) {
      throw new Error(`ZeroTrustCluster '${path}': publicEndpoint.allowedCidrs holds ${JSON.stringify(cidr)}, which is not a literal CIDR, so neither the library `
        + `nor ZeroTrustChecks (ZT-EKS-1) can verify it at synth. ${fix}`);
    }
    const range = parseIpv4Cidr(cidr);
    if (cidr.trim().endsWith('/0') || (range && range.first === 0 && range.last === 2 ** 32 - 1)) {
      throw new Error(`ZeroTrustCluster '${path}': publicEndpoint.allowedCidrs must not contain ${cidr}, which admits the whole internet `
        + `(got ${JSON.stringify(cidrs)}). ${fix}`);
    }
    if (!range) {
      throw new Error(`ZeroTrustCluster '${path}': publicEndpoint.allowedCidrs holds '${cidr}', which is not an IPv4 CIDR a.b.c.d/n `
        + `(ZeroTrustChecks ZT-EKS-1 verifies IPv4 CIDRs only) (got ${JSON.stringify(cidrs)}). ${fix}`);
    }
  }
  if (options.reason !== undefined && options.reason.trim() === '') {
    throw new Error(`ZeroTrustCluster '${path}': publicEndpoint.reason must say why the endpoint is public (got ${JSON.stringify(options.reason)}). `
      + 'Fix: give the reason, e.g. \'CI runners outside the VPC until the VPN lands\', or leave reason out for the default.');
  }
}
