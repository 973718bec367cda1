/**
 * QuarantineResponder on a ZeroTrustCluster: a template assertion per control (EventBridge pattern,
 * DLQs, VPC placement and security groups, reserved concurrency and async retries, encrypted log
 * group and topic, the exact IAM statements, the access entry's group and no access policy, the
 * namespace RBAC), a negative test per validation, and cdk-nag (AwsSolutions, NIST 800-53 R5) clean.
 */
import { execSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, Duration, PolicyValidationPluginReport, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, NagPack, NIST80053R5Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { ServicePort, ZeroTrustChecks, ZeroTrustCluster } from '../../lib';
import { AlarmTopic } from '../../lib/observability/alarm-topic';
import { QuarantineAction, QuarantineResponder, QuarantineResponderProps } from '../../lib/response/quarantine-responder';
import { RESPONDER_BUNDLE_DIR, responderCode } from '../../lib/response/responder-bundle';
import { RESPONDER_GROUP, RESPONDER_RULES, SCALE_DOWN_RULE } from '../../lib/response/responder-rbac';
import { CfnTemplate, KUBERNETES_RESOURCE, manifestObjects, onlyResource, render, resourcesOfType } from '../support/aws/cfn';
import { CDK_JSON_CONTEXT } from '../support/aws/reference-app';

const CLUSTER = 'shop-cluster';

interface Built {
  readonly app: App;
  readonly stack: Stack;
  readonly platform: ZeroTrustCluster;
  readonly responder: QuarantineResponder;
  readonly template: CfnTemplate;
  readonly packRuns: Array<{ name: string; results: PolicyValidationPluginReport[] }>;
  readonly synthError?: string;
}

function build(props: Partial<QuarantineResponderProps> = {}, nag = false): Built {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-responder-'));
  const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT } });
  const stack = new Stack(app, 'Responder');
  const platform = new ZeroTrustCluster(stack, 'Platform', {
    version: eks.KubernetesVersion.V1_35,
    kubectlLayer: new KubectlV35Layer(stack, 'Kubectl'),
    clusterName: CLUSTER,
    defaultNamespace: 'shop',
  });
  const order = platform.addService('order', { ports: [ServicePort.http(8080)] });
  const payment = platform.addService('payment', { namespace: 'payments', ports: [ServicePort.http(8443)] });
  payment.allowFrom(order, { ports: [8443] });
  const alertKey = new kms.Key(stack, 'AlertKey', { enableKeyRotation: true });
  const alerts = new sns.Topic(stack, 'AnomalyAlerts', { masterKey: alertKey, enforceSSL: true });
  const responder = new QuarantineResponder(stack, 'Quarantine', { cluster: platform, alertTopics: [alerts], ...props });
  // The same network choice the reference app acknowledges: a public Ingress tier for the load balancers.
  Validations.of(platform.network as unknown as IConstruct).acknowledge({ id: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW', reason: 'The test stack keeps the default public Ingress tier.' });
  const packRuns: Built['packRuns'] = [];
  if (nag) {
    const packs: NagPack[] = [new AwsSolutionsChecks(app), new NIST80053R5Checks(app)];
    for (const pack of packs) {
      const original = pack.validate.bind(pack);
      const record = { name: pack.name, results: [] as PolicyValidationPluginReport[] };
      packRuns.push(record);
      pack.validate = context => {
        const result = original(context);
        record.results.push(result);
        return result;
      };
    }
    const checks = new ZeroTrustChecks();
    const original = checks.validate.bind(checks);
    const record = { name: 'ZeroTrustChecks', results: [] as PolicyValidationPluginReport[] };
    packRuns.push(record);
    checks.validate = context => {
      const result = original(context);
      record.results.push(result);
      return result;
    };
    Validations.of(app).addPlugins(...packs, checks);
  }
  let synthError: string | undefined;
  const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    app.synth();
  } catch (e) {
    synthError = (e as Error).message;
  } finally {
    quiet.mockRestore();
  }
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  fs.rmSync(outdir, { recursive: true, force: true });
  return { app, stack, platform, responder, template, packRuns, synthError };
}

const ofResponder = (id: string) => /^Quarantine/.test(id);

