import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ExistingNetworkTiersProps, INetworkTiers } from '../network-tiers';

/** How a tier of `ExistingNetworkTiersProps` is checked. */
interface TierRule {
  readonly field: 'ingressSubnets' | 'nodeSubnets' | 'dataSubnets' | 'controlPlaneSubnets' | 'internalLoadBalancerSubnets' | 'endpointSubnets' | 'scraperSubnets';
  readonly multiAz: boolean;
  /** The tier may be left out. */
  readonly optional?: boolean;
}

const TIER_RULES: TierRule[] = [
  { field: 'ingressSubnets', multiAz: false },
  { field: 'nodeSubnets', multiAz: true },
  { field: 'dataSubnets', multiAz: false },
  { field: 'controlPlaneSubnets', multiAz: true },
  { field: 'internalLoadBalancerSubnets', multiAz: false },
  { field: 'endpointSubnets', multiAz: false },
  { field: 'scraperSubnets', multiAz: true, optional: true },
];

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** True when `cidr` is a concrete IPv4 CIDR such as `10.0.0.0/16`. */
export function isConcreteIpv4Cidr(cidr: string): boolean {
  if (Token.isUnresolved(cidr)) {
    return false;
  }
  const m = IPV4_CIDR.exec(cidr);
  return m !== null && m.slice(1, 5).every((octet) => Number(octet) <= 255) && Number(m[5]) <= 32;
}

/** The first and last address of a concrete IPv4 CIDR, as unsigned integers. */
function addressRange(cidr: string): [number, number] {
  const [address, mask] = cidr.split('/');
  const first = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(mask));
  const start = first - (first % size);
  return [start, start + size - 1];
}

