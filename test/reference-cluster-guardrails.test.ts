/**
 * The reference app's guardrails and human access, as CloudFormation: the pinned Gatekeeper chart
 * and its values, the ordering chain, Gatekeeper's NetworkPolicies, access entries scoped as
 * declared, break-glass with MFA, the editor RBAC; and dogfooding: every Kubernetes object the
 * template applies is admitted by every constraint and admission policy, with the identities the
 * template gives them.
 */
import { constraintMatches, evaluateConstraint, evaluatePolicy, Json, policyMatches, Review, UserInfo } from './governance/admission-cel';
import {
  CfnResource, CfnTemplate, dependsOnClosure, getAttOf, HELM_CHART, KubeObject, KUBERNETES_RESOURCE, manifestObjects, onlyResource, render,
  renderDeep, resourcesOfType,
} from './support/aws/cfn';
import { buildReference, BuiltReference } from './support/aws/reference-app';
import { expectValidManifests } from './support/schema-validator';
import { ReferenceClusterStack } from '../bin/reference-cluster';
import { assumedRolePrefix } from '../lib/identity/assumed-role';
import { RESPONDER_GROUP } from '../lib/response/responder-rbac';

const OBJECT_VALUE = 'Custom::AWSCDK-EKS-KubernetesObjectValue';
const CLUSTER_ADMIN = ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy';

let ref: BuiltReference;
let t: CfnTemplate;
let stack: ReferenceClusterStack;

beforeAll(() => {
  ref = buildReference();
  if (ref.synthError) throw new Error(`the reference app did not synthesize: ${ref.synthError}`);
  stack = ref.stack;
  t = ref.template;
});
afterAll(() => ref?.dispose());

const props = (r: CfnResource): Record<string, any> => r.Properties ?? {};
const idOf = (construct: { node: { defaultChild?: unknown } } | unknown): string => {
  const child = (construct as { node: { defaultChild?: { logicalId: string } } }).node.defaultChild ?? construct;
  return String(stack.resolve((child as { logicalId: string }).logicalId));
};
/** The logical id of the custom resource behind a KubernetesManifest / HelmChart construct. */
const resourceIdOf = (construct: { node: { findAll(): unknown[] } }): string => {
  const ids = resourcesOfType(t, KUBERNETES_RESOURCE).concat(resourcesOfType(t, HELM_CHART)).map(([id]) => id);
  const found = construct.node.findAll().map(c => (c as { logicalId?: string }).logicalId).filter((x): x is string => x !== undefined)
    .map(x => String(stack.resolve(x))).filter(id => ids.includes(id));
  if (found.length !== 1) throw new Error(`expected one custom resource, got ${found.join(', ')}`);
  return found[0];
};
const objectsOfResource = (id: string): KubeObject[] => manifestObjects(t.Resources[id]);
/**
 * Every object of every manifest resource the library creates. The AWS Load Balancer Controller's
 * ServiceAccount (kube-system) is aws-cdk-lib's own manifest, not the library's: left out.
 */
const allObjects = (): Array<{ id: string; object: Json }> =>
  resourcesOfType(t, KUBERNETES_RESOURCE).filter(([id]) => !id.includes('AlbController'))
    .flatMap(([id, r]) => manifestObjects(r).map(object => ({ id, object: object as unknown as Json })));

