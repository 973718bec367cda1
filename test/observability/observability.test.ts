import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { observedStack, ObservedStack } from './support';
import { AlarmTopic } from '../../lib/observability/alarm-topic';
import { AuditLogAlarms } from '../../lib/observability/audit-log-alarms';
import { GuardDutyDetector, GuardDutyEksProtection } from '../../lib/observability/guardduty-eks-protection';
import { alertManagerDefinition } from '../../lib/observability/prometheus-rules';
import { SCRAPER_USERNAME } from '../../lib/observability/scrape-configuration';

let built: ObservedStack;
let template: Template;

beforeAll(() => {
  built = observedStack();
  template = Template.fromStack(built.stack);
});

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
const resources = (type: string): Record<string, Resource> => template.findResources(type) as Record<string, Resource>;
const idOf = (token: string): string => {
  const r = built.stack.resolve(token);
  return r.Ref ?? r['Fn::GetAtt'][0];
};
const topicRef = () => ({ Ref: idOf(built.observability.alarmTopic.topicArn) });
const controlPlaneLogs = () => ({ Ref: idOf(built.platform.controlPlaneLogs.logGroupName) });

describe('alarm topic', () => {
  test('the SNS topic is encrypted with its own rotating CMK and refuses plain HTTP', () => {
    const keyId = idOf(built.observability.alarms.key.keyArn);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    expect(resources('AWS::KMS::Key')[keyId].Properties.EnableKeyRotation).toBe(true);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef()],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('CloudWatch, EventBridge and AMP of this account may publish, and use the key for it', () => {
    const services = ['cloudwatch.amazonaws.com', 'events.amazonaws.com', 'aps.amazonaws.com'];
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'AlarmPublishersOfThisAccount',
          Principal: { Service: services },
          Action: ['sns:Publish', 'sns:GetTopicAttributes'],
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        })]),
      },
    });
    const key = resources('AWS::KMS::Key')[idOf(built.observability.alarms.key.keyArn)];
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Sid: 'AlarmPublishersUseTheKey', Principal: { Service: services }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    }));
  });
});

describe('KMS grants', () => {
  test('the alarm topic key and the workspace key let only AWS services create grants (cfn-guard kms_create_grant_aws_service_check)', () => {
    for (const arn of [built.observability.alarms.key.keyArn, built.observability.prometheus!.encryptionKey.keyArn]) {
      expect(resources('AWS::KMS::Key')[idOf(arn)].Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
        Sid: 'OnlyAwsServicesCreateGrants',
        Effect: 'Deny',
        Action: 'kms:CreateGrant',
        Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
      }));
    }
  });
});

