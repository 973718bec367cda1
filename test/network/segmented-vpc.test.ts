import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { contains, overlaps } from './cidr-helpers';
import { AwsEndpoints } from '../../lib/network/aws-endpoints';
import { INetworkTiers, NetworkTier } from '../../lib/network/network-tiers';
import { SegmentedVpc, SegmentedVpcProps } from '../../lib/network/segmented-vpc';

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

function build(props: SegmentedVpcProps = {}): { stack: Stack; network: SegmentedVpc } {
  const stack = new Stack(new App(), 'Test');
  return { stack, network: new SegmentedVpc(stack, 'Network', props) };
}

/** The logical id behind a token such as `subnet.subnetId`. */
function logicalId(stack: Stack, token: string): string {
  return stack.resolve(token).Ref;
}

function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

function tagsOf(resource: { Properties: Record<string, any> }): Record<string, string> {
  return Object.fromEntries((resource.Properties.Tags ?? []).map((t: { Key: string; Value: string }) => [t.Key, t.Value]));
}

const TIER_SIZES: Array<[string, string, number]> = [
  ['Ingress', 'Public', 24], ['Nodes', 'Private', 19], ['Data', 'Isolated', 24],
  ['ControlPlane', 'Private', 28], ['InternalLb', 'Isolated', 26], ['Endpoints', 'Isolated', 27], ['Scraper', 'Isolated', 28],
];

