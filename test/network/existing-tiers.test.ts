import { App, CfnElement, Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ExistingNetworkTiersProps } from '../../lib/network/network-tiers';
import { SegmentedVpc } from '../../lib/network/segmented-vpc';

/** A VPC someone else owns, imported without lookups, with two subnets per tier. */
function existing(): { stack: Stack; props: ExistingNetworkTiersProps } {
  const stack = new Stack(new App(), 'Test');
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0', vpcCidrBlock: '10.1.0.0/16', availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  });
  let n = 0;
  const pair = (third: number, mask: number): ec2.ISubnet[] => ['eu-west-1a', 'eu-west-1b'].map((availabilityZone, i) => {
    n += 1;
    const size = 2 ** (32 - mask);
    const offset = third * 256 + i * size;
    const cidr = `10.1.${Math.floor(offset / 256)}.${offset % 256}/${mask}`;
    return ec2.Subnet.fromSubnetAttributes(stack, `Subnet${n}`, { subnetId: `subnet-${n}`, availabilityZone, ipv4CidrBlock: cidr });
  });
  const props: ExistingNetworkTiersProps = {
    vpc,
    ingressSubnets: pair(0, 24),
    nodeSubnets: pair(32, 19),
    dataSubnets: pair(2, 24),
    controlPlaneSubnets: pair(6, 28),
    internalLoadBalancerSubnets: pair(7, 26),
    endpointSubnets: pair(8, 27),
  };
  return { stack, props };
}