describe('OBS-03 audit-log alarms', () => {
  test.each([
    ['SecretReads', ['($.objectRef.resource = "secrets")', '(($.verb = "get") || ($.verb = "list") || ($.verb = "watch"))',
      '($.user.username != "system:kube-controller-manager")', '($.user.username != "system:node:*")']],
    ['PodExecAttach', ['($.objectRef.resource = "pods")', '(($.objectRef.subresource = "exec") || ($.objectRef.subresource = "attach"))']],
    ['RbacChanges', ['($.objectRef.resource = "clusterrolebindings")', '($.objectRef.resource = "roles")', '($.verb = "patch")', '($.verb = "delete")']],
    ['AdmissionChanges', ['($.objectRef.resource = "validatingwebhookconfigurations")', '($.objectRef.resource = "mutatingwebhookconfigurations")',
      '($.user.username != "system:serviceaccount:istio-system:istiod")']],
    ['AnonymousRequests', ['($.user.username = "system:anonymous")']],
    ['ForbiddenRequests', ['($.responseStatus.code = 401) || ($.responseStatus.code = 403)']],
  ])('%s: a metric filter on the control-plane log group, and an alarm to the encrypted topic', (id, fragments) => {
    const filters = Object.values(resources('AWS::Logs::MetricFilter')).filter(f => f.Properties.MetricTransformations[0].MetricName === id);
    expect(filters).toHaveLength(1);
    const f = filters[0].Properties;
    expect(f.LogGroupName).toEqual(controlPlaneLogs());
    expect(f.FilterPattern).toMatch(/^\{ .* \}$/);
    for (const fragment of fragments) {
      expect(f.FilterPattern).toContain(fragment);
    }
    expect(f.FilterPattern.length).toBeLessThanOrEqual(1024);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: id,
      Namespace: 'ZeroTrustEks/Audit',
      Statistic: 'Sum',
      Period: 300,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: id === 'ForbiddenRequests' ? 5 : 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
    });
  });

  test('every alarm in the stack has an action (NIST CloudWatchAlarmAction)', () => {
    for (const alarm of Object.values(resources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topicRef()]);
    }
    expect(Object.keys(resources('AWS::CloudWatch::Alarm'))).toHaveLength(6);
  });

  test('the exact Secret-read pattern with a custom allow-list', () => {
    const stack = new Stack(new App(), 'S');
    const alarms = new AuditLogAlarms(stack, 'Audit', {
      logGroup: new logs.LogGroup(stack, 'G'), alarmTopic: new sns.Topic(stack, 'T'), secretReaders: ['system:serviceaccount:ops:vault-*'],
    });
    expect(alarms._patterns.find(p => p.id === 'SecretReads')!.pattern).toBe('{ ($.objectRef.resource = "secrets") && '
      + '(($.verb = "get") || ($.verb = "list") || ($.verb = "watch")) && ($.user.username != "system:serviceaccount:ops:vault-*") }');
  });

  test.each([
    [{ secretReaders: ['bad name'] }, "AuditLogAlarms 'Audit': secretReaders entries must be Kubernetes usernames without quotes, backslashes or spaces (got \"bad name\"). Fix:"],
    [{ webhookWriters: ['a"b'] }, "AuditLogAlarms 'Audit': webhookWriters entries must be Kubernetes usernames"],
    [{ secretReaders: Array.from({ length: 40 }, (_, i) => `system:serviceaccount:team-${i}:reader`) },
      "AuditLogAlarms 'Audit': secretReaders makes the SecretReads filter pattern"],
    [{ forbiddenThreshold: 0 }, "AuditLogAlarms 'Audit': forbiddenThreshold must be a positive integer (got 0). Fix:"],
  ])('rejects %j naming the construct, field, value and fix', (bad, message) => {
    const stack = new Stack(new App(), 'S');
    expect(() => new AuditLogAlarms(stack, 'Audit', { logGroup: new logs.LogGroup(stack, 'G'), alarmTopic: new sns.Topic(stack, 'T'), ...bad }))
      .toThrow(message);
  });
});