describe('SegmentedVpc with defaults', () => {
  const { stack, network } = build();
  const template = Template.fromStack(stack);
  const subnets = resourcesOf(template, 'AWS::EC2::Subnet');

  test('one VPC on 10.0.0.0/16 with DNS support and hostnames (a private EKS endpoint needs both)', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16', EnableDnsSupport: true, EnableDnsHostnames: true });
    expect(network.vpcCidr).toBe('10.0.0.0/16');
    expect(network.vpc).toBe(network.concreteVpc);
  });

  test.each(TIER_SIZES)('tier %s is %s, /%d, one subnet in each of two zones', (name, type, mask) => {
    const tier = Object.values(subnets).filter((s) => tagsOf(s)['aws-cdk:subnet-name'] === name);
    expect(tier).toHaveLength(2);
    for (const subnet of tier) {
      expect(tagsOf(subnet)['aws-cdk:subnet-type']).toBe(type);
      expect(subnet.Properties.CidrBlock).toMatch(new RegExp(`/${mask}$`));
    }
    expect(new Set(tier.map((s) => JSON.stringify(s.Properties.AvailabilityZone))).size).toBe(2);
  });

  test('exactly the seven tiers exist (14 subnets)', () => {
    template.resourceCountIs('AWS::EC2::Subnet', 14);
    expect(new Set(Object.values(subnets).map((s) => tagsOf(s)['aws-cdk:subnet-name'])))
      .toEqual(new Set(['Ingress', 'Nodes', 'Data', 'ControlPlane', 'InternalLb', 'Endpoints', 'Scraper']));
  });

  test('exposed subnets and CIDRs match the template, per tier and in order', () => {
    const tiers: Array<[string, ec2.ISubnet[], string[]]> = [
      ['Ingress', network.ingressSubnets, network.ingressCidrs], ['Nodes', network.nodeSubnets, network.nodeCidrs],
      ['Data', network.dataSubnets, network.dataCidrs], ['ControlPlane', network.controlPlaneSubnets, network.controlPlaneCidrs],
      ['InternalLb', network.internalLoadBalancerSubnets, network.internalLoadBalancerCidrs],
      ['Endpoints', network.endpointSubnets, network.endpointCidrs],
      ['Scraper', network.scraperSubnets!, network.scraperCidrs!],
    ];
    for (const [name, tierSubnets, cidrs] of tiers) {
      expect(tierSubnets).toHaveLength(2);
      const resources = tierSubnets.map((s) => subnets[logicalId(stack, s.subnetId)]);
      expect(resources.map((r) => tagsOf(r)['aws-cdk:subnet-name'])).toEqual([name, name]);
      expect(resources.map((r) => r.Properties.CidrBlock)).toEqual(cidrs);
    }
  });

  test('CIDRs are concrete, deterministic, inside the VPC CIDR and disjoint', () => {
    const all = [network.ingressCidrs, network.nodeCidrs, network.dataCidrs, network.controlPlaneCidrs,
      network.internalLoadBalancerCidrs, network.endpointCidrs, network.scraperCidrs!].flat();
    expect(all).toHaveLength(14);
    for (const cidr of all) {
      expect(cidr).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
      expect(contains(network.vpcCidr, cidr)).toBe(true);
    }
    all.forEach((a, i) => all.slice(i + 1).forEach((b) => expect([a, b, overlaps(a, b)]).toEqual([a, b, false])));
    expect(network.nodeCidrs).toEqual(['10.0.0.0/19', '10.0.32.0/19']);
    expect(network.ingressCidrs).toEqual(['10.0.64.0/24', '10.0.65.0/24']);
    expect(network.dataCidrs).toEqual(['10.0.66.0/24', '10.0.67.0/24']);
    expect(network.internalLoadBalancerCidrs).toEqual(['10.0.68.0/26', '10.0.68.64/26']);
    expect(network.endpointCidrs).toEqual(['10.0.68.128/27', '10.0.68.160/27']);
    expect(network.controlPlaneCidrs).toEqual(['10.0.68.192/28', '10.0.68.208/28']);
    // Appended last: adding the tier moved no earlier subnet (an existing VPC keeps its subnets).
    expect(network.scraperCidrs).toEqual(['10.0.68.224/28', '10.0.68.240/28']);
  });

  test('the Scraper tier is isolated: its route tables have no default route (no NAT, no IGW)', () => {
    const scraperIds = new Set(network.scraperSubnets!.map((s) => logicalId(stack, s.subnetId)));
    const tables = new Set(Object.values(resourcesOf(template, 'AWS::EC2::SubnetRouteTableAssociation'))
      .filter((a) => scraperIds.has(a.Properties.SubnetId.Ref)).map((a) => a.Properties.RouteTableId.Ref));
    expect(tables.size).toBe(2);
    const routes = Object.values(resourcesOf(template, 'AWS::EC2::Route')).filter((r) => tables.has(r.Properties.RouteTableId.Ref));
    expect(routes).toEqual([]);
    expect(new Set(network.scraperSubnets!.map((s) => s.availabilityZone)).size).toBe(2);
  });

  test('load-balancer role tags sit on the Ingress and InternalLb subnets only (not on NAT gateways or EIPs)', () => {
    for (const subnet of Object.values(subnets)) {
      const tags = tagsOf(subnet);
      expect(tags['kubernetes.io/role/elb']).toBe(tags['aws-cdk:subnet-name'] === 'Ingress' ? '1' : undefined);
      expect(tags['kubernetes.io/role/internal-elb']).toBe(tags['aws-cdk:subnet-name'] === 'InternalLb' ? '1' : undefined);
    }
    for (const type of ['AWS::EC2::NatGateway', 'AWS::EC2::EIP']) {
      for (const resource of Object.values(resourcesOf(template, type))) {
        expect(tagsOf(resource)['kubernetes.io/role/elb']).toBeUndefined();
      }
    }
  });

  test('VPC-01: no subnet maps public IPs on launch, not even the Ingress tier', () => {
    for (const subnet of Object.values(subnets)) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
  });

  test('VPC-01: node and control-plane route tables send 0.0.0.0/0 to a NAT gateway, never to the IGW', () => {
    const routes = Object.values(resourcesOf(template, 'AWS::EC2::Route'));
    const igw = Object.keys(resourcesOf(template, 'AWS::EC2::InternetGateway'));
    expect(igw).toHaveLength(1);
    const routeTables = (tier: ec2.ISubnet[]): string[] => tier.map((s) => logicalId(stack, s.routeTable.routeTableId));
    for (const table of [...routeTables(network.nodeSubnets), ...routeTables(network.controlPlaneSubnets)]) {
      const own = routes.filter((r) => r.Properties.RouteTableId.Ref === table);
      expect(own).toHaveLength(1);
      expect(own[0].Properties).toEqual({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: { Ref: expect.any(String) }, RouteTableId: { Ref: table } });
    }
    const igwRoutes = routes.filter((r) => r.Properties.GatewayId !== undefined);
    expect(igwRoutes.map((r) => r.Properties.RouteTableId.Ref).sort()).toEqual(routeTables(network.ingressSubnets).sort());
    for (const table of [...routeTables(network.dataSubnets), ...routeTables(network.internalLoadBalancerSubnets),
      ...routeTables(network.endpointSubnets)]) {
      expect(routes.filter((r) => r.Properties.RouteTableId.Ref === table)).toEqual([]);
    }
  });

  test('one NAT gateway per zone by default', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
  });

  test('VPC-02: flow log of ALL traffic of the VPC into a KMS-encrypted log group with one-year retention', () => {
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    const vpcId = Object.keys(resourcesOf(template, 'AWS::EC2::VPC'))[0];
    const groupId = Object.keys(resourcesOf(template, 'AWS::Logs::LogGroup'))[0];
    const keyId = Object.keys(resourcesOf(template, 'AWS::KMS::Key'))[0];
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      ResourceId: { Ref: vpcId },
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: groupId },
    });
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] }, RetentionInDays: 365, LogGroupName: Match.stringLikeRegexp('^/aws/vpc/flowlogs/Test/') },
      DeletionPolicy: 'Retain',
    });
  });

  test('VPC-02: the created key rotates, is retained, and lets logs.<region> use it only for this log group', () => {
    const groupName = network.flowLogGroup.node.defaultChild as logs.CfnLogGroup;
    template.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([{
          Sid: 'AllowLogsForVpcFlowLogsOfTestNetworkDFC5FB2C',
          Effect: 'Allow',
          Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
          Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
          Resource: '*',
          Condition: {
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' },
                  `:log-group:${groupName.logGroupName}`]],
              },
            },
          },
        }]),
      },
    });
  });

  test('VPC-03: the default security group is stripped by Custom::VpcRestrictDefaultSG', () => {
    template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
    const vpcId = Object.keys(resourcesOf(template, 'AWS::EC2::VPC'))[0];
    template.hasResourceProperties('Custom::VpcRestrictDefaultSG', { DefaultSecurityGroupId: { 'Fn::GetAtt': [vpcId, 'DefaultSecurityGroup'] } });
  });

  test('VPC-05: one interface endpoint per default service, private DNS on, in the Endpoints subnets, behind the endpoint SG', () => {
    const endpointSubnetRefs = network.endpointSubnets.map((s) => ({ Ref: logicalId(stack, s.subnetId) }));
    const sgId = stack.resolve(network.endpointSecurityGroup!.securityGroupId);
    const interfaces = Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint')).filter((e) => e.Properties.VpcEndpointType === 'Interface');
    const services = interfaces.map((e) => e.Properties.ServiceName['Fn::Join'][1][2]);
    expect(services).toEqual(['.ecr.api', '.ecr.dkr', '.sts', '.ec2', '.logs', '.eks', '.eks-auth', '.elasticloadbalancing', '.s3',
      '.ssm', '.ssmmessages', '.ec2messages', '.kms', '.autoscaling', '.sns', '.monitoring']);
    for (const endpoint of interfaces) {
      expect(endpoint.Properties).toMatchObject({ PrivateDnsEnabled: true, SubnetIds: endpointSubnetRefs, SecurityGroupIds: [sgId] });
    }
    expect(network.interfaceEndpoints).toHaveLength(16);
  });

  test('VPC-05: the S3 interface endpoint answers in-VPC names too (AllResolvers), so pods reach it on the endpoint subnets', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      DnsOptions: { PrivateDnsOnlyForInboundResolverEndpoint: 'AllResolvers' },
    });
    const withDnsOptions = Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint')).filter((e) => e.Properties.DnsOptions !== undefined);
    expect(withDnsOptions).toHaveLength(1);
  });

  test('VPC-05: an S3 gateway endpoint on exactly the Nodes route tables', () => {
    const nodeTables = network.nodeSubnets.map((s) => ({ Ref: logicalId(stack, s.routeTable.routeTableId) }));
    template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 1);
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      RouteTableIds: nodeTables,
    });
  });

  test('VPC-06: the endpoint SG admits nothing until allowEndpointAccessFrom, and sends nothing', () => {
    template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [{ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp', FromPort: 252, ToPort: 86, Description: 'Disallow all traffic' }],
    });
  });

  test('the defaults are what AwsEndpoints.defaultInterfaceServices() lists, and a fresh copy each call', () => {
    const names = AwsEndpoints.defaultInterfaceServices().map((s) => s.shortName);
    expect(names).toEqual(['ecr.api', 'ecr.dkr', 'sts', 'ec2', 'logs', 'eks', 'eks-auth', 'elasticloadbalancing', 's3',
      'ssm', 'ssmmessages', 'ec2messages', 'kms', 'autoscaling', 'sns', 'monitoring']);
    expect(AwsEndpoints.defaultInterfaceServices()).not.toBe(AwsEndpoints.defaultInterfaceServices());
  });

  test('it is an INetworkTiers a cluster can consume, and NetworkTier names select the tiers', () => {
    const tiers: INetworkTiers = network;
    expect(tiers.endpointSecurityGroup).toBe(network.endpointSecurityGroup);
    expect(network.vpc.selectSubnets({ subnetGroupName: NetworkTier.CONTROL_PLANE }).subnets).toEqual(network.controlPlaneSubnets);
  });

  test('synthesizes without warnings or errors', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  test('matches the reviewed snapshot (asset hashes masked)', () => {
    const json = JSON.stringify(template.toJSON(), null, 1).replace(/[0-9a-f]{64}\.zip/g, '<asset-hash>.zip');
    expect(JSON.parse(json)).toMatchSnapshot();
  });
});

