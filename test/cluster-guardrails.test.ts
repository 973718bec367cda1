/**
 * ZeroTrustCluster's guardrails, human access and service-account RBAC, on small clusters: props,
 * the opt-out, and an error (construct, field, value, fix) for every bad input.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AccessLevel, EnforcementAction, ServicePort, ZeroTrustCluster, ZeroTrustClusterProps } from '../lib';
import { constraintMatches, evaluatePolicy, Json, policyMatches } from './governance/admission-cel';
import { CfnTemplate, HELM_CHART, KUBERNETES_RESOURCE, manifestObjects, render, resourcesOfType } from './support/aws/cfn';
import { CDK_JSON_CONTEXT } from './support/aws/reference-app';
import { expectValidManifests } from './support/schema-validator';
import { assumedRolePrefix } from '../lib/identity/assumed-role';
import { ClusterService } from '../lib/identity/cluster-service';

const ROLE = 'arn:aws:iam::111122223333:role/ShopTeam';

interface Built {
  readonly stack: Stack;
  readonly platform: ZeroTrustCluster;
  readonly services: Record<string, ClusterService>;
}

function cluster(props: Partial<ZeroTrustClusterProps> = {}): Built {
  const app = new App({ context: CDK_JSON_CONTEXT });
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
  const platform = new ZeroTrustCluster(stack, 'Platform', {
    version: eks.KubernetesVersion.V1_35,
    kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', 'arn:aws:lambda:eu-west-1:111122223333:layer:kubectl:1'),
    defaultNamespace: 'shop',
    ...props,
  });
  const services = {
    front: platform.addService('front', { ports: [ServicePort.http(8080)] }),
    ledger: platform.addService('ledger', { namespace: 'billing', ports: [ServicePort.grpc(9090)] }),
  };
  return { stack, platform, services };
}

const synth = (b: Built) => Template.fromStack(b.stack).toJSON() as CfnTemplate;
const objectsOf = (t: CfnTemplate, prefix: string) =>
  resourcesOfType(t, KUBERNETES_RESOURCE).filter(([id]) => id.startsWith(prefix)).flatMap(([, r]) => manifestObjects(r) as unknown as Json[]);

describe('guardrails on a cluster', () => {
  test('admissionGuardrails: false installs no Gatekeeper and no admission policy, warns, and says so in the stack output', () => {
    const b = cluster({ admissionGuardrails: false });
    const t = synth(b);
    expect(resourcesOfType(t, HELM_CHART).map(([, r]) => r.Properties!.Chart)).not.toContain('gatekeeper');
    expect(JSON.stringify(t)).not.toContain('ValidatingAdmissionPolicy');
    expect(b.platform.guardrails).toBeUndefined();
    expect(Object.values(t.Outputs).map(o => (o as { Value: string }).Value)).toEqual(['disabled']);
    Annotations.fromStack(b.stack).hasWarning('/Test/Platform', Match.stringLikeRegexp('admissionGuardrails is false'));
  });

  test('per-guardrail enforcement and exemptions, own registries and Gatekeeper version/replicas reach the output', () => {
    const b = cluster({
      guardrails: {
        allowedImageRegistries: ['registry.example.com/'],
        hostIsolation: { enforcementAction: EnforcementAction.WARN },
        namespaceLabels: { exemptions: [{ namespace: 'legacy', reason: 'migrating until 2027-01' }] },
        managedObjects: { enforcementAction: EnforcementAction.DRYRUN },
        gatekeeperVersion: '3.21.1',
        gatekeeperReplicas: 2,
      },
    });
    const t = synth(b);
    const objects = objectsOf(t, 'PlatformGuardrails') as any[];
    expect(objects.find(o => o.kind === 'ZeroTrustHostIsolation').spec.enforcementAction).toBe('warn');
    expect(objects.find(o => o.kind === 'ZeroTrustPodServiceAccount').spec.enforcementAction).toBe('deny');
    const labels = objects.find(o => o.kind === 'ZeroTrustNamespaceLabels');
    expect(labels.spec.match.excludedNamespaces).toContain('legacy');
    expect(JSON.parse(labels.metadata.annotations['zero-trust.cdk.io/exemptions'])).toEqual([{ namespace: 'legacy', reason: 'migrating until 2027-01' }]);
    expect(objects.find(o => o.kind === 'ZeroTrustAllowedRegistries').spec.parameters.registries).toEqual(['registry.example.com/']);
    expect(objects.find(o => o.kind === 'ValidatingAdmissionPolicyBinding' && o.metadata.name === 'zero-trust-managed-objects').spec.validationActions).toEqual(['Audit']);
    const [, chart] = resourcesOfType(t, HELM_CHART).find(([, r]) => r.Properties!.Chart === 'gatekeeper')!;
    expect(chart.Properties!.Version).toBe('3.21.1');
    const values = JSON.parse(render(chart.Properties!.Values));
    expect([values.replicas, values.pdb.controllerManager.minAvailable, values.image.release]).toEqual([2, 1, 'v3.21.1']);
  });

  test('the identities: deployers are sessions of the kubectl handler role, responders the zero-trust:responders group, break-glass its role\'s sessions', () => {
    const b = cluster();
    const t = synth(b);
    const policies = objectsOf(t, 'PlatformGuardrailsAdmissionPolicies') as any[];
    const managed = JSON.stringify(policies.find(p => p.metadata.name === 'zero-trust-managed-objects').spec.variables);
    const quarantine = JSON.stringify(policies.find(p => p.metadata.name === 'zero-trust-quarantine-label').spec.variables);
    const kubectlRole = String((b.stack.resolve(b.platform.cluster.kubectlProvider!.role!.roleName) as { Ref: string }).Ref);
    const breakGlassRole = String((b.stack.resolve(b.platform.breakGlass.role.roleName) as { Ref: string }).Ref);
    expect(managed).toContain(`:assumed-role/<<Ref:${kubectlRole}>>/`);
    expect(managed).toContain(`:assumed-role/<<Ref:${breakGlassRole}>>/`);
    expect(managed).not.toContain('zero-trust:responders');
    expect(quarantine).toContain('zero-trust:responders');
    expect(quarantine).toContain(`:assumed-role/<<Ref:${breakGlassRole}>>/`);
    expect(quarantine).not.toContain(kubectlRole);
  });

  test('the AWS-managed add-on namespaces are system namespaces: their Namespace and host-reading DaemonSets are not judged; the same pod in a tenant namespace is', () => {
    const objects = objectsOf(synth(cluster()), 'PlatformGuardrails') as Json[];
    const constraints = objects.filter(o => String(o.apiVersion).startsWith('constraints.gatekeeper.sh/'));
    expect(constraints.length).toBeGreaterThanOrEqual(7);
    for (const c of constraints) {
      expect({ kind: c.kind, excluded: (c as any).spec.match.excludedNamespaces })
        .toEqual({ kind: c.kind, excluded: expect.arrayContaining(['amazon-cloudwatch', 'amazon-guardduty', 'kube-system']) });
    }
    // A CloudWatch agent-like DaemonSet: hostPath logs, a mounted token, images from the EKS add-on registry.
    const agent = (namespace: string): Json => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'fluent-bit', namespace },
      spec: {
        template: {
          spec: {
            serviceAccountName: 'cloudwatch-agent',
            containers: [{ name: 'fluent-bit', image: '602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/aws-for-fluent-bit:3', volumeMounts: [{ name: 'varlog', mountPath: '/var/log' }] }],
            volumes: [{ name: 'varlog', hostPath: { path: '/var/log' } }],
          },
        },
      },
    });
    const host = constraints.find(c => c.kind === 'ZeroTrustHostIsolation')!;
    expect(constraintMatches(host, agent('amazon-cloudwatch'))).toBe(false);
    expect(constraintMatches(host, agent('shop'))).toBe(true);
    const labels = constraints.find(c => c.kind === 'ZeroTrustNamespaceLabels')!;
    for (const name of ['amazon-cloudwatch', 'amazon-guardduty']) {
      expect(constraintMatches(labels, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).toBe(false);
    }
  });

  test('rejects a single Gatekeeper replica (a fail-closed webhook would block the cluster while it restarts)', () => {
    expect(() => cluster({ guardrails: { gatekeeperReplicas: 1 } }))
      .toThrow(/ZeroTrustCluster 'Test\/Platform': guardrails.gatekeeperReplicas is 1.*Fix: use 2 or more/);
  });
});

describe('break-glass', () => {
  test('a named principal is trusted only with MFA', () => {
    const b = cluster({ breakGlass: { trustedPrincipal: new iam.ArnPrincipal('arn:aws:iam::111122223333:role/IncidentCommander') } });
    const t = Template.fromStack(b.stack);
    t.hasResourceProperties('AWS::IAM::Role', {
      Description: 'Break-glass cluster admin of an EKS cluster: assume with MFA only, in an incident',
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:role/IncidentCommander' },
          Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
        }],
      },
    });
  });

  test('rejects a wildcard principal', () => {
    expect(() => cluster({ breakGlass: { trustedPrincipal: new iam.AnyPrincipal() } }))
      .toThrow(/BreakGlassAccess 'Test\/Platform\/BreakGlass': breakGlass.trustedPrincipal is a wildcard.*Fix:/);
  });
});

describe('grantAccess', () => {
  test('VIEW: AWS\'s view policy scoped to the namespaces, no Kubernetes groups, no RBAC objects', () => {
    const b = cluster();
    b.platform.grantAccess('Auditors', ROLE, { namespaces: ['shop', 'billing'], level: AccessLevel.VIEW });
    const t = synth(b);
    const [[, entry]] = resourcesOfType(t, 'AWS::EKS::AccessEntry').filter(([id]) => id.startsWith('PlatformAccessAuditors'));
    expect(entry.Properties!.KubernetesGroups).toBeUndefined();
    expect(entry.Properties!.AccessPolicies).toEqual([{
      PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSViewPolicy']] },
      AccessScope: { Type: 'namespace', Namespaces: ['billing', 'shop'] },
    }]);
    expect(objectsOf(t, 'PlatformAccessRbac')).toEqual([]);
  });

  test('EDIT with secrets: editor and Secrets Roles bound to the grant\'s groups in each namespace; schema-valid; the deployer may apply them', () => {
    const b = cluster();
    b.platform.grantAccess('Team', ROLE, { namespaces: ['shop'], level: AccessLevel.EDIT, secrets: true });
    const t = synth(b);
    const [[, entry]] = resourcesOfType(t, 'AWS::EKS::AccessEntry').filter(([id]) => id.startsWith('PlatformAccessTeam'));
    expect(entry.Properties!.KubernetesGroups).toEqual(['zero-trust:shop:editors', 'zero-trust:shop:secret-editors']);
    const rbac = objectsOf(t, 'PlatformAccessRbac') as any[];
    expect(rbac.map(o => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'Role shop/zero-trust.editor', 'RoleBinding shop/zero-trust.editor', 'Role shop/zero-trust.secret-editor', 'RoleBinding shop/zero-trust.secret-editor',
    ]);
    expect(rbac[2].rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }]);
    expect(rbac[3].subjects[0].name).toBe('zero-trust:shop:secret-editors');
    expectValidManifests(rbac);
    const policies = objectsOf(t, 'PlatformGuardrailsAdmissionPolicies');
    const managed = policies.find(p => p.kind === 'ValidatingAdmissionPolicy' && (p.metadata as Json).name === 'zero-trust-managed-objects')!;
    const binding = policies.find(p => p.kind === 'ValidatingAdmissionPolicyBinding' && (p.metadata as Json).name === 'zero-trust-managed-objects')!;
    const deployer = render(b.stack.resolve(assumedRolePrefix(b.platform.cluster.kubectlProvider!.role!.roleName)));
    for (const o of rbac) {
      const review = { operation: 'CREATE' as const, object: o, userInfo: { username: `${deployer}s` } };
      expect(policyMatches(managed, binding, review)).toBe(true);
      expect(evaluatePolicy(managed, review).allowed).toBe(true);
      expect(evaluatePolicy(managed, { ...review, userInfo: { username: ROLE.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/') + '/bob' } }).allowed).toBe(false);
    }
  });

  test('the RBAC manifest of a cluster without guardrails still exists and no constraint matches RBAC kinds', () => {
    const b = cluster({ admissionGuardrails: false });
    b.platform.grantAccess('Team', ROLE, { namespaces: ['billing'], level: AccessLevel.EDIT });
    const rbac = objectsOf(synth(b), 'PlatformAccessRbac');
    expect(rbac.map(o => o.kind)).toEqual(['Role', 'RoleBinding']);
    const constraints = objectsOf(synth(cluster()), 'PlatformGuardrailsConstraints');
    expect(rbac.some(o => constraints.some(c => constraintMatches(c, o)))).toBe(false);
  });

  test.each([
    ['an empty namespace list', { namespaces: [], level: AccessLevel.VIEW }, /namespaces is empty.*Fix: list the namespaces/],
    ['a bad namespace name', { namespaces: ['Shop_1'], level: AccessLevel.VIEW }, /namespaces contains "Shop_1", which is not a namespace name.*Fix:/],
    ['a namespace twice', { namespaces: ['shop', 'shop'], level: AccessLevel.VIEW }, /namespaces lists "shop" twice.*Fix:/],
    ['secrets for a viewer', { namespaces: ['shop'], level: AccessLevel.VIEW, secrets: true }, /secrets is true with level view.*Fix:/],
  ])('rejects %s, naming the construct, field, value and fix', (_what, options, message) => {
    const b = cluster();
    expect(() => b.platform.grantAccess('Team', ROLE, options)).toThrow(/ZeroTrustCluster.grantAccess 'Test\/Platform\/Access-Team'/);
    expect(() => cluster().platform.grantAccess('Team', ROLE, options)).toThrow(message);
  });

  test('rejects a principal that is not an IAM role or user ARN', () => {
    expect(() => cluster().platform.grantAccess('Team', 'arn:aws:iam::111122223333:root', { namespaces: ['shop'], level: AccessLevel.VIEW }))
      .toThrow(/principal "arn:aws:iam::111122223333:root" is not an IAM role or user ARN.*Fix:/);
  });

  test('rejects a second grant to the same principal (EKS allows one access entry per principal)', () => {
    const b = cluster();
    b.platform.grantAccess('Team', ROLE, { namespaces: ['shop'], level: AccessLevel.VIEW });
    expect(() => b.platform.grantAccess('Again', ROLE, { namespaces: ['billing'], level: AccessLevel.EDIT }))
      .toThrow(/already has access through grant 'Team'.*Fix: grant it once/);
  });

  test('rejects, at synthesis, a namespace no service of the cluster is in', () => {
    const b = cluster();
    b.platform.grantAccess('Team', ROLE, { namespaces: ['shop', 'payroll'], level: AccessLevel.EDIT });
    expect(() => synth(b)).toThrow(/namespaces contains "payroll", which no service of this cluster is in \(known: billing, shop\)\. Fix:/);
  });
});

describe('service-account RBAC', () => {
  test('no Role unless a service asks; kubernetesApiAccess gives a namespace-scoped Role bound to its service account only', () => {
    expect(objectsOf(synth(cluster()), 'PlatformAccessRbac')).toEqual([]);
    const b = cluster();
    const leader = b.platform.addService('scheduler', {
      namespace: 'billing',
      kubernetesApiAccess: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: ['scheduler'] }],
    });
    expect(leader.kubernetesApiAccessAnnotation).toBe('zero-trust.cdk.io/kubernetes-api-access');
    const rbac = objectsOf(synth(b), 'PlatformAccessRbac') as any[];
    expect(rbac).toEqual([
      expect.objectContaining({
        kind: 'Role',
        metadata: expect.objectContaining({ name: 'zero-trust.api.scheduler', namespace: 'billing' }),
        rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update'], resourceNames: ['scheduler'] }],
      }),
      expect.objectContaining({
        kind: 'RoleBinding',
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'zero-trust.api.scheduler' },
        subjects: [{ kind: 'ServiceAccount', name: 'scheduler', namespace: 'billing' }],
      }),
    ]);
    expectValidManifests(rbac);
    for (const o of rbac) expect(o.metadata.labels['app.kubernetes.io/managed-by']).toBe('cdk-zero-trust-eks');
  });

  const rule = { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] };
  test.each([
    ['an empty list', [], /kubernetesApiAccess is empty.*Fix:/],
    ['a wildcard verb', [{ ...rule, verbs: ['*'] }], /kubernetesApiAccess\[0\]\.verbs contains the wildcard "\*".*Fix:/],
    ['a wildcard resource', [{ ...rule, resources: ['*'] }], /kubernetesApiAccess\[0\]\.resources contains the wildcard "\*"/],
    ['a wildcard API group', [rule, { ...rule, apiGroups: ['*'] }], /kubernetesApiAccess\[1\]\.apiGroups contains the wildcard/],
    ['escalate', [{ ...rule, verbs: ['get', 'escalate'] }], /verbs contains "escalate".*Fix: remove it/],
    ['bind', [{ ...rule, verbs: ['bind'] }], /verbs contains "bind"/],
    ['impersonate', [{ ...rule, verbs: ['impersonate'] }], /verbs contains "impersonate"/],
    ['pods/exec', [{ ...rule, resources: ['pods/exec'] }], /resources contains "pods\/exec", which opens a shell/],
    ['serviceaccounts/token', [{ ...rule, resources: ['serviceaccounts/token'], verbs: ['create'] }], /resources contains "serviceaccounts\/token"/],
    ['empty verbs', [{ ...rule, verbs: [] }], /kubernetesApiAccess\[0\]\.verbs is empty/],
    ['a wildcard resource name', [{ ...rule, resourceNames: ['app-*'] }], /resourceNames contains "app-\*"/],
  ])('rejects %s', (_what, rules, message) => {
    const b = cluster();
    expect(() => b.platform.addService('scheduler', { namespace: 'billing', kubernetesApiAccess: rules })).toThrow(message);
    expect(() => cluster().platform.addService('scheduler', { namespace: 'billing', kubernetesApiAccess: rules }))
      .toThrow(/ZeroTrustCluster.addService\('scheduler'\)/);
  });
});
