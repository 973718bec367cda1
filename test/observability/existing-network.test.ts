import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { SegmentedVpc, ZeroTrustCluster } from '../../lib';
import { ZeroTrustObservability } from '../../lib/observability/zero-trust-observability';
import { CDK_JSON_CONTEXT } from '../support/aws/reference-app';

/** A cluster on a VPC someone else owns, imported without scraper subnets. */
function clusterOnExistingTiers(): { stack: Stack; platform: ZeroTrustCluster } {
  const stack = new Stack(new App({ context: { ...CDK_JSON_CONTEXT } }), 'Existing');
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', vpcCidrBlock: '10.1.0.0/16', availabilityZones: ['eu-west-1a', 'eu-west-1b'] });
  let n = 0;
  const pair = (third: number, mask: number): ec2.ISubnet[] => ['eu-west-1a', 'eu-west-1b'].map((availabilityZone, i) => {
    n += 1;
    const offset = third * 256 + i * 2 ** (32 - mask);
    return ec2.Subnet.fromSubnetAttributes(stack, `Subnet${n}`, {
      subnetId: `subnet-${n}`, availabilityZone, ipv4CidrBlock: `10.1.${Math.floor(offset / 256)}.${offset % 256}/${mask}`, routeTableId: `rtb-${n}`,
    });
  });
  const network = SegmentedVpc.fromExistingTiers({
    vpc,
    ingressSubnets: pair(0, 24),
    nodeSubnets: pair(32, 19),
    dataSubnets: pair(2, 24),
    controlPlaneSubnets: pair(6, 28),
    internalLoadBalancerSubnets: pair(7, 26),
    endpointSubnets: pair(8, 27),
  });
  const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl'), network });
  return { stack, platform };
}

describe('ZeroTrustObservability on a network without scraper subnets', () => {
  test('Managed Prometheus is left out by default; logs, alarms and the dashboard are still there', () => {
    const { stack, platform } = clusterOnExistingTiers();
    const o = new ZeroTrustObservability(stack, 'Observability', { cluster: platform });
    expect(o.prometheus).toBeUndefined();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::APS::Workspace', 0);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('asking for Managed Prometheus fails with the field, the value and a fix', () => {
    const { stack, platform } = clusterOnExistingTiers();
    expect(() => new ZeroTrustObservability(stack, 'Observability', { cluster: platform, managedPrometheus: true }))
      .toThrow("ZeroTrustObservability 'Observability': managedPrometheus needs the network's scraperSubnets (got none). Fix:");
  });
});