describe('allowEndpointAccessFrom', () => {
  test('VPC-06: adds TCP 443 from the peer security group only, and the matching egress on a closed peer SG', () => {
    const { stack, network } = build();
    const nodes = new ec2.SecurityGroup(stack, 'NodeSg', { vpc: network.vpc, allowAllOutbound: false });
    network.allowEndpointAccessFrom(nodes);
    const template = Template.fromStack(stack);
    const endpointSg = stack.resolve(network.endpointSecurityGroup!.securityGroupId);
    const nodeSg = stack.resolve(nodes.securityGroupId);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 443, ToPort: 443, GroupId: endpointSg, SourceSecurityGroupId: nodeSg, CidrIp: Match.absent(),
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      IpProtocol: 'tcp', FromPort: 443, ToPort: 443, GroupId: nodeSg, DestinationSecurityGroupId: endpointSg,
    });
  });

  test('VPC-04: no security group anywhere admits 0.0.0.0/0 or ::/0, even after access is granted', () => {
    const { stack, network } = build();
    network.allowEndpointAccessFrom(new ec2.SecurityGroup(stack, 'PodSg', { vpc: network.vpc }));
    const template = Template.fromStack(stack);
    const inline = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroup')).flatMap((sg) => sg.Properties.SecurityGroupIngress ?? []);
    const standalone = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    for (const rule of [...inline, ...standalone]) {
      expect(rule.CidrIp).toBeUndefined();
      expect(rule.CidrIpv6).toBeUndefined();
    }
    expect(standalone).toHaveLength(1);
  });

  test('rejects a peer without a security group (a CIDR is never admitted)', () => {
    const { network } = build();
    expect(() => network.allowEndpointAccessFrom(new ec2.Connections({ peer: ec2.Peer.ipv4('10.0.0.0/8') })))
      .toThrow("SegmentedVpc 'Network': allowEndpointAccessFrom needs a peer with a security group (got a peer with none). Fix:");
  });
});

