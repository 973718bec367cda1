import { CfnResource } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { baseline, DEFAULT_DENY, expectCompliant, expectViolations, ipBlockPolicy, KUBERNETES_RESOURCE, synthWithChecks, validateTemplate } from './support';
import { ipBlockProblem, manifestObjects } from '../../lib/checks/network-policy-rules';

/** Baseline (VPC 10.0.0.0/16, node subnet 10.0.0.0/19, control-plane subnet 10.0.240.0/28) plus one policy. */
function withPolicy(policy: unknown) {
  return synthWithChecks(stack => {
    const { manifest } = baseline(stack);
    manifest.addPropertyOverride('Manifest', JSON.stringify([DEFAULT_DENY, policy]));
  });
}

describe('ZT-NET-1 ipBlocks name only subnets where no pod lives', () => {
  test('an ipBlock on the control-plane subnet (the baseline) is compliant', () => {
    expectCompliant(withPolicy(ipBlockPolicy('webhook', { cidr: '10.0.240.0/28' })));
  });

  test('an ipBlock inside a node subnet is a violation on the manifest resource', () => {
    const result = withPolicy(ipBlockPolicy('by-pod-ip', { cidr: '10.0.3.7/32' }));
    expectViolations(result, [['ZT-NET-1', 'Policies']]);
    expect(result.violations[0].description).toMatch(
      /NetworkPolicy istio-system\/by-pod-ip ingress\[0\]\.from\[0\]\.ipBlock: 10\.0\.3\.7\/32 overlaps node subnet NodeSubnet \(10\.0\.0\.0\/19\)/);
  });

  test('an egress ipBlock over a supernet of the node subnet is a violation', () => {
    const result = withPolicy(ipBlockPolicy('wide-egress', { cidr: '10.0.0.0/18' }, 'egress'));
    expectViolations(result, [['ZT-NET-1', 'Policies']]);
    expect(result.violations[0].description).toMatch(/egress\[0\]\.to\[0\]\.ipBlock: 10\.0\.0\.0\/18 overlaps node subnet NodeSubnet/);
  });

  test('the VPC CIDR itself is a violation (equals the VPC CIDR and overlaps the node subnet)', () => {
    const result = withPolicy(ipBlockPolicy('vpc', { cidr: '10.0.0.0/16' }));
    expectViolations(result, [['ZT-NET-1', 'Policies']]);
    expect(result.violations[0].description).toMatch(/overlaps node subnet NodeSubnet \(10\.0\.0\.0\/19\) and equals VPC CIDR 10\.0\.0\.0\/16 of Vpc/);
  });

  test('0.0.0.0/0 is a violation (contains the VPC)', () => {
    const result = withPolicy(ipBlockPolicy('internet', { cidr: '0.0.0.0/0' }, 'egress'));
    expectViolations(result, [['ZT-NET-1', 'Policies']]);
    expect(result.violations[0].description).toMatch(/contains VPC CIDR 10\.0\.0\.0\/16/);
  });

  test('0.0.0.0/0 except the VPC CIDR is compliant (the internet, no pod)', () => {
    expectCompliant(withPolicy(ipBlockPolicy('internet', { cidr: '0.0.0.0/0', except: ['10.0.0.0/16'] }, 'egress')));
  });

  test('except that leaves part of a node subnet is still a violation', () => {
    const result = withPolicy(ipBlockPolicy('leaky', { cidr: '10.0.0.0/16', except: ['10.0.0.0/20'] }, 'egress'));
    expectViolations(result, [['ZT-NET-1', 'Policies']]);
    expect(result.violations[0].description).toMatch(/10\.0\.0\.0\/16 except 10\.0\.0\.0\/20 overlaps node subnet NodeSubnet/);
  });

  test('a subnet not used by any node group (endpoint subnet) is compliant; the same ipBlock fails once nodes use it', () => {
    expectCompliant(synthWithChecks(stack => {
      const { vpc, manifest } = baseline(stack);
      new ec2.CfnSubnet(stack, 'EndpointSubnet', { vpcId: vpc.ref, cidrBlock: '10.0.64.0/24' });
      manifest.addPropertyOverride('Manifest', JSON.stringify([ipBlockPolicy('sts', { cidr: '10.0.64.0/24' }, 'egress')]));
    }));
    const result = synthWithChecks(stack => {
      const { vpc, manifest, nodegroup, nodeSubnet } = baseline(stack);
      const second = new ec2.CfnSubnet(stack, 'EndpointSubnet', { vpcId: vpc.ref, cidrBlock: '10.0.64.0/24' });
      nodegroup.subnets = [nodeSubnet.ref, second.ref];
      manifest.addPropertyOverride('Manifest', JSON.stringify([ipBlockPolicy('sts', { cidr: '10.0.64.0/24' }, 'egress')]));
    });
    expectViolations(result, [['ZT-NET-1', 'Policies']]);
    expect(result.violations[0].description).toMatch(/overlaps node subnet EndpointSubnet/);
  });

  test('a secondary VPC CIDR counts as the VPC', () => {
    const result = synthWithChecks(stack => {
      const { vpc, manifest } = baseline(stack);
      new ec2.CfnVPCCidrBlock(stack, 'PodCidr', { vpcId: vpc.ref, cidrBlock: '100.64.0.0/16' });
      manifest.addPropertyOverride('Manifest', JSON.stringify([ipBlockPolicy('pods', { cidr: '100.64.0.0/10' })]));
    });
    expectViolations(result, [['ZT-NET-1', 'Policies']]);
    expect(result.violations[0].description).toMatch(/contains VPC CIDR 100\.64\.0\.0\/16 of PodCidr/);
  });

  test('every offending ipBlock in every manifest resource is reported; other kinds are ignored', () => {
    const result = synthWithChecks(stack => {
      baseline(stack);
      new CfnResource(stack, 'More', {
        type: KUBERNETES_RESOURCE,
        properties: {
          Manifest: JSON.stringify([
            { apiVersion: 'v1', kind: 'List', items: [ipBlockPolicy('a', { cidr: '10.0.1.0/24' }), ipBlockPolicy('b', { cidr: '10.0.2.0/24' }, 'egress')] },
            { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: '10.0.1.1' } },
          ]),
        },
      });
    });
    expectViolations(result, [['ZT-NET-1', 'More'], ['ZT-NET-1', 'More']]);
  });

  test('an unparseable manifest or a non-literal ipBlock is a violation, not a pass', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).manifest.addPropertyOverride('Manifest', '[{"kind":"NetworkPolicy"');
    });
    expectViolations(result, [['ZT-NET-1', 'Policies']]);
    expect(result.violations[0].description).toMatch(/does not parse as JSON/);
  });

  test('Fn::Join manifests: literal parts are joined, tokens stay opaque, literal ipBlocks are checked', () => {
    const resources = (manifest: unknown) => ({
      Resources: {
        Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } },
        Nodes1: { Type: 'AWS::EC2::Subnet', Properties: { CidrBlock: '10.0.0.0/19', VpcId: { Ref: 'Vpc' } } },
        Lt: { Type: 'AWS::EC2::LaunchTemplate', Properties: { LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } } } },
        Ng: { Type: 'AWS::EKS::Nodegroup', Properties: { Subnets: [{ Ref: 'Nodes1' }, 'subnet-imported'], LaunchTemplate: { Id: { Ref: 'Lt' } } } },
        M: { Type: KUBERNETES_RESOURCE, Properties: { Manifest: manifest } },
      },
    });
    const joined = (cidr: string) => ({
      'Fn::Join': ['', [
        '[{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"p","namespace":"',
        { Ref: 'Namespace' },
        `"},"spec":{"podSelector":{},"ingress":[{"from":[{"ipBlock":{"cidr":"${cidr}"}}]}]}}]`,
      ]],
    });
    expect(validateTemplate(resources(joined('10.0.240.0/28'))).pairs).toEqual([]);
    const bad = validateTemplate(resources(joined('10.0.8.0/24')));
    expect(bad.pairs).toEqual([['ZT-NET-1', 'M']]);
    expect(bad.descriptions[0]).toMatch(/NetworkPolicy \$\{Token\[0\]\}\/p ingress\[0\]\.from\[0\]\.ipBlock: 10\.0\.8\.0\/24 overlaps node subnet Nodes1/);
    // A token as the CIDR itself cannot be checked: flagged.
    const tokenCidr = {
      'Fn::Join': ['', ['[{"kind":"NetworkPolicy","metadata":{"name":"p"},"spec":{"egress":[{"to":[{"ipBlock":{"cidr":"', { Ref: 'Cidr' }, '"}}]}]}}]']],
    };
    const flagged = validateTemplate(resources(tokenCidr));
    expect(flagged.pairs).toEqual([['ZT-NET-1', 'M']]);
    expect(flagged.descriptions[0]).toMatch(/not a literal IPv4 CIDR/);
  });

  test('ipBlockProblem and manifestObjects in isolation', () => {
    const nodes = [{ logicalId: 'N', cidr: '10.0.0.0/19', range: { first: 167772160, last: 167780351 } }];
    expect(ipBlockProblem({ cidr: '10.0.32.0/19' }, nodes, [])).toBeUndefined();
    expect(ipBlockProblem({ cidr: '10.0.31.255/32' }, nodes, [])).toMatch(/overlaps node subnet N/);
    expect(ipBlockProblem({ cidr: 'fd00:ec2::23/128' }, nodes, [])).toBeUndefined();
    expect(ipBlockProblem({ cidr: '10.0.0.0/33' }, nodes, [])).toMatch(/not a literal IPv4 CIDR/);
    expect(ipBlockProblem({}, nodes, [])).toMatch(/cidr absent/);
    expect(manifestObjects('{"kind":"NetworkPolicy"}').objects).toEqual([{ kind: 'NetworkPolicy' }]);
    expect(manifestObjects(42).problem).toMatch(/not a string or Fn::Join/);
  });
});