describe('OPA Gatekeeper', () => {
  test('one pinned 3.2x chart from the project repository, in gatekeeper-system, fail-closed, 3 replicas with a disruption budget, audit on', () => {
    const [, chart] = onlyResource(t, HELM_CHART, 'gatekeeper', r => props(r).Chart === 'gatekeeper');
    expect(props(chart)).toEqual(expect.objectContaining({
      Repository: 'https://open-policy-agent.github.io/gatekeeper/charts', Version: '3.22.2', Namespace: 'gatekeeper-system', Release: 'gatekeeper', Wait: true,
    }));
    expect(props(chart).CreateNamespace).not.toBe(true);
    const values = JSON.parse(render(props(chart).Values));
    expect(values).toEqual(expect.objectContaining({
      replicas: 3,
      pdb: { controllerManager: { minAvailable: 2 } },
      validatingWebhookFailurePolicy: 'Fail',
      disableAudit: false,
      auditInterval: 60,
      enableK8sNativeValidation: true,
      validatingWebhookExemptNamespacesLabels: { 'kubernetes.io/metadata.name': ['kube-system'] },
    }));
    expect(values.validatingWebhookTimeoutSeconds).toBeLessThanOrEqual(10);
    expect(values.image).toEqual({
      repository: 'docker.io/openpolicyagent/gatekeeper', crdRepository: 'docker.io/openpolicyagent/gatekeeper-crds', release: 'v3.22.2',
    });
    expect(values.controllerManager.port).toBe(8443);
  });

  test('ordering: namespace -> chart (after nodes, CNI and every Istio chart) -> templates -> CRDs established -> constraints -> policies -> RBAC -> admission policies', () => {
    const g = stack.platform.guardrails!;
    const chart = resourceIdOf(g.gatekeeper);
    const templates = resourceIdOf(g.templates);
    const constraints = resourceIdOf(g.constraints);
    const vaps = resourceIdOf(g.admissionPolicies);
    const namespace = resourcesOfType(t, KUBERNETES_RESOURCE).find(([id]) => id.startsWith('PlatformGuardrailsNamespace'))![0];
    const chartDeps = dependsOnClosure(t, chart);
    expect(chartDeps).toContain(namespace);
    for (const istio of resourcesOfType(t, HELM_CHART).filter(([, r]) => ['base', 'istiod', 'cni', 'gateway'].includes(props(r).Chart))) {
      expect(chartDeps).toContain(istio[0]);
    }
    expect([...chartDeps].some(id => t.Resources[id].Type === 'AWS::EKS::Nodegroup')).toBe(true);
    expect([...chartDeps].some(id => t.Resources[id].Type === 'AWS::EKS::Addon')).toBe(true);
    expect(dependsOnClosure(t, templates)).toContain(chart);

    const values = resourcesOfType(t, OBJECT_VALUE).filter(([id]) => id.startsWith('PlatformGuardrailsCrdEstablished'));
    expect(values).toHaveLength(7);
    const kinds = objectsOfResource(templates).map(o => (o as any).spec.crd.spec.names.kind as string);
    expect(values.map(([, r]) => props(r).ObjectName).sort()).toEqual(kinds.map(k => `${k.toLowerCase()}.constraints.gatekeeper.sh`).sort());
    for (const [id, r] of values) {
      expect(props(r)).toEqual(expect.objectContaining({ ObjectType: 'customresourcedefinition', JsonPath: '.status.conditions[?(@.type=="Established")].status' }));
      expect(dependsOnClosure(t, id)).toContain(templates);
      expect(dependsOnClosure(t, constraints)).toContain(id);
    }
    const policies = resourcesOfType(t, KUBERNETES_RESOURCE).filter(([id]) => id.startsWith('PlatformPolicies')).map(([id]) => id);
    expect(policies.length).toBe(5);
    const rbac = resourcesOfType(t, KUBERNETES_RESOURCE).find(([id]) => id.startsWith('PlatformAccessRbac'))![0];
    for (const id of [...policies, rbac]) {
      expect({ id, afterConstraints: dependsOnClosure(t, id).has(constraints) }).toEqual({ id, afterConstraints: true });
      expect({ id, beforeAdmissionPolicies: dependsOnClosure(t, vaps).has(id) }).toEqual({ id, beforeAdmissionPolicies: true });
    }
  });

  test('gatekeeper-system NetworkPolicies: default deny both ways; 8443 from the control-plane subnets; egress only to the API server on 443 and DNS', () => {
    const namespace = resourcesOfType(t, KUBERNETES_RESOURCE).find(([id]) => id.startsWith('PlatformGuardrailsNamespace'))![0];
    const objects = objectsOfResource(namespace) as any[];
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/gatekeeper-system', 'NetworkPolicy/zero-trust.default-deny', 'NetworkPolicy/zero-trust.gatekeeper-webhook', 'NetworkPolicy/zero-trust.kubernetes-api',
    ]);
    const cp = [...stack.platform.network.controlPlaneCidrs].sort();
    const [, deny, webhook, api] = objects;
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(webhook.spec.ingress).toEqual([{ from: cp.map(cidr => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 8443 }] }]);
    expect(webhook.spec.podSelector.matchLabels).toEqual({ 'control-plane': 'controller-manager', 'gatekeeper.sh/operation': 'webhook' });
    expect(api.spec.egress[0]).toEqual({ to: ['172.20.0.1/32', ...cp].map(cidr => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 443 }] });
    expect(api.spec.egress[1].ports).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
    expect(api.spec.egress).toHaveLength(2);
    expect(objects[0].metadata.labels).toEqual(expect.objectContaining({
      'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted',
    }));
    expect(objects[0].metadata.labels['pod-security.kubernetes.io/enforce-version']).toMatch(/^(latest|v1\.\d+)$/);
  });

  test('K8S-01: every Namespace the template applies pins enforce-version; each that enforces less than restricted records why', () => {
    const namespaces = allObjects().map(o => o.object as any).filter(o => o.kind === 'Namespace');
    expect(namespaces.map(n => n.metadata.name)).toContain('gatekeeper-system');
    for (const ns of namespaces) {
      const labels = ns.metadata.labels as Record<string, string>;
      const reason = ns.metadata.annotations?.['zero-trust.cdk.io/pod-security-reason'];
      expect({ ns: ns.metadata.name, version: /^(latest|v1\.\d+)$/.test(labels['pod-security.kubernetes.io/enforce-version'] ?? '') })
        .toEqual({ ns: ns.metadata.name, version: true });
      if (labels['pod-security.kubernetes.io/enforce'] !== 'restricted') {
        expect({ ns: ns.metadata.name, reason: typeof reason === 'string' && reason.length > 20 }).toEqual({ ns: ns.metadata.name, reason: true });
      }
    }
    expect(namespaces.find(n => n.metadata.name === 'gatekeeper-system').metadata.annotations?.['zero-trust.cdk.io/pod-security-reason']).toBeUndefined();
  });

  test('the default registries are this account\'s ECR in this region, the EKS add-on registry, Istio\'s and Gatekeeper\'s images', () => {
    const registries = allObjects().find(o => o.object.kind === 'ZeroTrustAllowedRegistries')!.object as any;
    expect(registries.spec.parameters.registries).toEqual([
      '<<Ref:AWS::AccountId>>.dkr.ecr.<<Ref:AWS::Region>>.<<Ref:AWS::URLSuffix>>/',
      '602401143452.dkr.ecr.<<Ref:AWS::Region>>.<<Ref:AWS::URLSuffix>>/',
      'docker.io/istio/',
      'docker.io/openpolicyagent/',
    ]);
    expect(registries.spec.match.excludedNamespaces).toContain('istio-ingress');
    expect(JSON.parse(registries.metadata.annotations['zero-trust.cdk.io/exemptions'])[0].reason).toContain('"auto"');
  });

  test('schema: every object of the guardrails and RBAC manifests is valid (built-in kinds, ConstraintTemplate against the Gatekeeper 3.22.2 CRD)', () => {
    const objects = resourcesOfType(t, KUBERNETES_RESOURCE).filter(([id]) => /^Platform(Guardrails|AccessRbac)/.test(id))
      .flatMap(([, r]) => manifestObjects(r) as unknown as Json[]).filter(o => !String(o.apiVersion).startsWith('constraints.gatekeeper.sh/'));
    expect(objects.some(o => o.kind === 'ConstraintTemplate')).toBe(true);
    expect(objects.some(o => o.kind === 'Role')).toBe(true);
    expectValidManifests(objects);
  });

  test('the stack output says the guardrails are on', () => {
    expect(Object.values(t.Outputs ?? {}).map(o => (o as { Value: string }).Value)).toContain('enabled (OPA Gatekeeper 3.22.2, webhook failurePolicy Fail)');
  });
});