describe('SegmentedVpc props', () => {
  test('interfaceEndpoints replaces the default list (a constant and a hand-made service)', () => {
    const { stack } = build({
      interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.STS, new ec2.InterfaceVpcEndpointAwsService('eks-auth')],
    });
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 2);
    template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 1);
    for (const svc of ['.sts', '.eks-auth']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, svc]] }, PrivateDnsEnabled: true,
      });
    }
  });

  test('rejects a service listed twice', () => {
    expect(() => build({ interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.EKS_AUTH, new ec2.InterfaceVpcEndpointAwsService('eks-auth')] }))
      .toThrow("SegmentedVpc 'Network': interfaceEndpoints lists 'eks-auth' twice");
  });

  test('natGateways and a custom CIDR are honoured', () => {
    const { stack, network } = build({ natGateways: 1, ipAddresses: ec2.IpAddresses.cidr('10.20.0.0/16') });
    Template.fromStack(stack).resourceCountIs('AWS::EC2::NatGateway', 1);
    expect(network.vpcCidr).toBe('10.20.0.0/16');
    expect(network.nodeCidrs).toEqual(['10.20.0.0/19', '10.20.32.0/19']);
  });

  test('maxAzs 3 with a region spreads every tier over three zones with three NAT gateways', () => {
    // The zones come from context, as `cdk.context.json` would hold them: no lookup.
    const zones = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
    const app = new App({ context: { 'availability-zones:account=111111111111:region=eu-west-1': zones } });
    const stack = new Stack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
    const network = new SegmentedVpc(stack, 'Network', { maxAzs: 3 });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::Subnet', 21);
    template.resourceCountIs('AWS::EC2::NatGateway', 3);
    expect(network.nodeSubnets.map((s) => s.availabilityZone)).toEqual(zones);
    expect(network.controlPlaneSubnets.map((s) => s.availabilityZone)).toEqual(zones);
    expect(app.synth().manifest.missing).toBeUndefined();
  });

  test('maxAzs 3 in an environment-agnostic stack warns that only two zones are known', () => {
    const { stack } = build({ maxAzs: 3 });
    Annotations.fromStack(stack).hasWarning('/Test/Network', Match.stringLikeRegexp('maxAzs is 3 but the stack offers only 2'));
  });

  test('flowLogsRetention is honoured; INFINITE is rejected', () => {
    const { stack } = build({ flowLogsRetention: logs.RetentionDays.THREE_MONTHS });
    Template.fromStack(stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    expect(() => build({ flowLogsRetention: logs.RetentionDays.INFINITE }))
      .toThrow("SegmentedVpc 'Network': flowLogsRetention must be finite (got INFINITE). Fix:");
  });

  test('a given kms.Key encrypts the group and receives the logs grant; no key is created', () => {
    const stack = new Stack(new App(), 'Test');
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const network = new SegmentedVpc(stack, 'Network', { flowLogsEncryptionKey: key });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(network.flowLogsEncryptionKey).toBe(key);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: stack.resolve(key.keyArn) });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowLogsForVpcFlowLogsOfTestNetworkDFC5FB2C' })]) },
    });
  });

  test('two SegmentedVpcs may share one key: each adds its own uniquely named, log-group-scoped statement', () => {
    const stack = new Stack(new App(), 'Test');
    const key = new kms.Key(stack, 'SharedKey', { enableKeyRotation: true });
    new SegmentedVpc(stack, 'Blue', { flowLogsEncryptionKey: key });
    new SegmentedVpc(stack, 'Green', { flowLogsEncryptionKey: key, ipAddresses: ec2.IpAddresses.cidr('10.1.0.0/16') });
    const policy = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::KMS::Key'))[0].Properties.KeyPolicy;
    const sids = policy.Statement.map((s: { Sid?: string }) => s.Sid).filter((sid: string | undefined) => sid !== undefined);
    expect(sids).toEqual([
      expect.stringMatching(/^AllowLogsForVpcFlowLogsOfTestBlue[0-9A-F]{8}$/), expect.stringMatching(/^AllowLogsForVpcFlowLogsOfTestGreen[0-9A-F]{8}$/),
    ]);
  });

  test('an imported key is used as is, with a warning that its owner must grant CloudWatch Logs', () => {
    const stack = new Stack(new App(), 'Test');
    const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    new SegmentedVpc(stack, 'Network', { flowLogsEncryptionKey: key });
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 0);
    Annotations.fromStack(stack).hasWarning('/Test/Network', Match.stringLikeRegexp('flowLogsEncryptionKey is imported'));
  });
});

