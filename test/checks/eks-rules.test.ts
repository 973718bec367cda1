import { CfnResource, Stack } from 'aws-cdk-lib';
import * as eksv2 from 'aws-cdk-lib/aws-eks-v2';
import { baseline, expectCompliant, expectViolations, LOG_TYPES, synthWithChecks, validateTemplate } from './support';
import { ZeroTrustChecks } from '../../lib/checks';

describe('the compliant baseline', () => {
  test('synthesizes with no ZeroTrustChecks violation', () => {
    expectCompliant(synthWithChecks(stack => {
      baseline(stack);
    }));
  });
});

describe('ZT-EKS-1 private API endpoint', () => {
  test('an absent EndpointPublicAccess (EKS default: public) is a violation on the cluster', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.resourcesVpcConfig = { subnetIds: ['subnet-1'], endpointPrivateAccess: true };
    });
    expectViolations(result, [['ZT-EKS-1', 'Cluster']]);
    expect(result.violations[0].description).toMatch(/EndpointPublicAccess is absent, and EKS defaults it to true/);
    expect(result.violations[0].severity).toBe('error');
    expect(result.violations[0].suggestedFix).toMatch(/EndpointAccess.PRIVATE/);
  });

  test('private access off is a violation even with the public endpoint off', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.resourcesVpcConfig = { subnetIds: ['subnet-1'], endpointPrivateAccess: false, endpointPublicAccess: false };
    });
    expectViolations(result, [['ZT-EKS-1', 'Cluster']]);
    expect(result.violations[0].description).toMatch(/EndpointPrivateAccess is false/);
  });

  test('an opted-out public endpoint restricted to named CIDRs is compliant', () => {
    expectCompliant(synthWithChecks(stack => {
      const { cluster } = baseline(stack);
      cluster.resourcesVpcConfig = {
        subnetIds: ['subnet-1'], endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'],
      };
      ZeroTrustChecks.allowPublicEndpoint(cluster, 'CI runners outside the VPC, until the VPN lands');
    }));
  });

  test.each([
    ['no PublicAccessCidrs', undefined, /PublicAccessCidrs is absent/],
    ['0.0.0.0/0', ['203.0.113.0/24', '0.0.0.0/0'], /0\.0\.0\.0\/0, which admits the whole internet/],
    ['an empty list', [], /PublicAccessCidrs is \[\]/],
  ])('an opted-out public endpoint with %s is a violation', (_name, publicAccessCidrs, message) => {
    const result = synthWithChecks(stack => {
      const { cluster } = baseline(stack);
      cluster.resourcesVpcConfig = { subnetIds: ['subnet-1'], endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs };
      ZeroTrustChecks.allowPublicEndpoint(cluster, 'temporary');
    });
    expectViolations(result, [['ZT-EKS-1', 'Cluster']]);
    expect(result.violations[0].description).toMatch(message);
  });

  test('restricted CIDRs without the opt-out metadata are still a violation', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.resourcesVpcConfig = {
        subnetIds: ['subnet-1'], endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'],
      };
    });
    expectViolations(result, [['ZT-EKS-1', 'Cluster']]);
    expect(result.violations[0].description).toMatch(/no opt-out reason is recorded/);
  });

  test('allowPublicEndpoint writes the documented metadata and refuses non-clusters and empty reasons', () => {
    const stack = new Stack();
    const { cluster, key } = baseline(stack);
    ZeroTrustChecks.allowPublicEndpoint(cluster, 'why');
    expect(stack.resolve(cluster.cfnOptions.metadata)).toEqual({ 'cdk-zero-trust-eks:publicEndpointOptOut': 'why' });
    expect(ZeroTrustChecks.PUBLIC_ENDPOINT_OPT_OUT_METADATA).toBe('cdk-zero-trust-eks:publicEndpointOptOut');
    expect(() => ZeroTrustChecks.allowPublicEndpoint(key, 'why')).toThrow(/not an AWS::EKS::Cluster/);
    expect(() => ZeroTrustChecks.allowPublicEndpoint(cluster, ' ')).toThrow(/reason is required/);
  });

  test('an aws-eks-v2 Cluster left at its defaults is caught (cdk-nag EKS1 does not fire on it)', () => {
    let logicalId = '';
    const result = synthWithChecks(stack => {
      const cluster = new eksv2.Cluster(stack, 'Eks', { version: eksv2.KubernetesVersion.V1_33 });
      logicalId = stack.getLogicalId(cluster.node.defaultChild as CfnResource);
    });
    expect(result.threw).toBe(true);
    // aws-eks-v2 already defaults to AuthenticationMode API (no ZT-EKS-2); everything else must be set by the library.
    expect(result.violations.filter(v => v.logicalIds.includes(logicalId)).map(v => v.ruleName).sort()).toEqual(
      ['ZT-EKS-1', 'ZT-EKS-3', 'ZT-EKS-4', 'ZT-EKS-5', 'ZT-EKS-7']);
  });
});