describe('human access', () => {
  test('EKS-06: the editors\' entry is namespace-scoped to shop, view policy only, with the editor group; no other tenant entry', () => {
    const entries = resourcesOfType(t, 'AWS::EKS::AccessEntry');
    const admins = entries.filter(([, r]) => (props(r).AccessPolicies ?? []).some((p: any) => render(p.PolicyArn).endsWith(CLUSTER_ADMIN)));
    // Two machine identities with no access policy at all: the quarantine responder (a group bound to per-namespace
    // pod Roles) and the Prometheus collector (a user bound to a read-only discovery ClusterRole).
    const machines = entries.filter(([, r]) => (props(r).AccessPolicies ?? []).length === 0);
    const identities = machines.map(([, r]) => ({ groups: props(r).KubernetesGroups, username: props(r).Username }));
    expect(identities.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)))
      .toEqual([{ groups: ['zero-trust:responders'], username: undefined }, { groups: undefined, username: 'aps-collector-user' }]);
    const tenants = entries.filter(e => !admins.includes(e) && !machines.includes(e));
    expect(tenants).toHaveLength(1);
    const entry = props(tenants[0][1]);
    expect(entry.AccessPolicies).toEqual([{
      PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSViewPolicy']] },
      AccessScope: { Type: 'namespace', Namespaces: ['shop'] },
    }]);
    expect(entry.KubernetesGroups).toEqual(['zero-trust:shop:editors']);
    expect(entry.Type).toBe('STANDARD');
    expect(getAttOf(entry.PrincipalArn)?.[0]).toMatch(/^ShopEditors/);
  });

  test('break-glass: cluster admin, trust only with MFA, trusted principal is the account (no wildcard), 1-hour sessions', () => {
    const roleId = idOf(stack.platform.breakGlass.role);
    const role = props(t.Resources[roleId]);
    expect(role.MaxSessionDuration).toBe(3600);
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
    }]);
    const [, entry] = onlyResource(t, 'AWS::EKS::AccessEntry', 'break-glass', r => getAttOf(props(r).PrincipalArn)?.[0] === roleId);
    expect(props(entry).AccessPolicies.map((p: any) => render(p.PolicyArn))).toEqual([`arn:<<Ref:AWS::Partition>>${CLUSTER_ADMIN}`]);
  });

  test('K8S-10: the editor Role cannot touch NetworkPolicies, Istio security kinds, RBAC, exec/attach/port-forward or Secrets, and has no wildcard', () => {
    const rbac = resourcesOfType(t, KUBERNETES_RESOURCE).find(([id]) => id.startsWith('PlatformAccessRbac'))![0];
    const objects = objectsOfResource(rbac) as any[];
    expect(objects.map(o => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['Role shop/zero-trust.editor', 'RoleBinding shop/zero-trust.editor']);
    const rules = objects[0].rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    const resources = rules.flatMap(r => r.resources);
    for (const forbidden of ['networkpolicies', 'secrets', 'pods/exec', 'pods/attach', 'pods/portforward', 'roles', 'rolebindings', 'serviceaccounts/token']) {
      expect(resources).not.toContain(forbidden);
    }
    expect(rules.flatMap(r => r.apiGroups)).not.toEqual(expect.arrayContaining(['security.istio.io']));
    expect(JSON.stringify(rules)).not.toContain('*');
    expect(rules.flatMap(r => r.verbs)).not.toEqual(expect.arrayContaining(['bind']));
    expect(objects[1].subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'zero-trust:shop:editors' }]);
    expect(objects[1].roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'zero-trust.editor' });
  });

  test('no aws-auth ConfigMap; the one ClusterRoleBinding binds the metrics collector to a read-only role', () => {
    const objects = allObjects().map(o => o.object as any);
    expect(objects.filter(o => o.kind === 'ConfigMap' && o.metadata.name === 'aws-auth')).toEqual([]);
    const bindings = objects.filter(o => o.kind === 'ClusterRoleBinding');
    expect(bindings.map(b => ({ role: b.roleRef.name, subjects: b.subjects }))).toEqual([
      { role: 'zero-trust:metrics-scraper', subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'aps-collector-user' }] },
    ]);
    const [role] = objects.filter(o => o.kind === 'ClusterRole' && o.metadata.name === 'zero-trust:metrics-scraper');
    const verbs = new Set(role.rules.flatMap((r: any) => r.verbs ?? []));
    expect([...verbs].every(v => ['get', 'list', 'watch'].includes(v as string))).toBe(true);
    expect(role.rules.flatMap((r: any) => r.resources ?? [])).not.toContain('secrets');
  });
});