describe('OBS-02 container and access logs', () => {
  test('the four Container Insights log groups exist, KMS-encrypted with the logs key and retained a year', () => {
    const logsKey = { 'Fn::GetAtt': [idOf(built.platform.keys.logsKey.keyArn), 'Arn'] };
    for (const suffix of ['application', 'dataplane', 'host', 'performance']) {
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: `/aws/containerinsights/${built.platform.clusterName}/${suffix}`, KmsKeyId: logsKey, RetentionInDays: 365,
      });
    }
  });

  test('every log group of the stack has KMS and retention', () => {
    for (const [id, group] of Object.entries(resources('AWS::Logs::LogGroup'))) {
      expect([id, group.Properties.KmsKeyId !== undefined, group.Properties.RetentionInDays !== undefined]).toEqual([id, true, true]);
    }
  });

  test('the amazon-cloudwatch-observability add-on runs after the groups exist, with its own IRSA role', () => {
    const addons = Object.entries(resources('AWS::EKS::Addon')).filter(([, a]) => a.Properties.AddonName === 'amazon-cloudwatch-observability');
    expect(addons).toHaveLength(1);
    const [, addon] = addons[0];
    for (const group of Object.values(built.observability.containerLogs!.logGroups)) {
      expect(addon.DependsOn).toContain(idOf(group.logGroupArn));
    }
    expect(addon.Properties.ServiceAccountRoleArn).toEqual({ 'Fn::GetAtt': [idOf(built.observability.containerLogs!.agentRole.roleArn), 'Arn'] });
    expect(JSON.parse(addon.Properties.ConfigurationValues)).toEqual({ containerLogs: { enabled: true } });
  });

  test('the agent may write only to its four groups; metrics only to ContainerInsights namespaces', () => {
    const policy = Object.values(resources('AWS::IAM::ManagedPolicy')).find(p => p.Properties.Description === 'Least privilege of the amazon-cloudwatch-observability add-on')!;
    const statements = policy.Properties.PolicyDocument.Statement;
    const write = statements.find((s: any) => s.Sid === 'WriteTheContainerInsightsGroups');
    expect(write.Resource).toHaveLength(8);
    expect(JSON.stringify(write.Resource)).not.toContain('log-group:*"');
    expect(statements.find((s: any) => s.Sid === 'ContainerInsightsMetrics').Condition).toEqual({ StringLike: { 'cloudwatch:namespace': ['ContainerInsights', 'ContainerInsights/*'] } });
    const trust = resources('AWS::IAM::Role')[idOf(built.observability.containerLogs!.agentRole.roleArn)].Properties.AssumeRolePolicyDocument;
    expect(JSON.stringify(trust)).toContain('sts:AssumeRoleWithWebIdentity');
  });
});