beforeAll(() => {
  // `npx jest` alone (without the projen test task) still finds the bundle.
  if (!fs.existsSync(path.join(RESPONDER_BUNDLE_DIR, 'index.js'))) {
    execSync('npx projen bundle', { cwd: path.join(__dirname, '..', '..'), stdio: 'ignore' });
  }
});

describe('QuarantineResponder template', () => {
  let b: Built;
  let t: CfnTemplate;
  let fnId: string;
  let fn: any;

  beforeAll(() => {
    b = build({}, true);
    t = b.template;
    [fnId, fn] = onlyResource(t, 'AWS::Lambda::Function', 'the responder', (_r, id) => ofResponder(id));
  });

  test('synthesizes; both cdk-nag packs and ZeroTrustChecks ran and found nothing unacknowledged in the stack', () => {
    expect(b.synthError).toBeUndefined();
    expect(b.packRuns.map(p => p.name)).toEqual(['AwsSolutions', 'NIST.800.53.R5', 'ZeroTrustChecks']);
    expect(b.packRuns.every(p => p.results.length === 1)).toBe(true);
    for (const run of b.packRuns) {
      const violations = run.results.flatMap(r => r.violations)
        .map(v => ({ rule: v.ruleName, where: v.violatingResources.map(r => r.constructPath) }));
      expect({ pack: run.name, violations }).toEqual({ pack: run.name, violations: [] });
    }
  });

  test('every acknowledgement under the responder has a reason and is one of the six documented', () => {
    const acks = b.responder.node.findAll().flatMap(c => c.node.metadata
      .filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap(m => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))));
    expect(acks.map(a => `${a.path.replace('Responder/Quarantine/', '')} ${a.id}`).sort()).toEqual([
      'DeadLetterQueue Annotation::AwsSolutions-SQS3',
      'DeadLetterQueue cdk-validator-cfnguard::sqs_dlq_check',
      'DeliveryDeadLetterQueue Annotation::AwsSolutions-SQS3',
      'DeliveryDeadLetterQueue cdk-validator-cfnguard::sqs_dlq_check',
      'Function Annotation::AwsSolutions-L1',
      'Policy Annotation::AwsSolutions-IAM5[Resource::*]',
    ]);
    expect(acks.every(a => a.reason.length > 30)).toBe(true);
  });

  test('the responder key lets only AWS services create grants (cfn-guard kms_create_grant_aws_service_check)', () => {
    const [, key] = onlyResource(t, 'AWS::KMS::Key', 'the responder key', (_r, id) => ofResponder(id));
    expect(key.Properties!.KeyPolicy.Statement).toEqual(expect.arrayContaining([expect.objectContaining({
      Sid: 'OnlyAwsServicesCreateGrants',
      Effect: 'Deny',
      Action: 'kms:CreateGrant',
      Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    })]));
  });

  test('EventBridge: GuardDuty findings of this EKS cluster at severity >= 7 go to the function, with a DLQ and retries', () => {
    const [, rule] = onlyResource(t, 'AWS::Events::Rule', 'the GuardDuty rule', (_r, id) => ofResponder(id));
    expect(rule.Properties!.EventPattern).toEqual({
      'source': ['aws.guardduty'],
      'detail-type': ['GuardDuty Finding'],
      'detail': {
        resource: { resourceType: ['EKSCluster'], eksClusterDetails: { name: [CLUSTER] } },
        severity: [{ numeric: ['>=', 7] }],
      },
    });
    expect(rule.Properties!.State).toBe('ENABLED');
    const [target] = rule.Properties!.Targets;
    expect(render(target.Arn)).toBe(`<<GetAtt:${fnId}.Arn>>`);
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 });
    expect(render(target.DeadLetterConfig.Arn)).toMatch(/^<<GetAtt:QuarantineDeliveryDeadLetterQueue[0-9A-F]{8}\.Arn>>$/);
  });

  test('Lambda: Node.js 22, in the node subnets with its own security group, reserved concurrency, timeout, DLQ, encrypted log group', () => {
    const p = fn.Properties;
    expect(p.Runtime).toBe('nodejs22.x');
    expect(p.Handler).toBe('index.handler');
    expect(p.ReservedConcurrentExecutions).toBe(2);
    expect(p.Timeout).toBe(60);
    expect(render(p.DeadLetterConfig.TargetArn)).toMatch(/^<<GetAtt:QuarantineDeadLetterQueue[0-9A-F]{8}\.Arn>>$/);
    const nodeSubnets = b.platform.network.nodeSubnets.map(s => b.stack.resolve(s.subnetId));
    expect(p.VpcConfig.SubnetIds).toEqual(nodeSubnets);
    expect(p.VpcConfig.SecurityGroupIds.map(render)).toEqual([expect.stringMatching(/^<<GetAtt:QuarantineSecurityGroup[0-9A-F]{8}\.GroupId>>$/)]);
    expect(Object.keys(p.Environment.Variables).sort()).toEqual(
      ['CLUSTER_CA', 'CLUSTER_ENDPOINT', 'CLUSTER_NAME', 'NAMESPACES', 'QUARANTINE_ACTION', 'QUARANTINE_LABEL', 'SEVERITY_THRESHOLD', 'TOPIC_ARN']);
    expect(p.Environment.Variables).toMatchObject({
      CLUSTER_NAME: CLUSTER, NAMESPACES: 'payments,shop', QUARANTINE_LABEL: 'zero-trust.cdk.io/quarantine', SEVERITY_THRESHOLD: '7', QUARANTINE_ACTION: 'label',
    });
    expect(b.responder.action).toBe(QuarantineAction.LABEL);
    expect(render(p.Environment.Variables.CLUSTER_ENDPOINT)).toMatch(/^<<GetAtt:PlatformCluster\w+\.Endpoint>>$/);

    const [, invokeConfig] = onlyResource(t, 'AWS::Lambda::EventInvokeConfig', 'the responder\'s', (_r, id) => ofResponder(id));
    expect(invokeConfig.Properties).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600, Qualifier: '$LATEST' });

    const logGroupId = render(p.LoggingConfig.LogGroup).replace(/^<<Ref:(.*)>>$/, '$1');
    const logGroup = t.Resources[logGroupId];
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties!.RetentionInDays).toBe(365);
    expect(render(logGroup.Properties!.KmsKeyId)).toMatch(/^<<GetAtt:PlatformKeysLogs\w+\.Arn>>$/);
  });

  test('security groups: egress only to the cluster security group and the endpoint security group on 443; both admit it', () => {
    const [sgId, sg] = onlyResource(t, 'AWS::EC2::SecurityGroup', 'the responder\'s', (_r, id) => ofResponder(id));
    // The inline "disallow all" placeholder stays: without any inline egress, EC2 would add its default allow-all rule.
    expect(sg.Properties!.SecurityGroupEgress).toEqual([
      { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 },
    ]);
    expect(sg.Properties!.SecurityGroupIngress).toBeUndefined();
    const mine = `<<GetAtt:${sgId}.GroupId>>`;
    const rule = (r: any, peer: string) => `${render(r.Properties![peer]).replace(/[0-9A-F]{8}\./, '.')} ${r.Properties!.IpProtocol} ${r.Properties!.FromPort}-${r.Properties!.ToPort}`;
    const egress = resourcesOfType(t, 'AWS::EC2::SecurityGroupEgress').filter(([, r]) => render(r.Properties!.GroupId) === mine);
    expect(egress.map(([, r]) => rule(r, 'DestinationSecurityGroupId')).sort()).toEqual([
      '<<GetAtt:PlatformCluster.ClusterSecurityGroupId>> tcp 443-443',
      '<<GetAtt:PlatformNetworkEndpointSecurityGroup.GroupId>> tcp 443-443',
    ]);
    const ingress = resourcesOfType(t, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => render(r.Properties!.SourceSecurityGroupId) === mine);
    expect(ingress.map(([, r]) => rule(r, 'GroupId')).sort()).toEqual([
      '<<GetAtt:PlatformCluster.ClusterSecurityGroupId>> tcp 443-443',
      '<<GetAtt:PlatformNetworkEndpointSecurityGroup.GroupId>> tcp 443-443',
    ]);
  });

  test('IAM: a customer-managed policy with exactly five statements; no inline policy on the role; no AWS-managed policy', () => {
    const [roleId, role] = onlyResource(t, 'AWS::IAM::Role', 'the responder\'s', (_r, id) => ofResponder(id));
    expect(role.Properties!.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties!.Policies).toBeUndefined();
    expect(resourcesOfType(t, 'AWS::IAM::Policy').filter(([, r]) => JSON.stringify(r.Properties!.Roles).includes(roleId))).toEqual([]);
    expect(role.Properties!.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    const [, policy] = onlyResource(t, 'AWS::IAM::ManagedPolicy', 'the responder\'s', (_r, id) => ofResponder(id));
    expect(policy.Properties!.Roles.map(render)).toEqual([`<<Ref:${roleId}>>`]);
    expect(resourcesOfType(t, 'AWS::IAM::ManagedPolicy').filter(([, r]) => JSON.stringify(r.Properties!.Roles ?? []).includes(roleId))).toHaveLength(1);
    const statements = policy.Properties!.PolicyDocument.Statement.map((s: any) => ({ ...s, Resource: render(s.Resource) }));
    expect(statements).toEqual([
      { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: expect.stringMatching(/^<<GetAtt:QuarantineLogs\w+\.Arn>>$/) },
      {
        Sid: 'VpcNetworkInterfaces',
        Effect: 'Allow',
        Action: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        Resource: '*',
      },
      { Sid: 'PublishDecisions', Effect: 'Allow', Action: 'sns:Publish', Resource: expect.stringMatching(/^<<Ref:QuarantineNotifications\w+>>$/) },
      { Sid: 'DeadLetters', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: expect.stringMatching(/^<<GetAtt:QuarantineDeadLetterQueue\w+\.Arn>>$/) },
      { Sid: 'EncryptWithResponderKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: expect.stringMatching(/^<<GetAtt:QuarantineKey\w+\.Arn>>$/) },
    ]);
    expect(fn.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^QuarantinePolicy/)]));
  });

  test('SNS: the notification topic is encrypted with the responder CMK (rotating) and refuses plain HTTP', () => {
    const [topicId, topic] = onlyResource(t, 'AWS::SNS::Topic', 'the notification topic', (_r, id) => ofResponder(id));
    expect(render(topic.Properties!.KmsMasterKeyId)).toMatch(/^<<GetAtt:QuarantineKey\w+\.Arn>>$/);
    const [keyId, key] = onlyResource(t, 'AWS::KMS::Key', 'the responder key', (_r, id) => ofResponder(id));
    expect(key.Properties!.EnableKeyRotation).toBe(true);
    expect(keyId).toMatch(/^QuarantineKey/);
    const [, topicPolicy] = onlyResource(t, 'AWS::SNS::TopicPolicy', 'of the topic', r => JSON.stringify(r.Properties!.Topics).includes(topicId));
    expect(topicPolicy.Properties!.PolicyDocument.Statement).toEqual([expect.objectContaining({
      Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    })]);
  });

  test('SQS: both dead-letter queues are KMS-encrypted with the CMK, keep 14 days and deny non-TLS access', () => {
    const queues = resourcesOfType(t, 'AWS::SQS::Queue').filter(([id]) => ofResponder(id));
    expect(queues.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['QuarantineDeadLetterQueue', 'QuarantineDeliveryDeadLetterQueue']);
    for (const [id, q] of queues) {
      expect(render(q.Properties!.KmsMasterKeyId)).toMatch(/^<<GetAtt:QuarantineKey\w+\.Arn>>$/);
      expect(q.Properties!.MessageRetentionPeriod).toBe(1209600);
      const policies = resourcesOfType(t, 'AWS::SQS::QueuePolicy').filter(([, p]) => JSON.stringify(p.Properties!.Queues).includes(id));
      const statements = policies.flatMap(([, p]) => p.Properties!.PolicyDocument.Statement);
      expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]));
    }
  });

  test('the alert topic is subscribed with the delivery DLQ; SNS and EventBridge may invoke the function', () => {
    const [, sub] = onlyResource(t, 'AWS::SNS::Subscription', 'to the alert topic', r => r.Properties!.Protocol === 'lambda');
    expect(render(sub.Properties!.Endpoint)).toBe(`<<GetAtt:${fnId}.Arn>>`);
    expect(render(sub.Properties!.TopicArn)).toMatch(/^<<Ref:AnomalyAlerts\w+>>$/);
    expect(render(JSON.parse(JSON.stringify(sub.Properties!.RedrivePolicy)).deadLetterTargetArn)).toMatch(/QuarantineDeliveryDeadLetterQueue/);
    const principals = resourcesOfType(t, 'AWS::Lambda::Permission').filter(([, r]) => render(r.Properties!.FunctionName) === `<<GetAtt:${fnId}.Arn>>`)
      .map(([, r]) => r.Properties!.Principal).sort();
    expect(principals).toEqual(['events.amazonaws.com', 'sns.amazonaws.com']);
  });

  test('EKS access entry: the function role, STANDARD, group zero-trust:responders, no access policy', () => {
    const [, entry] = onlyResource(t, 'AWS::EKS::AccessEntry', 'the responder\'s', (_r, id) => ofResponder(id));
    expect(render(entry.Properties!.PrincipalArn)).toMatch(/^<<GetAtt:QuarantineRole\w+\.Arn>>$/);
    expect(entry.Properties!.KubernetesGroups).toEqual(['zero-trust:responders']);
    expect(entry.Properties!.Type).toBe('STANDARD');
    expect(entry.Properties!.AccessPolicies ?? []).toEqual([]);
  });

  test('RBAC: per service namespace, a Role with get/list/patch pods and get workloads only, bound to the responders group; after the namespaces', () => {
    const [rbacId, rbac] = onlyResource(t, KUBERNETES_RESOURCE, 'the responder RBAC', (_r, id) => ofResponder(id));
    const objects = manifestObjects(rbac);
    expect(objects.map(o => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      'Role payments/zero-trust-quarantine-responder', 'Role shop/zero-trust-quarantine-responder',
      'RoleBinding payments/zero-trust-quarantine-responder', 'RoleBinding shop/zero-trust-quarantine-responder',
    ]);
    for (const role of objects.filter(o => o.kind === 'Role')) {
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
        { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: ['get'] },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
      ]);
      expect(role.rules.flatMap((r: any) => r.verbs)).not.toContain('*');
    }
    for (const binding of objects.filter(o => o.kind === 'RoleBinding')) {
      expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'zero-trust:responders' }]);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'zero-trust-quarantine-responder' });
    }
    expect(objects.some(o => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
    // The namespaces come from the cluster's policy manifests: the RBAC waits for them.
    const nsManifests = resourcesOfType(t, KUBERNETES_RESOURCE)
      .filter(([, r]) => manifestObjects(r).some(o => o.kind === 'Namespace' && ['shop', 'payments'].includes(o.metadata.name))).map(([id]) => id);
    expect(nsManifests.length).toBeGreaterThan(0);
    expect(rbac.DependsOn).toEqual(expect.arrayContaining(nsManifests));
    expect(rbacId).toMatch(/^QuarantineRbac/);
    expect(RESPONDER_RULES.flatMap(r => r.verbs).every(v => ['get', 'list', 'patch'].includes(v))).toBe(true);
  });

  test('no second admission policy for the quarantine label is added by the responder', () => {
    const vaps = resourcesOfType(t, KUBERNETES_RESOURCE).filter(([id]) => ofResponder(id))
      .flatMap(([, r]) => manifestObjects(r)).filter(o => /ValidatingAdmissionPolicy/.test(o.kind));
    expect(vaps).toEqual([]);
    // The cluster's one admission policy for the label admits the group the access entry carries.
    const clusterVaps = resourcesOfType(t, KUBERNETES_RESOURCE).flatMap(([, r]) => manifestObjects(r))
      .filter(o => o.kind === 'ValidatingAdmissionPolicy' && JSON.stringify(o).includes('zero-trust.cdk.io/quarantine'));
    expect(clusterVaps).toHaveLength(1);
    expect(JSON.stringify(clusterVaps[0])).toContain(RESPONDER_GROUP);
  });
});