describe('ZT-EKS-2 authentication mode API', () => {
  test.each([['CONFIG_MAP'], ['API_AND_CONFIG_MAP'], [undefined]])('AuthenticationMode %s is a violation on the cluster', mode => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.accessConfig = { authenticationMode: mode, bootstrapClusterCreatorAdminPermissions: false };
    });
    expectViolations(result, [['ZT-EKS-2', 'Cluster']]);
    expect(result.violations[0].description).toMatch(mode === undefined ? /absent \(CloudFormation defaults to CONFIG_MAP\)/ : new RegExp(mode));
  });
});

describe('ZT-EKS-3 no creator admin', () => {
  test.each([[true], [undefined]])('BootstrapClusterCreatorAdminPermissions %s is a violation on the cluster', bootstrap => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.accessConfig = { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: bootstrap };
    });
    expectViolations(result, [['ZT-EKS-3', 'Cluster']]);
  });
});

describe('ZT-EKS-4 control-plane logs', () => {
  test('a missing log type is a violation that names it', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.logging = { clusterLogging: { enabledTypes: LOG_TYPES.filter(t => t !== 'scheduler').map(type => ({ type })) } };
    });
    expectViolations(result, [['ZT-EKS-4', 'Cluster']]);
    expect(result.violations[0].description).toMatch(/not exported: scheduler\./);
  });

  test('no logging at all names all five types', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.logging = undefined;
    });
    expectViolations(result, [['ZT-EKS-4', 'Cluster']]);
    expect(result.violations[0].description).toMatch(/api, audit, authenticator, controllerManager, scheduler/);
  });
});

describe('ZT-EKS-5 secrets encryption with a customer-managed key', () => {
  test('no EncryptionConfig is a violation on the cluster', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.encryptionConfig = undefined;
    });
    expectViolations(result, [['ZT-EKS-5', 'Cluster']]);
  });

  test('an AWS-managed alias is a violation', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).cluster.encryptionConfig = [{ resources: ['secrets'], provider: { keyArn: 'arn:aws:kms:us-east-1:111111111111:alias/aws/eks' } }];
    });
    expectViolations(result, [['ZT-EKS-5', 'Cluster']]);
    expect(result.violations[0].description).toMatch(/alias/);
  });

  test('an imported key ARN (not an alias) is accepted', () => {
    expectCompliant(synthWithChecks(stack => {
      baseline(stack).cluster.encryptionConfig = [{
        resources: ['secrets'], provider: { keyArn: 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
      }];
    }));
  });

  test('a GetAtt Arn of something that is not a KMS key, or a Ref, is a violation', () => {
    const template = (keyArn: unknown) => ({
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: {} },
        C: {
          Type: 'AWS::EKS::Cluster',
          Properties: {
            ResourcesVpcConfig: { EndpointPrivateAccess: true, EndpointPublicAccess: false },
            AccessConfig: { AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false },
            Logging: { ClusterLogging: { EnabledTypes: LOG_TYPES.map(Type => ({ Type })) } },
            EncryptionConfig: [{ Resources: ['secrets'], Provider: { KeyArn: keyArn } }],
          },
        },
        Cni: { Type: 'AWS::EKS::Addon', Properties: { AddonName: 'vpc-cni', ClusterName: { Ref: 'C' }, ConfigurationValues: '{"enableNetworkPolicy":"true"}' } },
      },
    });
    const notAKey = validateTemplate(template({ 'Fn::GetAtt': ['Role', 'Arn'] }));
    expect(notAKey.pairs).toEqual([['ZT-EKS-5', 'C']]);
    expect(notAKey.descriptions[0]).toMatch(/Role, which is not an AWS::KMS::Key in this template/);
    expect(validateTemplate(template({ Ref: 'KeyArnParameter' })).pairs).toEqual([['ZT-EKS-5', 'C']]);
    expect(validateTemplate(template('arn:aws:kms:us-east-1:111111111111:key/abc')).pairs).toEqual([]);
  });
});