describe('dogfooding: every object the reference template applies, against the live guardrails', () => {
  const deployerOf = (): UserInfo => ({
    username: `${render(stack.resolve(assumedRolePrefix(stack.platform.cluster.kubectlProvider!.role!.roleName)))}1700000000000`,
    groups: ['system:authenticated'],
  });
  const guardrail = () => {
    const objects = allObjects().map(o => o.object);
    return {
      objects,
      templates: objects.filter(o => o.kind === 'ConstraintTemplate'),
      constraints: objects.filter(o => String(o.apiVersion).startsWith('constraints.gatekeeper.sh/')),
      policies: objects.filter(o => o.kind === 'ValidatingAdmissionPolicy'),
      bindings: objects.filter(o => o.kind === 'ValidatingAdmissionPolicyBinding'),
    };
  };
  const nameOf = (o: Json) => String((o.metadata as Json).name);
  const isAdmissionConfig = (o: Json) => String(o.apiVersion).startsWith('admissionregistration.k8s.io/');

  test('every object is admitted by every constraint that matches it, and by both admission policies when the kubectl handler applies it', () => {
    const g = guardrail();
    expect(g.constraints).toHaveLength(7);
    expect(g.policies).toHaveLength(2);
    let judged = 0;
    let admittedByPolicy = 0;
    for (const obj of g.objects) {
      for (const constraint of g.constraints) {
        if (!constraintMatches(constraint, obj)) continue;
        const template = g.templates.find(x => nameOf(x) === String(constraint.kind).toLowerCase())!;
        const verdict = evaluateConstraint(template, constraint, { operation: 'CREATE', object: obj });
        judged++;
        expect({ obj: `${String(obj.kind)} ${nameOf(obj)}`, constraint: constraint.kind, messages: verdict.messages })
          .toEqual({ obj: `${String(obj.kind)} ${nameOf(obj)}`, constraint: constraint.kind, messages: [] });
      }
      for (const policy of g.policies) {
        const binding = g.bindings.find(b => (b.spec as Json).policyName === nameOf(policy))!;
        for (const review of [{ operation: 'CREATE', object: obj }, { operation: 'UPDATE', object: obj, oldObject: obj }] as Review[]) {
          const withUser = { ...review, userInfo: deployerOf() };
          if (!policyMatches(policy, binding, withUser)) continue;
          admittedByPolicy++;
          expect({ obj: `${String(obj.kind)} ${nameOf(obj)}`, policy: nameOf(policy), messages: evaluatePolicy(policy, withUser).messages })
            .toEqual({ obj: `${String(obj.kind)} ${nameOf(obj)}`, policy: nameOf(policy), messages: [] });
        }
      }
    }
    // Namespaces, PeerAuthentications, AuthorizationPolicies, Services: judged by the constraints.
    expect(judged).toBeGreaterThanOrEqual(20);
    // Every managed object matched the managed-objects policy on CREATE and UPDATE, except the admission policies and bindings
    // themselves: a ValidatingAdmissionPolicy cannot match admission configuration (only RBAC, i.e. cluster admins, guards them).
    const guarded = g.objects.filter(o => !isAdmissionConfig(o));
    expect(admittedByPolicy).toBeGreaterThanOrEqual(2 * guarded.length);
  });

  test('every object the template applies carries the managed-by label, so the managed-objects policy protects it', () => {
    const unlabelled = allObjects().filter(o => ((o.object.metadata as Json).labels as Record<string, string> | undefined)?.['app.kubernetes.io/managed-by']
      !== 'cdk-zero-trust-eks').map(o => `${o.id}: ${String(o.object.kind)} ${nameOf(o.object)}`);
    expect(unlabelled).toEqual([]);
  });

  test('a tenant, or a look-alike of the kubectl role, may not change or delete any of them; break-glass may', () => {
    const g = guardrail();
    const managed = g.policies.find(p => nameOf(p) === 'zero-trust-managed-objects')!;
    const binding = g.bindings.find(b => (b.spec as Json).policyName === 'zero-trust-managed-objects')!;
    const breakGlass: UserInfo = { username: `${render(stack.resolve(stack.platform.breakGlass.usernamePrefix))}alice` };
    const lookAlike: UserInfo = { username: `${deployerOf().username.replace(/\/1700000000000$/, '')}-evil/1` };
    for (const obj of g.objects.filter(o => !isAdmissionConfig(o))) {
      for (const user of [{ username: 'arn:aws:sts::111122223333:assumed-role/ShopEditors/bob', groups: ['zero-trust:shop:editors'] }, lookAlike]) {
        const weak = { ...obj, metadata: { ...(obj.metadata as Json), labels: {} } };
        for (const review of [{ operation: 'UPDATE', object: weak, oldObject: obj }, { operation: 'DELETE', oldObject: obj }] as Review[]) {
          const r = { ...review, userInfo: user };
          expect({ kind: obj.kind, matched: policyMatches(managed, binding, r) }).toEqual({ kind: obj.kind, matched: true });
          expect(evaluatePolicy(managed, r).allowed).toBe(false);
        }
      }
      const r: Review = { operation: 'UPDATE', object: obj, oldObject: obj, userInfo: breakGlass };
      expect(evaluatePolicy(managed, r).allowed).toBe(true);
    }
  });

  test('every kind the template applies is guarded: the managed-objects policy matches each object on CREATE, UPDATE and DELETE', () => {
    const g = guardrail();
    const managed = g.policies.find(p => nameOf(p) === 'zero-trust-managed-objects')!;
    const binding = g.bindings.find(b => (b.spec as Json).policyName === 'zero-trust-managed-objects')!;
    const applied = g.objects.filter(o => !isAdmissionConfig(o));
    const kinds = new Set(applied.map(o => String(o.kind)));
    // The per-namespace objects of controls.md K8S-08/09 are among them.
    for (const kind of ['ResourceQuota', 'LimitRange', 'ServiceAccount', 'Namespace', 'NetworkPolicy', 'Role', 'RoleBinding']) expect(kinds).toContain(kind);
    const unguarded = applied.flatMap(obj => (['CREATE', 'UPDATE', 'DELETE'] as const)
      .filter(operation => !policyMatches(managed, binding, operation === 'CREATE' ? { operation, object: obj }
        : operation === 'UPDATE' ? { operation, object: obj, oldObject: obj } : { operation, oldObject: obj }))
      .map(operation => `${operation} ${String(obj.kind)} ${nameOf(obj)}`));
    expect(unguarded).toEqual([]);
  });

  test('the quarantine label with the template\'s identities: the responders group and break-glass sessions may set it and delete a labelled pod; others may not', () => {
    const g = guardrail();
    const policy = g.policies.find(p => nameOf(p) === 'zero-trust-quarantine-label')!;
    const binding = g.bindings.find(b => (b.spec as Json).policyName === 'zero-trust-quarantine-label')!;
    const judge = (review: Review) => {
      expect(policyMatches(policy, binding, review)).toBe(true);
      return evaluatePolicy(policy, review);
    };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'order-7d9f', namespace: 'shop', labels: { app: 'order' } }, spec: {} };
    const quarantined = { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, 'zero-trust.cdk.io/quarantine': 'true' } } };
    const responder: UserInfo = { username: 'arn:aws:sts::123456789012:assumed-role/Responder/1700000000000', groups: [RESPONDER_GROUP, 'system:authenticated'] };
    const breakGlass: UserInfo = { username: `${render(stack.resolve(stack.platform.breakGlass.usernamePrefix))}alice`, groups: ['system:authenticated'] };
    const authenticated: UserInfo = { username: 'arn:aws:sts::123456789012:assumed-role/Auditor/eve', groups: ['system:authenticated'] };
    const editor: UserInfo = { username: 'arn:aws:sts::123456789012:assumed-role/ShopEditors/bob', groups: ['zero-trust:shop:editors', 'system:authenticated'] };
    const add: Review = { operation: 'UPDATE', object: quarantined, oldObject: pod };
    const remove: Review = { operation: 'UPDATE', object: pod, oldObject: quarantined };
    const del: Review = { operation: 'DELETE', oldObject: quarantined };
    for (const user of [responder, breakGlass]) {
      for (const review of [add, remove, del]) expect(judge({ ...review, userInfo: user }).allowed).toBe(true);
    }
    for (const user of [authenticated, editor, deployerOf()]) {
      for (const review of [add, remove, del]) {
        const verdict = judge({ ...review, userInfo: user });
        expect(verdict.allowed).toBe(false);
        expect(verdict.messages[0]).toMatch(/^Pod shop\/order-7d9f.*Fix: /);
      }
    }
    for (const username of ['system:serviceaccount:kube-system:replicaset-controller', 'system:node:ip-10-0-1-23.eu-west-1.compute.internal']) {
      expect(judge({ ...del, userInfo: { username } }).allowed).toBe(true);
    }
  });

  test('a deliberately weak object of each judged kind is denied by its constraint', () => {
    const g = guardrail();
    const judge = (kind: string, obj: Json) => {
      const constraint = g.constraints.find(c => c.kind === kind)!;
      const template = g.templates.find(x => nameOf(x) === kind.toLowerCase())!;
      expect(constraintMatches(constraint, obj)).toBe(true);
      return evaluateConstraint(template, constraint, { operation: 'CREATE', object: obj });
    };
    const ns = g.objects.find(o => o.kind === 'Namespace' && nameOf(o) === 'shop')!;
    const pa = g.objects.find(o => o.kind === 'PeerAuthentication' && (o.metadata as Json).namespace === 'shop')!;
    const ap = g.objects.find(o => o.kind === 'AuthorizationPolicy' && (o.metadata as Json).namespace === 'payments' && (o.spec as any).rules)!;
    const svc = g.objects.find(o => o.kind === 'Service' && (o.metadata as Json).namespace === 'shop')!;
    const copy = (o: Json) => renderDeep(JSON.parse(JSON.stringify(o))) as any;
    const weakNs = copy(ns); delete weakNs.metadata.labels['pod-security.kubernetes.io/enforce'];
    const weakPa = copy(pa); weakPa.spec.mtls = { mode: 'PERMISSIVE' };
    const weakAp = copy(ap); weakAp.spec.rules[0].from[0].source.principals = ['*'];
    const weakSvc = copy(svc); weakSvc.spec.type = 'LoadBalancer';
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug', namespace: 'shop' },
      spec: { hostNetwork: true, containers: [{ name: 'x', image: 'docker.io/library/busybox', securityContext: { privileged: true } }] },
    };
    expect(judge('ZeroTrustNamespaceLabels', weakNs).allowed).toBe(false);
    expect(judge('ZeroTrustPeerAuthenticationStrict', weakPa).allowed).toBe(false);
    expect(judge('ZeroTrustAuthorizationPrincipals', weakAp).allowed).toBe(false);
    expect(judge('ZeroTrustServiceExposure', weakSvc).allowed).toBe(false);
    expect(judge('ZeroTrustPodServiceAccount', pod).allowed).toBe(false);
    expect(judge('ZeroTrustHostIsolation', pod).allowed).toBe(false);
    expect(judge('ZeroTrustAllowedRegistries', pod).allowed).toBe(false);
    const ecrPod = { ...pod, spec: { containers: [{ name: 'x', image: '<<Ref:AWS::AccountId>>.dkr.ecr.<<Ref:AWS::Region>>.<<Ref:AWS::URLSuffix>>/shop/order:1' }] } };
    expect(judge('ZeroTrustAllowedRegistries', ecrPod).allowed).toBe(true);
  });
});
