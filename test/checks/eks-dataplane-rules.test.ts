import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import { baseline, expectCompliant, expectViolations, synthWithChecks, validateTemplate } from './support';
import { parseConfigurationValues } from '../../lib/checks/eks-dataplane-rules';

describe('ZT-EKS-6 node IMDS through the node group launch template', () => {
  test('HttpTokens optional is a violation on the launch template, naming the node group', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).launchTemplate.launchTemplateData = { metadataOptions: { httpTokens: 'optional', httpPutResponseHopLimit: 1 } };
    });
    expectViolations(result, [['ZT-EKS-6', 'NodeLaunchTemplate']]);
    expect(result.violations[0].description).toMatch(/node group\(s\) Nodes: HttpTokens is "optional"/);
  });

  test('hop limit 2 is a violation', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).launchTemplate.launchTemplateData = { metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 2 } };
    });
    expectViolations(result, [['ZT-EKS-6', 'NodeLaunchTemplate']]);
    expect(result.violations[0].description).toMatch(/HttpPutResponseHopLimit is 2/);
  });

  test('a launch template with no MetadataOptions is a violation', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).launchTemplate.launchTemplateData = { instanceType: 'm7g.large' };
    });
    expectViolations(result, [['ZT-EKS-6', 'NodeLaunchTemplate']]);
  });

  test('a node group without a launch template is a violation on the node group', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).nodegroup.launchTemplate = undefined;
    });
    expectViolations(result, [['ZT-EKS-6', 'Nodes']]);
    expect(result.violations[0].description).toMatch(/no launch template/);
  });

  test('a launch template outside the template (literal id) cannot be checked and is a violation', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).nodegroup.launchTemplate = { id: 'lt-0123456789abcdef0', version: '1' };
    });
    expectViolations(result, [['ZT-EKS-6', 'Nodes']]);
  });

  test('launch templates found by GetAtt LaunchTemplateId or by literal name are checked too', () => {
    expectCompliant(synthWithChecks(stack => {
      const { launchTemplate, cluster, nodeSubnet } = baseline(stack);
      launchTemplate.launchTemplateName = 'zt-nodes';
      new eks.CfnNodegroup(stack, 'ByName', {
        clusterName: cluster.ref,
        nodeRole: 'arn:aws:iam::111111111111:role/eks-node',
        subnets: [nodeSubnet.ref],
        launchTemplate: { name: 'zt-nodes' },
      });
      new eks.CfnNodegroup(stack, 'ByGetAtt', {
        clusterName: cluster.ref,
        nodeRole: 'arn:aws:iam::111111111111:role/eks-node',
        subnets: [nodeSubnet.ref],
        launchTemplate: { id: launchTemplate.attrLaunchTemplateId },
      });
    }));
    const result = synthWithChecks(stack => {
      const { cluster, nodeSubnet } = baseline(stack);
      const weak = new ec2.CfnLaunchTemplate(stack, 'Weak', { launchTemplateData: { metadataOptions: { httpTokens: 'optional' } } });
      new eks.CfnNodegroup(stack, 'ByGetAtt', {
        clusterName: cluster.ref,
        nodeRole: 'arn:aws:iam::111111111111:role/eks-node',
        subnets: [nodeSubnet.ref],
        launchTemplate: { id: weak.attrLaunchTemplateId },
      });
    });
    expectViolations(result, [['ZT-EKS-6', 'Weak']]);
  });

  test('an L2 ec2.LaunchTemplate with requireImdsv2 and hop limit 1 is compliant', () => {
    expectCompliant(synthWithChecks(stack => {
      const { nodegroup } = baseline(stack);
      const lt = new ec2.LaunchTemplate(stack, 'L2Template', { requireImdsv2: true, httpPutResponseHopLimit: 1 });
      nodegroup.launchTemplate = { id: lt.launchTemplateId, version: lt.latestVersionNumber };
    }));
  });
});