describe('metrics: Managed Prometheus', () => {
  test('the workspace is encrypted with a CMK and routes alerts to the dedicated alert topic and to the alarm topic', () => {
    const ws = Object.values(resources('AWS::APS::Workspace'));
    expect(ws).toHaveLength(1);
    expect(ws[0].Properties.KmsKeyArn).toEqual({ 'Fn::GetAtt': [idOf(built.observability.prometheus!.encryptionKey.keyArn), 'Arn'] });
    const definition = JSON.stringify(built.stack.resolve(ws[0].Properties.AlertManagerDefinition));
    expect(definition).toContain('sns_configs');
    expect(definition).toContain(idOf(built.observability.alarmTopic.topicArn));
    expect(definition).toContain(idOf(built.observability.prometheus!.alertTopic.topicArn));
  });

  test('the alert manager definition is alertManagerDefinition of both topics, the region and the cluster\'s name (for the responder)', () => {
    const ws = Object.values(resources('AWS::APS::Workspace'))[0];
    const joined = built.stack.resolve(ws.Properties.AlertManagerDefinition)['Fn::Join'];
    const refs: Record<string, string> = {
      [idOf(built.observability.prometheus!.alertTopic.topicArn)]: '<alert-topic>',
      [idOf(built.observability.alarmTopic.topicArn)]: '<alarm-topic>',
      'AWS::Region': '<region>',
      [idOf(built.platform.cluster.clusterName)]: '<cluster>',
    };
    const text = joined[1].map((p: string | { Ref: string }) => (typeof p === 'string' ? p : refs[p.Ref] ?? `<unexpected ${JSON.stringify(p)}>`)).join(joined[0]);
    expect(text).toBe(alertManagerDefinition({ alertTopicArn: '<alert-topic>', alarmTopicArn: '<alarm-topic>' }, '<region>', '<cluster>'));
    expect(text).toContain('"cluster":"<cluster>"');
  });

  describe('the dedicated alert topic (quarantine triggers)', () => {
    const prometheus = () => built.observability.prometheus!;
    const workspaceArn = () => ({ 'Fn::GetAtt': [idOf(prometheus().workspace.attrArn), 'Arn'] });
    const alertTopicRef = () => ({ Ref: idOf(prometheus().alertTopic.topicArn) });
    const policyStatements = (): any[] => {
      const policies = Object.values(resources('AWS::SNS::TopicPolicy')).filter(p => JSON.stringify(p.Properties.Topics) === JSON.stringify([alertTopicRef()]));
      expect(policies).toHaveLength(1);
      return policies[0].Properties.PolicyDocument.Statement;
    };

    test('is exposed as ManagedPrometheus.alertTopic and ZeroTrustObservability.quarantineAlertTopic, distinct from the alarm topic', () => {
      expect(built.observability.quarantineAlertTopic).toBe(prometheus().alertTopic);
      expect(prometheus().alertTopic).not.toBe(built.observability.alarmTopic);
    });

    test('is encrypted with its own rotating, retained CMK, which only AWS services may grant on', () => {
      const keyId = idOf(prometheus().alertTopicKey.keyArn);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      expect(keyId).not.toBe(idOf(built.observability.alarms.key.keyArn));
      expect(keyId).not.toBe(idOf(prometheus().encryptionKey.keyArn));
      const key = resources('AWS::KMS::Key')[keyId];
      expect([key.Properties.EnableKeyRotation, (key as any).DeletionPolicy]).toEqual([true, 'Retain']);
      expect(key.Properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({ Sid: 'OnlyAwsServicesCreateGrants', Effect: 'Deny' }));
    });

    test('the key lets aps.amazonaws.com of this account, and no other service, encrypt for the topic', () => {
      const statements: any[] = resources('AWS::KMS::Key')[idOf(prometheus().alertTopicKey.keyArn)].Properties.KeyPolicy.Statement;
      const forServices = statements.filter(st => st.Principal?.Service !== undefined);
      expect(forServices).toEqual([{
        Sid: 'AlertManagerUsesTheKey',
        Effect: 'Allow',
        Principal: { Service: 'aps.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }]);
    });

    test('the topic policy: TLS only; aps.amazonaws.com may publish for this workspace of this account; sns:Publish is denied to everyone else', () => {
      const statements = policyStatements();
      expect(statements).toEqual([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        {
          Sid: 'OnlyThisWorkspacePublishes',
          Effect: 'Allow',
          Principal: { Service: 'aps.amazonaws.com' },
          Action: ['sns:Publish', 'sns:GetTopicAttributes'],
          Resource: alertTopicRef(),
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnEquals: { 'aws:SourceArn': workspaceArn() } },
        },
        {
          Sid: 'DenyPublishFromAnyoneElse',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sns:Publish',
          Resource: alertTopicRef(),
          Condition: { ArnNotEquals: { 'aws:SourceArn': workspaceArn() } },
        },
      ]);
      // No other Allow: CloudWatch, EventBridge and IAM principals are not admitted (they are, to the alarm topic).
      expect(statements.filter(st => st.Effect === 'Allow').map(st => st.Principal)).toEqual([{ Service: 'aps.amazonaws.com' }]);
    });

    test('who may publish, by the IAM rules for these statements (a negated operator on a missing key matches)', () => {
      // The request contexts of the publishers that matter, evaluated against the policy's statements by
      // a deliberately small evaluator of exactly the operators used (StringEquals, ArnEquals, ArnNotEquals, Bool).
      const ws = 'arn:aws:aps:eu-west-1:111122223333:workspace/ws-1';
      const resolve = (v: any): any => (JSON.stringify(v) === JSON.stringify(workspaceArn()) ? ws
        : JSON.stringify(v) === JSON.stringify({ Ref: 'AWS::AccountId' }) ? '111122223333' : v);
      type Ctx = { service?: string; arn?: string; keys: Record<string, string> };
      const matches = (st: any, ctx: Ctx): boolean => {
        // '*' and { AWS: '*' } (aws-cdk-lib's TLS statement) are taken to cover every principal, services too.
        const principal = st.Principal === '*' || st.Principal.AWS === '*' || (ctx.service !== undefined && st.Principal.Service === ctx.service);
        const actions = [st.Action].flat();
        if (!principal || !actions.includes('sns:Publish')) {
          return false;
        }
        return Object.entries(st.Condition ?? {}).every(([op, kv]) => Object.entries(kv as Record<string, unknown>).every(([key, want]) => {
          const have = ctx.keys[key];
          const value = resolve(want);
          switch (op) {
            case 'StringEquals': case 'ArnEquals': case 'Bool': return have !== undefined && have === value;
            case 'ArnNotEquals': return have === undefined || have !== value;
            default: throw new Error(`operator ${op} is not known to this evaluator`);
          }
        }));
      };
      const decide = (ctx: Ctx) => {
        const statements = policyStatements();
        if (statements.some(st => st.Effect === 'Deny' && matches(st, ctx))) {
          return 'denied';
        }
        return statements.some(st => st.Effect === 'Allow' && matches(st, ctx)) ? 'allowed' : 'not allowed by the topic';
      };
      const tls = { 'aws:SecureTransport': 'true' };
      expect(decide({ service: 'aps.amazonaws.com', keys: { ...tls, 'aws:SourceAccount': '111122223333', 'aws:SourceArn': ws } })).toBe('allowed');
      expect(decide({ service: 'aps.amazonaws.com', keys: { ...tls, 'aws:SourceAccount': '111122223333', 'aws:SourceArn': `${ws}-other` } })).toBe('denied');
      expect(decide({ service: 'cloudwatch.amazonaws.com', keys: { ...tls, 'aws:SourceAccount': '111122223333', 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:x' } }))
        .toBe('denied');
      expect(decide({ service: 'events.amazonaws.com', keys: { ...tls, 'aws:SourceAccount': '111122223333', 'aws:SourceArn': 'arn:aws:events:eu-west-1:111122223333:rule/x' } }))
        .toBe('denied');
      // An IAM user or role of the account, even one whose identity policy allows sns:Publish on *: no aws:SourceArn.
      expect(decide({ arn: 'arn:aws:iam::111122223333:role/admin', keys: { ...tls } })).toBe('denied');
      // The workspace itself over plain HTTP: the TLS statement still applies.
      expect(decide({ service: 'aps.amazonaws.com', keys: { 'aws:SecureTransport': 'false', 'aws:SourceAccount': '111122223333', 'aws:SourceArn': ws } })).toBe('denied');
    });
  });

  test('the managed collector sits in the scraper subnets behind its own security group, writing to the workspace', () => {
    const scraper = Object.values(resources('AWS::APS::Scraper'))[0].Properties;
    const scraperSubnets = built.platform.network.scraperSubnets!.map(s => ({ Ref: idOf(s.subnetId) }));
    expect(scraper.Source.EksConfiguration.SubnetIds).toEqual(scraperSubnets);
    expect(scraper.Source.EksConfiguration.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [idOf(built.observability.prometheus!.securityGroup.securityGroupId), 'GroupId'] }]);
    expect(scraper.Destination.AmpConfiguration.WorkspaceArn).toEqual({ 'Fn::GetAtt': [idOf(built.observability.prometheus!.workspace.attrArn), 'Arn'] });
    expect(scraper.ScrapeConfiguration.ConfigurationBlob).toContain('regex: http-envoy-prom');
    expect(scraper.ScrapeConfiguration.ConfigurationBlob).toContain('regex: istiod;http-monitoring');
  });

  test('the collector security group sends only to the cluster security group on 15020, 15090, 15014 and 443', () => {
    const sgId = idOf(built.observability.prometheus!.securityGroup.securityGroupId);
    const sg = resources('AWS::EC2::SecurityGroup')[sgId].Properties;
    // The inline "no traffic" rule stays: without inline egress, EC2 would add its default allow-all.
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })]);
    const egress = Object.values(resources('AWS::EC2::SecurityGroupEgress')).filter(e => JSON.stringify(e.Properties.GroupId).includes(sgId));
    expect(egress.map(e => e.Properties.FromPort).sort((a, b) => a - b)).toEqual([443, 15014, 15020, 15090]);
    for (const e of egress) {
      expect(e.Properties.DestinationSecurityGroupId).toEqual(built.stack.resolve(built.platform.cluster.clusterSecurityGroup.securityGroupId));
      expect(e.Properties.ToPort).toBe(e.Properties.FromPort);
    }
    const ingress = Object.values(resources('AWS::EC2::SecurityGroupIngress')).filter(e => JSON.stringify(e.Properties.SourceSecurityGroupId ?? '').includes(sgId));
    expect(ingress.map(e => e.Properties.FromPort).sort((a, b) => a - b)).toEqual([443, 15014, 15020, 15090]);
  });

  test('the collector maps to aps-collector-user through an access entry with no access policy, bound to a read-only discovery role', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', { Username: SCRAPER_USERNAME, Type: 'STANDARD', AccessPolicies: Match.absent() });
    const manifests = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource') as Record<string, Resource>)
      .map(r => JSON.stringify(built.stack.resolve(r.Properties.Manifest))).filter(m => m.includes('zero-trust:metrics-scraper'));
    expect(manifests).toHaveLength(1);
    expect(manifests[0]).toContain('aps-collector-user');
    expect(manifests[0]).not.toMatch(/secrets|create|patch|delete|nodes\/proxy|\\"\*\\"/);
  });

  test('OBS-05: rule groups record denials and request rates per source workload and alert on them and on pilot_total_xds_rejects', () => {
    const data: string = Object.values(resources('AWS::APS::RuleGroupsNamespace'))[0].Properties.Data;
    expect(data).toContain('record: zero_trust:istio_requests_denied:rate5m');
    expect(data).toContain('istio_requests_total{reporter="destination", response_code="403"}');
    expect(data).toContain('sum by (source_workload_namespace, source_workload, source_principal');
    expect(data).toContain('alert: MeshAuthorizationDenials');
    expect(data).toContain('alert: MeshRequestRateAnomaly');
    expect(data).toContain('max_over_time(zero_trust:istio_requests_by_source:rate5m[1d] offset 30m)');
    expect(data).not.toContain('avg_over_time');
    expect(data).toMatch(/alert: IstioXdsRejects\n {8}expr: sum\(increase\(pilot_total_xds_rejects\[10m\]\)\) > 0/);
  });

  test('OBS-05: the cluster chart emits the mesh-wide access-log Telemetry', () => {
    const telemetry = built.platform.policies.toJson().filter((o: any) => o.kind === 'Telemetry');
    expect(telemetry).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ namespace: 'istio-system' }), spec: { accessLogging: [{ providers: [{ name: 'envoy' }] }] } })]);
  });
});