/** Reads an attribute of an imported subnet that may throw when it was not supplied at import. */
function readSubnetAttribute(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** The network tiers of a VPC the caller owns: validated data, no construct. */
class ExistingNetworkTiers implements INetworkTiers {
  public readonly vpc: ec2.IVpc;
  public readonly vpcCidr: string;
  public readonly ingressSubnets: ec2.ISubnet[];
  public readonly ingressCidrs: string[];
  public readonly nodeSubnets: ec2.ISubnet[];
  public readonly nodeCidrs: string[];
  public readonly dataSubnets: ec2.ISubnet[];
  public readonly dataCidrs: string[];
  public readonly controlPlaneSubnets: ec2.ISubnet[];
  public readonly controlPlaneCidrs: string[];
  public readonly internalLoadBalancerSubnets: ec2.ISubnet[];
  public readonly internalLoadBalancerCidrs: string[];
  public readonly endpointSubnets: ec2.ISubnet[];
  public readonly endpointCidrs: string[];
  public readonly scraperSubnets?: ec2.ISubnet[];
  public readonly scraperCidrs?: string[];
  public readonly endpointSecurityGroup?: ec2.ISecurityGroup;

  constructor(props: ExistingNetworkTiersProps) {
    const subject = 'SegmentedVpc.fromExistingTiers';
    const cidrs = new Map<string, string[]>();
    const owner = new Map<string, string>();
    const seen: Array<{ where: string; cidr: string; range: [number, number] }> = [];
    for (const rule of TIER_RULES) {
      const subnets = props[rule.field] ?? [];
      if (subnets.length === 0 && rule.optional) {
        continue;
      }
      if (subnets.length === 0) {
        throw new Error(`${subject}: ${rule.field} must name at least one subnet (got none). `
          + 'Fix: give every tier its own subnets; a cluster needs all six tiers to place nodes, control-plane ENIs, '
          + 'load balancers and endpoints apart.');
      }
      const tierCidrs: string[] = [];
      const zones = new Set<string>();
      subnets.forEach((subnet, i) => {
        const where = `${rule.field}[${i}] (${subnet.subnetId})`;
        const previous = owner.get(subnet.subnetId);
        if (previous !== undefined) {
          throw new Error(`${subject}: ${where} is also listed in ${previous}. `
            + 'Fix: give each tier dedicated subnets; NetworkPolicy ipBlocks on a tier are only safe when no pod shares its subnets.');
        }
        owner.set(subnet.subnetId, `${rule.field}`);
        const cidr = readSubnetAttribute(() => subnet.ipv4CidrBlock);
        if (cidr === undefined || !isConcreteIpv4Cidr(cidr)) {
          throw new Error(`${subject}: ${where} must have a concrete IPv4 CIDR (got ${cidr === undefined ? 'none' : `'${cidr}'`}). `
            + 'Fix: import it with ec2.Subnet.fromSubnetAttributes({ subnetId, availabilityZone, ipv4CidrBlock: \'10.0.0.0/19\' }); '
            + 'NetworkPolicies need concrete CIDRs at synth.');
        }
        const range = addressRange(cidr);
        const clash = seen.find((other) => other.range[0] <= range[1] && range[0] <= other.range[1]);
        if (clash !== undefined) {
          throw new Error(`${subject}: ${where} has CIDR ${cidr}, which overlaps ${clash.where} (got ${clash.cidr}). `
            + 'Fix: check the ipv4CidrBlock given when importing these subnets; subnets of one VPC never overlap.');
        }
        seen.push({ where, cidr, range });
        tierCidrs.push(cidr);
        const zone = readSubnetAttribute(() => subnet.availabilityZone);
        if (rule.multiAz && zone === undefined) {
          throw new Error(`${subject}: ${where} must know its availability zone (got none). `
            + 'Fix: import it with ec2.Subnet.fromSubnetAttributes({ subnetId, availabilityZone, ipv4CidrBlock }).');
        }
        if (zone !== undefined) {
          zones.add(zone);
        }
      });
      if (rule.multiAz && (subnets.length < 2 || zones.size < 2)) {
        throw new Error(`${subject}: ${rule.field} must span at least two availability zones `
          + `(got ${subnets.length} subnet(s) in ${zones.size} zone(s)). Fix: give at least one subnet in each of two or more zones; `
          + 'EKS requires control-plane subnets in two zones, and nodes in one zone are one outage away from none.');
      }
      cidrs.set(rule.field, tierCidrs);
    }

    const vpcCidr = props.vpcCidr ?? props.vpc.vpcCidrBlock;
    if (!isConcreteIpv4Cidr(vpcCidr)) {
      throw new Error(`${subject}: vpcCidr must be a concrete IPv4 CIDR (got '${vpcCidr}'). `
        + 'Fix: pass vpcCidr: \'10.0.0.0/16\' (the VPC\'s primary CIDR), or import the VPC with ec2.Vpc.fromLookup.');
    }

    this.vpc = props.vpc;
    this.vpcCidr = vpcCidr;
    this.ingressSubnets = [...props.ingressSubnets];
    this.ingressCidrs = cidrs.get('ingressSubnets')!;
    this.nodeSubnets = [...props.nodeSubnets];
    this.nodeCidrs = cidrs.get('nodeSubnets')!;
    this.dataSubnets = [...props.dataSubnets];
    this.dataCidrs = cidrs.get('dataSubnets')!;
    this.controlPlaneSubnets = [...props.controlPlaneSubnets];
    this.controlPlaneCidrs = cidrs.get('controlPlaneSubnets')!;
    this.internalLoadBalancerSubnets = [...props.internalLoadBalancerSubnets];
    this.internalLoadBalancerCidrs = cidrs.get('internalLoadBalancerSubnets')!;
    this.endpointSubnets = [...props.endpointSubnets];
    this.endpointCidrs = cidrs.get('endpointSubnets')!;
    this.scraperSubnets = props.scraperSubnets && props.scraperSubnets.length > 0 ? [...props.scraperSubnets] : undefined;
    this.scraperCidrs = cidrs.get('scraperSubnets');
    this.endpointSecurityGroup = props.endpointSecurityGroup;
  }
}

/** Validates the tiers of an existing VPC and returns them as `INetworkTiers`. Creates nothing. */
export function existingNetworkTiers(props: ExistingNetworkTiersProps): INetworkTiers {
  return new ExistingNetworkTiers(props);
}