describe('QuarantineResponder with QuarantineAction.SCALE_DOWN', () => {
  let scaled: Built;
  let labelOnly: Built;

  beforeAll(() => {
    scaled = build({ action: QuarantineAction.SCALE_DOWN });
    labelOnly = build({ action: QuarantineAction.LABEL });
  });

  const roles = (b: Built) => {
    const [, rbac] = onlyResource(b.template, KUBERNETES_RESOURCE, 'the responder RBAC', (_r, id) => ofResponder(id));
    return manifestObjects(rbac).filter(o => o.kind === 'Role');
  };
  const fnOf = (b: Built) => onlyResource(b.template, 'AWS::Lambda::Function', 'the responder', (_r, id) => ofResponder(id))[1];

  test('the function is told QUARANTINE_ACTION=scale-down', () => {
    expect(scaled.synthError).toBeUndefined();
    expect(fnOf(scaled).Properties.Environment.Variables.QUARANTINE_ACTION).toBe('scale-down');
    expect(scaled.responder.action).toBe(QuarantineAction.SCALE_DOWN);
    expect(QuarantineAction.SCALE_DOWN.scalesDown).toBe(true);
    expect(QuarantineAction.LABEL.scalesDown).toBe(false);
  });

  test('each Role gains patch on deployments/scale and statefulsets/scale (apps), and nothing else', () => {
    const rs = roles(scaled);
    expect(rs.map(r => r.metadata.namespace).sort()).toEqual(['payments', 'shop']);
    for (const role of rs) {
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
        { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: ['get'] },
        { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
        { apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale'], verbs: ['patch'] },
      ]);
    }
    expect(SCALE_DOWN_RULE).toEqual({ apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale'], verbs: ['patch'] });
  });

  test('the default, and an explicit LABEL, keep the RBAC exactly as it was: no scale subresource, no extra verb', () => {
    const expected = RESPONDER_RULES.map(r => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] }));
    for (const role of [...roles(labelOnly), ...roles(build())]) {
      expect(role.rules).toEqual(expected);
      expect(JSON.stringify(role.rules)).not.toContain('/scale');
    }
    expect(fnOf(labelOnly).Properties.Environment.Variables.QUARANTINE_ACTION).toBe('label');
  });

  test('nothing but the environment variable and the Role differs between the two templates', () => {
    const normalise = (b: Built) => JSON.parse(JSON.stringify(b.template)
      .replace(/"QUARANTINE_ACTION":"[a-z-]+"/g, '"QUARANTINE_ACTION":"?"')
      .replace(/,\{\\"apiGroups\\":\[\\"apps\\"\],\\"resources\\":\[\\"deployments\/scale\\",\\"statefulsets\/scale\\"\],\\"verbs\\":\[\\"patch\\"\]\}/g, ''));
    expect(JSON.stringify(scaled.template)).toContain('deployments/scale');
    expect(JSON.stringify(labelOnly.template)).not.toContain('deployments/scale');
    expect(normalise(scaled)).toEqual(normalise(labelOnly));
  });

  test('an action that is not one of the two is refused, naming the construct, field, value and fix', () => {
    const stack = new Stack(new App({ context: { ...CDK_JSON_CONTEXT } }), 'BadAction');
    const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl') });
    const forged = { value: 'delete', scalesDown: true } as unknown as QuarantineAction;
    expect(() => new QuarantineResponder(stack, 'Quarantine', { cluster: platform, action: forged }))
      .toThrow("QuarantineResponder 'BadAction/Quarantine': action must be QuarantineAction.LABEL or QuarantineAction.SCALE_DOWN (got \"delete\"). "
        + 'Fix: leave it unset to label only (the default).');
  });
});