describe('GuardDuty and dashboard', () => {
  test('GuardDutyDetector.create(): a detector with EKS audit logs and runtime monitoring with managed add-on', () => {
    template.hasResourceProperties('AWS::GuardDuty::Detector', {
      Enable: true,
      Features: [
        { Name: 'EKS_AUDIT_LOGS', Status: 'ENABLED' },
        { Name: 'RUNTIME_MONITORING', Status: 'ENABLED', AdditionalConfiguration: [{ Name: 'EKS_ADDON_MANAGEMENT', Status: 'ENABLED' }] },
      ],
    });
  });

  test('GuardDutyDetector.existing(id): no detector resource, the id is exposed, and a note says what to enable', () => {
    const stack = new Stack(new App(), 'S');
    const gd = new GuardDutyEksProtection(stack, 'Gd', { detector: GuardDutyDetector.existing('12abc34d567e8fa901bc2d34e56789f0') });
    expect(gd.detectorId).toBe('12abc34d567e8fa901bc2d34e56789f0');
    Template.fromStack(stack).resourceCountIs('AWS::GuardDuty::Detector', 0);
    Annotations.fromStack(stack).hasInfo('/S/Gd', Match.stringLikeRegexp('EKS_AUDIT_LOGS and RUNTIME_MONITORING'));
    expect(() => new GuardDutyEksProtection(stack, 'Bad', { detector: GuardDutyDetector.existing('arn:aws:guardduty:x') }))
      .toThrow("GuardDutyEksProtection 'Bad': detector id must be the 32 lowercase alphanumerics GuardDuty shows (got 'arn:aws:guardduty:x'). Fix:");
  });

  test('GuardDuty is off unless asked for', () => {
    const off = observedStack({ guardDuty: undefined, managedPrometheus: false, containerLogs: false, dashboard: false });
    const t = Template.fromStack(off.stack);
    t.resourceCountIs('AWS::GuardDuty::Detector', 0);
    t.resourceCountIs('AWS::APS::Workspace', 0);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 6);
  });

  test('a CloudWatch dashboard shows the alarms, mesh denials from the access logs and exec/RBAC changes from the audit log', () => {
    const body = JSON.stringify(built.stack.resolve(Object.values(resources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody));
    expect(body).toContain('Kubernetes audit alarms');
    expect(body).toContain('rbac_access_denied');
    expect(body).toContain('exec / attach into pods');
  });
});