describe('ZT-EKS-7 VPC CNI network policy enforcement', () => {
  test('a cluster without a vpc-cni add-on is a violation on the cluster', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).addon.addonName = 'coredns';
    });
    expectViolations(result, [['ZT-EKS-7', 'Cluster']]);
  });

  test.each([
    ['enableNetworkPolicy "false"', JSON.stringify({ enableNetworkPolicy: 'false' }), /enableNetworkPolicy is "false"/],
    ['the boolean true', JSON.stringify({ enableNetworkPolicy: true }), /enableNetworkPolicy is true; it must be the string "true"/],
    ['no configuration', undefined, /ConfigurationValues absent is not a string/],
    ['unparseable text', '{"enableNetworkPolicy": "true"', /does not parse to a JSON \(or YAML\) object/],
  ])('%s is a violation on the add-on', (_name, configurationValues, message) => {
    const result = synthWithChecks(stack => {
      baseline(stack).addon.configurationValues = configurationValues;
    });
    expectViolations(result, [['ZT-EKS-7', 'VpcCni']]);
    expect(result.violations[0].description).toMatch(message);
  });

  test('YAML configuration and other settings alongside are accepted; an add-on found by the literal cluster name counts', () => {
    expectCompliant(synthWithChecks(stack => {
      const { addon } = baseline(stack);
      addon.configurationValues = 'enableNetworkPolicy: "true"\nenv:\n  NETWORK_POLICY_ENFORCING_MODE: strict\n';
      addon.clusterName = 'zt';
    }));
  });

  test('a second cluster without its own add-on is a violation on that cluster only', () => {
    const result = synthWithChecks(stack => {
      const { cluster } = baseline(stack);
      const second = new eks.CfnCluster(stack, 'Second', {
        roleArn: 'arn:aws:iam::111111111111:role/eks-cluster',
        resourcesVpcConfig: cluster.resourcesVpcConfig,
        accessConfig: cluster.accessConfig,
        logging: cluster.logging,
        encryptionConfig: cluster.encryptionConfig,
      });
      second.overrideLogicalId('Second');
    });
    expectViolations(result, [['ZT-EKS-7', 'Second']]);
  });

  test('a configuration joined with a token (Fn::Join) is parsed with the token as an opaque string', () => {
    const template = (values: unknown) => ({
      Resources: {
        Cni: {
          Type: 'AWS::EKS::Addon',
          Properties: { AddonName: 'vpc-cni', ClusterName: 'imported', ConfigurationValues: values },
        },
      },
    });
    const join = (enable: string) => ({
      'Fn::Join': ['', ['{"enableNetworkPolicy":"', enable, '","env":{"AWS_REGION":"', { Ref: 'AWS::Region' }, '"}}']],
    });
    expect(validateTemplate(template(join('true'))).pairs).toEqual([]);
    expect(validateTemplate(template(join('false'))).pairs).toEqual([['ZT-EKS-7', 'Cni']]);
    // A token standing for a whole JSON value cannot be parsed: flagged, not guessed.
    const bare = { 'Fn::Join': ['', ['{"enableNetworkPolicy":', { Ref: 'EnableParam' }, '}']] };
    const flagged = validateTemplate(template(bare));
    expect(flagged.pairs).toEqual([['ZT-EKS-7', 'Cni']]);
    expect(flagged.descriptions[0]).toMatch(/does not parse/);
    expect(validateTemplate(template({ 'Fn::Sub': '{"enableNetworkPolicy":"true"}' })).pairs).toEqual([['ZT-EKS-7', 'Cni']]);
  });

  test('parseConfigurationValues reads JSON, YAML and CDK-joined strings', () => {
    expect(parseConfigurationValues('{"enableNetworkPolicy":"true"}').config).toEqual({ enableNetworkPolicy: 'true' });
    expect(parseConfigurationValues('enableNetworkPolicy: "true"').config).toEqual({ enableNetworkPolicy: 'true' });
    expect(parseConfigurationValues('just text').problem).toMatch(/does not parse/);
    expect(parseConfigurationValues({ 'Fn::Join': ['', ['{"a":"', { Ref: 'X' }, '"}']] }).config).toEqual({ a: '${Token[0]}' });
  });

  test('a configuration CDK renders as Fn::Join (stack.toJsonString with a token) is read through synth', () => {
    let rendered: unknown;
    expectCompliant(synthWithChecks(stack => {
      const { addon } = baseline(stack);
      addon.configurationValues = stack.toJsonString({ enableNetworkPolicy: 'true', env: { AWS_REGION: stack.region } });
      rendered = stack.resolve(addon.configurationValues);
    }));
    expect(rendered).toHaveProperty(['Fn::Join']);
    const result = synthWithChecks(stack => {
      baseline(stack).addon.configurationValues = stack.toJsonString({ enableNetworkPolicy: 'false', env: { AWS_REGION: stack.region } });
    });
    expectViolations(result, [['ZT-EKS-7', 'VpcCni']]);
  });
});