describe('SegmentedVpc validation', () => {
  test.each([1, 0, 2.5])('rejects maxAzs %p', (maxAzs) => {
    expect(() => build({ maxAzs })).toThrow(`SegmentedVpc 'Network': maxAzs must be at least 2 (got ${maxAzs}). Fix: set maxAzs to 2 or more`);
  });

  test.each([0, 3])('rejects natGateways %p with two zones', (natGateways) => {
    expect(() => build({ natGateways })).toThrow(`SegmentedVpc 'Network': natGateways must be between 1 and maxAzs (2) (got ${natGateways}).`);
  });

  test('rejects a stack whose region context knows a single zone', () => {
    const app = new App({ context: { 'availability-zones:account=111111111111:region=eu-west-1': ['eu-west-1a'] } });
    const stack = new Stack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
    expect(() => new SegmentedVpc(stack, 'Network')).toThrow("SegmentedVpc 'Network': the stack must offer at least 2 availability zones (got 1). Fix:");
  });

  test('rejects IPAM allocation: subnet CIDRs would be unknown at synth', () => {
    const ipAddresses = ec2.IpAddresses.awsIpamAllocation({
      ipv4IpamPoolId: 'ipam-pool-0123456789abcdef0', ipv4NetmaskLength: 16, defaultSubnetIpv4NetmaskLength: 24,
    });
    expect(() => build({ ipAddresses })).toThrow(/^SegmentedVpc 'Network': vpcCidr must be concrete at synth \(got none\)\. Fix: use ipAddresses/);
  });
});
