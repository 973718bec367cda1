/**
 * EKS-02 on ZeroTrustCluster: `publicEndpoint` is a named opt-out. Accepted, the endpoint stays
 * private too, is restricted to the listed CIDRs, the reason lands where ZeroTrustChecks ZT-EKS-1
 * reads it (so the cluster passes), and synthesis warns. Rejected: anything that would open the
 * API to the internet or that ZT-EKS-1 could not verify.
 */
import { App, CfnParameter, CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { synthWithChecks } from './support';
import { PublicEndpointOptions, ZeroTrustChecks, ZeroTrustCluster } from '../../lib';

const CONTEXT = { '@aws-cdk/aws-eks:useNativeOidcProvider': true };
const METADATA = 'cdk-zero-trust-eks:publicEndpointOptOut';

function cluster(stack: Stack, publicEndpoint?: PublicEndpointOptions): ZeroTrustCluster {
  return new ZeroTrustCluster(stack, 'Platform', {
    version: eks.KubernetesVersion.V1_35,
    kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', 'arn:aws:lambda:eu-west-1:111122223333:layer:kubectl:1'),
    publicEndpoint,
  });
}

const cfnCluster = (platform: ZeroTrustCluster) => platform.cluster.node.defaultChild as CfnResource;

describe('an accepted public endpoint', () => {
  const app = new App({ context: CONTEXT, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Test');
  const platform = cluster(stack, { allowedCidrs: ['203.0.113.0/24', '198.51.100.7/32'] });
  const template = Template.fromStack(stack);

  test('ResourcesVpcConfig: private access stays on, public access only from the listed CIDRs', () => {
    const clusters = template.findResources('AWS::EKS::Cluster');
    expect(Object.keys(clusters)).toHaveLength(1);
    const vpc = Object.values(clusters)[0].Properties.ResourcesVpcConfig;
    expect(vpc).toEqual(expect.objectContaining({
      EndpointPrivateAccess: true,
      EndpointPublicAccess: true,
      PublicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
    }));
  });

  test('the opt-out is recorded in the cluster resource\'s Metadata, where ZT-EKS-1 reads it', () => {
    expect(ZeroTrustChecks.PUBLIC_ENDPOINT_OPT_OUT_METADATA).toBe(METADATA);
    const [resource] = Object.values(template.findResources('AWS::EKS::Cluster'));
    expect(resource.Metadata[METADATA]).toBe('ZeroTrustCluster publicEndpoint: the API endpoint is public, reachable only from 203.0.113.0/24, 198.51.100.7/32');
  });

  test('synthesis warns that the API endpoint is reachable from the internet', () => {
    Annotations.fromStack(stack).hasWarning(`/${platform.node.path}`, Match.stringLikeRegexp('publicEndpoint is set: the EKS API endpoint is reachable from the internet, from 203\\.0\\.113\\.0/24, 198\\.51\\.100\\.7/32 only'));
  });
});

describe('ZeroTrustChecks over a cluster with publicEndpoint', () => {
  test('ZT-EKS-1 passes with the given reason, and no other rule finds anything', () => {
    let platform: ZeroTrustCluster | undefined;
    const result = synthWithChecks(stack => {
      platform = cluster(stack, { allowedCidrs: ['203.0.113.0/24'], reason: 'CI runners outside the VPC until the VPN lands' });
    }, CONTEXT);
    expect(result.pluginRan).toBe(true);
    expect(result.violations).toEqual([]);
    expect(result.threw).toBe(false);
    expect(cfnCluster(platform!).getMetadata(METADATA)).toBe('CI runners outside the VPC until the VPN lands');
  });

  test('negative: the same cluster without the recorded opt-out is a ZT-EKS-1 violation (the metadata is what makes it pass)', () => {
    const result = synthWithChecks(stack => {
      const platform = cluster(stack, { allowedCidrs: ['203.0.113.0/24'] });
      cfnCluster(platform).cfnOptions.metadata = {};
    }, CONTEXT);
    expect(result.violations.map(v => v.ruleName)).toEqual(['ZT-EKS-1']);
    expect(result.violations[0].description).toMatch(/no opt-out reason is recorded/);
  });
});

describe('rejected public endpoints (each message names the cluster, the field, the value and the fix)', () => {
  const build = (options: PublicEndpointOptions) => () => cluster(new Stack(new App({ context: CONTEXT }), 'Test'), options);

  test.each([
    ['an empty list (EKS would open 0.0.0.0/0)', [], 'must list the networks that may reach the API'],
    ['0.0.0.0/0', ['203.0.113.0/24', '0.0.0.0/0'], 'must not contain 0.0.0.0/0'],
    ['::/0', ['::/0'], 'must not contain ::/0'],
    ['another /0', ['10.0.0.0/0'], 'must not contain 10.0.0.0/0'],
    ['an IPv6 CIDR (ZT-EKS-1 verifies IPv4 only)', ['2001:db8::/32'], "'2001:db8::/32', which is not an IPv4 CIDR"],
    ['a malformed CIDR', ['203.0.113.0'], "'203.0.113.0', which is not an IPv4 CIDR"],
  ])('%s', (_name, allowedCidrs, problem) => {
    expect(build({ allowedCidrs })).toThrow(/^ZeroTrustCluster 'Test\/Platform': publicEndpoint\.allowedCidrs/);
    expect(build({ allowedCidrs })).toThrow(problem);
    expect(build({ allowedCidrs })).toThrow(/\(got \[.*\]\)\. Fix: name your office or VPN CIDRs/);
  });

  test('a blank reason', () => {
    expect(build({ allowedCidrs: ['203.0.113.0/24'], reason: ' ' })).toThrow(/publicEndpoint\.reason must say why the endpoint is public \(got " "\)\. Fix:/);
  });

  test('a CIDR that is a token (unverifiable at synth)', () => {
    expect(() => {
      const stack = new Stack(new App({ context: CONTEXT }), 'Test');
      const token = new CfnParameter(stack, 'Cidr').valueAsString;
      cluster(stack, { allowedCidrs: [token] });
    }).toThrow(/is not a literal CIDR, so neither the library nor ZeroTrustChecks \(ZT-EKS-1\) can verify it at synth/);
  });

  test('a private cluster records no opt-out', () => {
    const app = new App({ context: CONTEXT, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Test');
    cluster(stack);
    const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::EKS::Cluster'));
    expect(resource.Metadata?.[METADATA]).toBeUndefined();
    expect(resource.Properties.ResourcesVpcConfig).toEqual(expect.objectContaining({ EndpointPrivateAccess: true, EndpointPublicAccess: false }));
  });
});