describe('validation of the other constructs', () => {
  test('ManagedPrometheus rejects scraper subnets in one zone and a bad interval, naming field, value and fix', () => {
    const stack = built.stack;
    const { ManagedPrometheus } = jest.requireActual('../../lib/observability/managed-prometheus');
    const subnets = built.platform.network.scraperSubnets!;
    const topic = new AlarmTopic(stack, 'ExtraTopic').topic;
    expect(() => new ManagedPrometheus(stack, 'P1', { cluster: built.platform.cluster, scraperSubnets: [subnets[0]], alarmTopic: topic }))
      .toThrow("ManagedPrometheus 'P1': scraperSubnets must hold at least two subnets in two availability zones (got 1 in 1). Fix:");
    expect(() => new ManagedPrometheus(stack, 'P2', { cluster: built.platform.cluster, scraperSubnets: subnets, alarmTopic: topic, scrapeIntervalSeconds: 1 }))
      .toThrow("ManagedPrometheus 'P2': scrapeIntervalSeconds must be an integer from 10 to 300 (got 1). Fix:");
    expect(() => new ManagedPrometheus(stack, 'P3', { cluster: built.platform.cluster, scraperSubnets: subnets, alarmTopic: topic, anomalyFactor: 1 }))
      .toThrow("ManagedPrometheus 'P3': anomalyFactor must be a finite number above 1 (got 1). Fix:");
    expect(() => new ManagedPrometheus(stack, 'P4', { cluster: built.platform.cluster, scraperSubnets: subnets, alarmTopic: topic, denialRateThreshold: -1 }))
      .toThrow("ManagedPrometheus 'P4': denialRateThreshold must be a finite number of at least 0 (got -1). Fix:");
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new ManagedPrometheus(stack, `P5${bad}`, { cluster: built.platform.cluster, scraperSubnets: subnets, alarmTopic: topic, anomalyMinimumRate: bad }))
        .toThrow(`ManagedPrometheus 'P5${bad}': anomalyMinimumRate must be a finite number of requests per second of at least 0 (got ${bad}). Fix: leave it unset for 1`);
    }
  });

  test('ContainerInsightsLogging rejects infinite retention', () => {
    const { ContainerInsightsLogging } = jest.requireActual('../../lib/observability/container-insights');
    expect(() => new ContainerInsightsLogging(built.stack, 'Logs2', {
      cluster: built.platform.cluster, clusterName: 'x', encryptionKey: built.platform.keys.logsKey, retention: logs.RetentionDays.INFINITE,
    })).toThrow("ContainerInsightsLogging 'Logs2': retention must be finite (got INFINITE). Fix:");
  });

  test('the scraper subnets are the SegmentedVpc Scraper tier (isolated, no pods)', () => {
    const subnets = built.platform.network.scraperSubnets!;
    expect(subnets).toHaveLength(2);
    const isolated = built.platform.network.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnets;
    expect(isolated).toEqual(expect.arrayContaining(subnets));
  });
});