describe('QuarantineResponder options and validation', () => {
  test('severityThreshold, reservedConcurrency and timeout reach the template; addNamespace extends RBAC and the environment', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-responder-'));
    const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT } });
    const stack = new Stack(app, 'Options');
    const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl'), clusterName: CLUSTER });
    platform.addService('order', { namespace: 'shop', ports: [ServicePort.http(8080)] });
    const responder = new QuarantineResponder(stack, 'Quarantine', { cluster: platform, severityThreshold: 4.5, reservedConcurrency: 5, timeout: Duration.seconds(30) });
    responder.addNamespace('batch-jobs');
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ detail: Match.objectLike({ severity: [{ numeric: ['>=', 4.5] }] }) }) });
    t.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 5, Timeout: 30, Environment: { Variables: Match.objectLike({ NAMESPACES: 'batch-jobs,shop', SEVERITY_THRESHOLD: '4.5' }) } });
    const [, rbac] = onlyResource(t.toJSON() as CfnTemplate, KUBERNETES_RESOURCE, 'rbac', (_r, id) => ofResponder(id));
    expect(manifestObjects(rbac).filter(o => o.kind === 'Role').map(o => o.metadata.namespace).sort()).toEqual(['batch-jobs', 'shop']);
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  const attempt = (props: Partial<QuarantineResponderProps>) => () => {
    const stack = new Stack(new App({ context: { ...CDK_JSON_CONTEXT } }), 'Bad');
    const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl') });
    new QuarantineResponder(stack, 'Quarantine', { cluster: platform, ...props });
  };

  test.each([0, 0.5, 10.5, 11, Number.NaN, -1])('severityThreshold %p is refused with the range', t => {
    expect(attempt({ severityThreshold: t })).toThrow(/severityThreshold must be a GuardDuty severity between 1 and 10/);
  });

  test.each([1, 7, 10])('severityThreshold %p is accepted', t => {
    expect(attempt({ severityThreshold: t })).not.toThrow();
  });

  test.each([0, -1, 1.5])('reservedConcurrency %p is refused', n => {
    expect(attempt({ reservedConcurrency: n })).toThrow(/reservedConcurrency must be an integer of at least 1/);
  });

  test.each([Duration.seconds(5), Duration.minutes(6)])('timeout %p is refused', d => {
    expect(attempt({ timeout: d })).toThrow(/timeout must be between 10 seconds and 5 minutes/);
  });

  test('the alarm topic (AlarmTopic, where CloudWatch, EventBridge and every AMP workspace publish) is refused as an alert topic, naming the fix', () => {
    const stack = new Stack(new App({ context: { ...CDK_JSON_CONTEXT } }), 'Alarmed');
    const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl') });
    const alarms = new AlarmTopic(stack, 'Alarms');
    const dedicated = new sns.Topic(stack, 'Dedicated');
    expect(() => new QuarantineResponder(stack, 'Quarantine', { cluster: platform, alertTopics: [dedicated, alarms.topic] }))
      .toThrow("QuarantineResponder 'Alarmed/Quarantine': alertTopics[1] is the alarm topic Alarmed/Alarms/Topic, which CloudWatch, EventBridge "
        + 'and every Managed Prometheus workspace of the account may publish to (and any principal sns:Publish is granted to): an alert there could be forged. '
        + "Fix: pass ZeroTrustObservability.quarantineAlertTopic (ManagedPrometheus.alertTopic), which only the workspace's alert manager may publish to; "
        + 'it receives the same alerts.');
  });

  test('a missing bundle fails with the command that builds it', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-no-bundle-'));
    try {
      expect(() => responderCode('Stack/Quarantine', empty))
        .toThrow(`QuarantineResponder 'Stack/Quarantine': the Lambda bundle ${path.join(empty, 'index.js')} is missing: run \`npx projen bundle\``);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
    // From lib/ (and build/ alike) the bundle is looked up at the package root.
    expect(path.relative(path.join(__dirname, '..', '..'), RESPONDER_BUNDLE_DIR)).toBe(path.join('assets', 'quarantine-responder'));
  });

  test('a cluster with no service namespaces gets no RBAC and an empty namespace list (the handler then acts nowhere)', () => {
    const stack = new Stack(new App({ context: { ...CDK_JSON_CONTEXT } }), 'Empty');
    const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl') });
    new QuarantineResponder(stack, 'Quarantine', { cluster: platform });
    const t = Template.fromStack(stack).toJSON() as CfnTemplate;
    expect(resourcesOfType(t, KUBERNETES_RESOURCE).filter(([id]) => ofResponder(id))).toEqual([]);
    const [, fn] = onlyResource(t, 'AWS::Lambda::Function', 'responder', (_r, id) => ofResponder(id));
    expect(fn.Properties!.Environment.Variables.NAMESPACES).toBe('');
  });
});
