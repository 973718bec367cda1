/** The library's own RBAC and Gatekeeper namespace objects (Kubernetes layer): least privilege, schema, labels. */
import { GATEKEEPER_IGNORE_LABEL, GATEKEEPER_POD_SECURITY, gatekeeperNamespaceObjects } from '../../lib/governance/gatekeeper-namespace';
import { checkApiRules, EDITOR_RULES, editorObjects, serviceAccountObjects } from '../../lib/governance/rbac';
import { podSecurityVersion } from '../../lib/policy/render/workload-objects';
import { expectValidManifests } from '../support/schema-validator';

const FORBIDDEN = ['networkpolicies', 'secrets', 'pods/exec', 'pods/attach', 'pods/portforward', 'pods/proxy', 'serviceaccounts/token',
  'roles', 'rolebindings', 'clusterroles', 'clusterrolebindings', 'validatingwebhookconfigurations', 'mutatingwebhookconfigurations'];

describe('editor Role (K8S-10)', () => {
  test('no security kinds, no RBAC, no shell or tunnel, no Secrets, no wildcard, no escalating verb', () => {
    const resources = EDITOR_RULES.flatMap(r => r.resources);
    expect(resources.filter(r => FORBIDDEN.includes(r))).toEqual([]);
    expect(EDITOR_RULES.flatMap(r => r.apiGroups).filter(g => ['security.istio.io', 'networking.k8s.io', 'rbac.authorization.k8s.io', '*'].includes(g))).toEqual([]);
    expect(EDITOR_RULES.flatMap(r => r.verbs).filter(v => ['*', 'bind', 'escalate', 'impersonate'].includes(v))).toEqual([]);
    expect(() => checkApiRules('editor', 'EDITOR_RULES', EDITOR_RULES)).not.toThrow();
  });

  test('Roles and bindings are schema-valid, namespaced and labelled as managed', () => {
    const objects = [...editorObjects('shop', true), ...serviceAccountObjects('billing', 'scheduler', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }])];
    expectValidManifests(objects);
    for (const o of objects as any[]) {
      expect(o.metadata.namespace).toBeDefined();
      expect(o.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks' });
      if (o.kind === 'RoleBinding') expect(o.roleRef.kind).toBe('Role');
    }
    expect(editorObjects('shop', false).map(o => (o as any).metadata.name)).toEqual(['zero-trust.editor', 'zero-trust.editor']);
  });
});

describe('Gatekeeper namespace', () => {
  const objects = gatekeeperNamespaceObjects({
    namespace: 'gatekeeper-system',
    controlPlaneCidrs: ['10.0.68.208/28', '10.0.68.192/28'],
    apiServerServiceCidr: '172.20.0.1/32',
    webhookPort: 8443,
    webhookPodLabels: { 'control-plane': 'controller-manager' },
  }) as any[];

  test('schema-valid, labelled, restricted Pod Security; Gatekeeper is not told to ignore its namespace by label', () => {
    expectValidManifests(objects);
    for (const o of objects) expect(o.metadata.labels['app.kubernetes.io/managed-by']).toBe('cdk-zero-trust-eks');
    expect(objects[0].metadata.labels[GATEKEEPER_IGNORE_LABEL]).toBeUndefined();
    expect(objects[0].metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  const pinned = (kubernetesVersion?: string) => gatekeeperNamespaceObjects({
    namespace: 'gatekeeper-system',
    controlPlaneCidrs: ['10.0.68.192/28'],
    apiServerServiceCidr: '172.20.0.1/32',
    webhookPort: 8443,
    webhookPodLabels: { 'control-plane': 'controller-manager' },
    kubernetesVersion,
  })[0] as any;

  test('K8S-01: enforce, audit and warn restricted, enforce-version pinned to the cluster minor like every other namespace; no reason needed', () => {
    for (const [version, expected] of [['1.35', 'v1.35'], ['v1.34.2', 'v1.34'], ['latest', 'latest'], [undefined, 'latest']] as const) {
      const ns = pinned(version);
      expect({ version, labels: ns.metadata.labels }).toEqual({
        version,
        labels: {
          'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': expected,
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      });
      // Only a namespace that enforces less than restricted records zero-trust.cdk.io/pod-security-reason.
      expect(ns.metadata.annotations).toBeUndefined();
    }
    expect(GATEKEEPER_POD_SECURITY).toBe('restricted');
    expectValidManifests([pinned('1.35')]);
    // The same pin as the service namespaces and the Istio namespaces of a 1.35 cluster.
    expect(pinned('1.35').metadata.labels['pod-security.kubernetes.io/enforce-version']).toBe(podSecurityVersion('x', 'kubernetesVersion', '1.35'));
  });

  test('a malformed Kubernetes version is refused, naming the namespace, the field, the value and the fix', () => {
    expect(() => pinned('1.35-eks')).toThrow(/Gatekeeper namespace 'gatekeeper-system'.*kubernetesVersion.*1\.35-eks.*/s);
    expect(() => pinned('1.35-eks')).toThrow(/Fix: pass the minor version the cluster runs/);
  });

  test('no rule admits 0.0.0.0/0, every ipBlock is a control-plane subnet or the kubernetes Service /32, CIDRs sorted', () => {
    const blocks = JSON.stringify(objects).match(/"cidr":"[^"]+"/g)!;
    expect(new Set(blocks)).toEqual(new Set(['"cidr":"10.0.68.192/28"', '"cidr":"10.0.68.208/28"', '"cidr":"172.20.0.1/32"']));
    expect(objects[2].spec.ingress[0].from.map((f: any) => f.ipBlock.cidr)).toEqual(['10.0.68.192/28', '10.0.68.208/28']);
  });
});