describe('SegmentedVpc.fromExistingTiers', () => {
  test('returns the named tiers with their concrete CIDRs and creates nothing', () => {
    const { stack, props } = existing();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'EndpointSg', 'sg-0123456789abcdef0');
    const tiers = SegmentedVpc.fromExistingTiers({ ...props, endpointSecurityGroup: sg });
    expect(tiers.vpc).toBe(props.vpc);
    expect(tiers.vpcCidr).toBe('10.1.0.0/16');
    expect(tiers.nodeSubnets).toEqual(props.nodeSubnets);
    expect(tiers.nodeCidrs).toEqual(['10.1.32.0/19', '10.1.64.0/19']);
    expect(tiers.ingressCidrs).toEqual(['10.1.0.0/24', '10.1.1.0/24']);
    expect(tiers.dataCidrs).toEqual(['10.1.2.0/24', '10.1.3.0/24']);
    expect(tiers.controlPlaneCidrs).toEqual(['10.1.6.0/28', '10.1.6.16/28']);
    expect(tiers.internalLoadBalancerCidrs).toEqual(['10.1.7.0/26', '10.1.7.64/26']);
    expect(tiers.endpointCidrs).toEqual(['10.1.8.0/27', '10.1.8.32/27']);
    expect(tiers.endpointSecurityGroup).toBe(sg);
    // Imports only: not one CloudFormation element in the stack (synthesizing an empty stack would only warn).
    expect(stack.node.findAll().filter((c) => CfnElement.isCfnElement(c))).toEqual([]);
  });

  test('endpointSecurityGroup is optional; vpcCidr may be given explicitly', () => {
    const { props } = existing();
    const tiers = SegmentedVpc.fromExistingTiers({ ...props, vpcCidr: '10.1.0.0/16' });
    expect(tiers.endpointSecurityGroup).toBeUndefined();
  });

  test('scraperSubnets are optional: absent, the tiers have no scraper subnets or CIDRs', () => {
    const { props } = existing();
    const tiers = SegmentedVpc.fromExistingTiers(props);
    expect(tiers.scraperSubnets).toBeUndefined();
    expect(tiers.scraperCidrs).toBeUndefined();
  });

  test('scraperSubnets, when given, are validated like the other tiers and exposed with their CIDRs', () => {
    const { stack, props } = existing();
    const scraper = ['eu-west-1a', 'eu-west-1b'].map((availabilityZone, i) => ec2.Subnet.fromSubnetAttributes(stack, `Scraper${i}`, {
      subnetId: `subnet-scraper-${i}`, availabilityZone, ipv4CidrBlock: `10.1.9.${i * 16}/28`,
    }));
    const tiers = SegmentedVpc.fromExistingTiers({ ...props, scraperSubnets: scraper });
    expect(tiers.scraperSubnets).toEqual(scraper);
    expect(tiers.scraperCidrs).toEqual(['10.1.9.0/28', '10.1.9.16/28']);
    // A scraper subnet that is also a node subnet would let pods in: rejected.
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, scraperSubnets: [props.nodeSubnets[0], scraper[1]] }))
      .toThrow('SegmentedVpc.fromExistingTiers: scraperSubnets[0] (subnet-3) is also listed in nodeSubnets');
    // One zone is rejected: the managed collector needs two.
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, scraperSubnets: [scraper[0]] }))
      .toThrow('SegmentedVpc.fromExistingTiers: scraperSubnets must span at least two availability zones (got 1 subnet(s) in 1 zone(s))');
  });

  test.each([
    'ingressSubnets', 'nodeSubnets', 'dataSubnets', 'controlPlaneSubnets', 'internalLoadBalancerSubnets', 'endpointSubnets',
  ] as const)('rejects a missing tier: %s', (field) => {
    const { props } = existing();
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, [field]: [] }))
      .toThrow(`SegmentedVpc.fromExistingTiers: ${field} must name at least one subnet (got none). Fix:`);
  });

  test('rejects a subnet shared by two tiers', () => {
    const { props } = existing();
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, endpointSubnets: [props.nodeSubnets[0]] }))
      .toThrow('SegmentedVpc.fromExistingTiers: endpointSubnets[0] (subnet-3) is also listed in nodeSubnets. Fix: give each tier dedicated subnets');
  });

  test('rejects subnets whose CIDRs overlap (a mistyped ipv4CidrBlock would mislead every NetworkPolicy)', () => {
    const { stack, props } = existing();
    const wrong = ec2.Subnet.fromSubnetAttributes(stack, 'Wrong', {
      subnetId: 'subnet-wrong', availabilityZone: 'eu-west-1a', ipv4CidrBlock: '10.1.40.0/27',
    });
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, endpointSubnets: [wrong] }))
      .toThrow('SegmentedVpc.fromExistingTiers: endpointSubnets[0] (subnet-wrong) has CIDR 10.1.40.0/27, which overlaps nodeSubnets[0] '
        + '(subnet-3) (got 10.1.32.0/19). Fix:');
  });

  test('rejects a subnet whose CIDR is an unresolved token, naming the field', () => {
    const { stack, props } = existing();
    const tokenCidr = ec2.Subnet.fromSubnetAttributes(stack, 'TokenCidr', {
      subnetId: 'subnet-token', availabilityZone: 'eu-west-1a', ipv4CidrBlock: Fn.importValue('EndpointCidr'),
    });
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, endpointSubnets: [tokenCidr] }))
      .toThrow(/^SegmentedVpc\.fromExistingTiers: endpointSubnets\[0\] \(subnet-token\) must have a concrete IPv4 CIDR \(got '\$\{Token\[/);
  });

  test('rejects a subnet imported without a CIDR', () => {
    const { stack, props } = existing();
    const bare = ec2.Subnet.fromSubnetId(stack, 'Bare', 'subnet-bare');
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, controlPlaneSubnets: [props.controlPlaneSubnets[0], bare] }))
      .toThrow('SegmentedVpc.fromExistingTiers: controlPlaneSubnets[1] (subnet-bare) must have a concrete IPv4 CIDR (got none). Fix:');
  });

  test('rejects node or control-plane tiers in a single zone', () => {
    const { stack, props } = existing();
    const sameZone = ec2.Subnet.fromSubnetAttributes(stack, 'SameZone', {
      subnetId: 'subnet-same-zone', availabilityZone: 'eu-west-1a', ipv4CidrBlock: '10.1.96.0/19',
    });
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, nodeSubnets: [props.nodeSubnets[0], sameZone] }))
      .toThrow('SegmentedVpc.fromExistingTiers: nodeSubnets must span at least two availability zones (got 2 subnet(s) in 1 zone(s)).');
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, controlPlaneSubnets: [props.controlPlaneSubnets[0]] }))
      .toThrow('SegmentedVpc.fromExistingTiers: controlPlaneSubnets must span at least two availability zones (got 1 subnet(s) in 1 zone(s)).');
  });

  test('rejects a VPC CIDR that is not concrete, naming vpcCidr', () => {
    const { props } = existing();
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, vpcCidr: Fn.importValue('VpcCidr') }))
      .toThrow(/^SegmentedVpc\.fromExistingTiers: vpcCidr must be a concrete IPv4 CIDR \(got '\$\{Token\[.*Fix: pass vpcCidr/);
    expect(() => SegmentedVpc.fromExistingTiers({ ...props, vpcCidr: '10.1.0.0' }))
      .toThrow("SegmentedVpc.fromExistingTiers: vpcCidr must be a concrete IPv4 CIDR (got '10.1.0.0').");
  });
});
