import { KubeObject } from '../../lib/analysis/manifest';
import { EXTERNAL, NetworkPolicyLayer, parseNetworkPolicy } from '../../lib/analysis/network-policy-semantics';
import { namespacesOf, Workload } from '../../lib/analysis/workload';

const w = (id: string, namespace: string, labels: Record<string, string>, extra: Partial<Workload> = {}): Workload =>
  ({ id, namespace, labels, serviceAccountName: id, ports: [{ port: 80 }], ...extra });

const A = w('a', 'ns1', { app: 'a' });
const B = w('b', 'ns1', { app: 'b' });
const C = w('c', 'ns2', { app: 'c', tier: 'x' });
const D = w('d', 'ns2', { app: 'd' }, { ip: '10.0.5.9', ports: [{ port: 8080, name: 'web' }, { port: 53, protocol: 'UDP' }] });

function np(namespace: string, spec: Record<string, unknown>, name = 'p'): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

function layer(...policies: KubeObject[]) {
  const objects: KubeObject[] = [
    { kind: 'Namespace', metadata: { name: 'ns1', labels: { team: 'one' } } },
    { kind: 'Namespace', metadata: { name: 'ns2', labels: { team: 'two' } } },
    ...policies,
  ];
  return new NetworkPolicyLayer(policies.map(parseNetworkPolicy), [A, B, C, D], namespacesOf(objects));
}

describe('NetworkPolicy semantics', () => {
  test('with no policy every pod is non-isolated: everything is allowed', () => {
    expect(layer().decide('a', 'c', 80).allowed).toBe(true);
  });

  test('policyTypes defaults to Ingress only when there are no egress rules', () => {
    const l = layer(np('ns1', { podSelector: {} }));
    expect(l.isIngressIsolated('a')).toBe(true);
    expect(l.isEgressIsolated('a')).toBe(false);
  });

  test('policyTypes defaults to Ingress and Egress when egress rules exist', () => {
    const l = layer(np('ns1', { podSelector: { matchLabels: { app: 'a' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }] }] }));
    expect(l.isEgressIsolated('a')).toBe(true);
    expect(l.isIngressIsolated('a')).toBe(true);
    expect(l.decide('a', 'b', 80).allowed).toBe(true);
    expect(l.decide('a', 'c', 80).allowed).toBe(false);
  });

  test('an explicit policyTypes Egress with no rules isolates egress only', () => {
    const l = layer(np('ns1', { podSelector: {}, policyTypes: ['Egress'] }));
    expect(l.isEgressIsolated('a')).toBe(true);
    expect(l.isIngressIsolated('a')).toBe(false);
    expect(l.decide('c', 'a', 80).allowed).toBe(true);
  });

  test('a connection needs the source egress and the destination ingress', () => {
    const l = layer(
      np('ns1', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }] }] }, 'a-out'),
      np('ns2', { podSelector: { matchLabels: { app: 'c' } }, policyTypes: ['Ingress'] }, 'c-in'),
    );
    const d = l.decide('a', 'c', 80);
    expect(d).toEqual({ allowed: false, policies: ['NetworkPolicy/ns2/c-in'] });
    expect(l.decide('a', 'd', 80)).toEqual({ allowed: true, policies: ['NetworkPolicy/ns1/a-out'] });
  });

  test('a podSelector peer alone selects pods in the policy namespace only', () => {
    const l = layer(np('ns2', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'a' } } }] }] }));
    expect(l.decide('a', 'c', 80).allowed).toBe(false);
  });

  test('a namespaceSelector peer alone selects every pod in matching namespaces', () => {
    const l = layer(np('ns2', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'one' } } }] }] }));
    expect(l.decide('a', 'c', 80).allowed).toBe(true);
    expect(l.decide('b', 'c', 80).allowed).toBe(true);
    expect(l.decide('d', 'c', 80).allowed).toBe(false);
  });

  test('namespaceSelector and podSelector in one peer are ANDed; in two peers they are ORed', () => {
    const and = layer(np('ns2', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'one' } }, podSelector: { matchLabels: { app: 'a' } } }] }] }));
    expect(and.decide('a', 'c', 80).allowed).toBe(true);
    expect(and.decide('b', 'c', 80).allowed).toBe(false);
    const or = layer(np('ns2', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'one' } } }, { podSelector: { matchLabels: { app: 'a' } } }] }] }));
    expect(or.decide('b', 'c', 80).allowed).toBe(true);
  });

  test('namespaces are matched by the kubernetes.io/metadata.name label the API server sets', () => {
    const l = layer(np('ns2', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ns1' } } }] }] }));
    expect(l.decide('b', 'c', 80).allowed).toBe(true);
  });

  test('matchExpressions In, NotIn, Exists and DoesNotExist select pods', () => {
    const sel = (expr: Record<string, unknown>) => layer(np('ns2', { podSelector: { matchExpressions: [expr] } }));
    expect(sel({ key: 'tier', operator: 'In', values: ['x'] }).isIngressIsolated('c')).toBe(true);
    expect(sel({ key: 'tier', operator: 'In', values: ['y'] }).isIngressIsolated('c')).toBe(false);
    expect(sel({ key: 'tier', operator: 'NotIn', values: ['x'] }).isIngressIsolated('c')).toBe(false);
    expect(sel({ key: 'tier', operator: 'NotIn', values: ['x'] }).isIngressIsolated('d')).toBe(true);
    expect(sel({ key: 'tier', operator: 'Exists' }).isIngressIsolated('d')).toBe(false);
    expect(sel({ key: 'tier', operator: 'DoesNotExist' }).isIngressIsolated('d')).toBe(true);
  });

  test('policies are additive: any policy that allows is enough', () => {
    const l = layer(
      np('ns2', { podSelector: {}, policyTypes: ['Ingress'] }, 'deny'),
      np('ns2', { podSelector: { matchLabels: { app: 'c' } }, ingress: [{ from: [{ namespaceSelector: {} }] }] }, 'allow'),
    );
    expect(l.decide('a', 'c', 80)).toEqual({ allowed: true, policies: ['NetworkPolicy/ns2/allow'] });
    expect(l.decide('a', 'd', 80)).toEqual({ allowed: false, policies: ['NetworkPolicy/ns2/deny'] });
  });

  test('an empty from, or a rule without from, admits every source including the outside world', () => {
    const l = layer(np('ns2', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] }));
    expect(l.ingressSources('c', 80)).toBeUndefined();
    expect(l.decide(EXTERNAL, 'c', 80).allowed).toBe(true);
    expect(l.decide(EXTERNAL, 'c', 81).allowed).toBe(false);
  });

  test('ports: the protocol defaults to TCP, endPort makes a range, and a name resolves to the container port', () => {
    const l = layer(np('ns2', { podSelector: {}, ingress: [{ ports: [{ port: 1000, endPort: 2000 }, { port: 'web' }, { protocol: 'UDP', port: 53 }] }] }));
    expect(l.decide('a', 'c', 1500).allowed).toBe(true);
    expect(l.decide('a', 'c', 2001).allowed).toBe(false);
    expect(l.decide('a', 'd', 8080).allowed).toBe(true);
    expect(l.decide('a', 'c', 8080).allowed).toBe(false);
    expect(l.decide('a', 'd', 53, 'UDP').allowed).toBe(true);
    expect(l.decide('a', 'd', 53, 'TCP').allowed).toBe(false);
  });

  test('a port without a number admits every port of its protocol', () => {
    const l = layer(np('ns2', { podSelector: {}, ingress: [{ ports: [{ protocol: 'UDP' }] }] }));
    expect(l.decide('a', 'c', 9999, 'UDP').allowed).toBe(true);
    expect(l.decide('a', 'c', 9999, 'TCP').allowed).toBe(false);
  });

  test('ipBlock matches addresses in the CIDR minus except, and the outside world when it covers public addresses', () => {
    const l = layer(np('ns1', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.6.0/24'] } }] }] }));
    expect(l.decide('a', 'd', 80).allowed).toBe(true);
    const excepted = layer(np('ns1', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.5.0/24'] } }] }] }));
    expect(excepted.decide('a', 'd', 80).allowed).toBe(false);
    const world = layer(np('ns2', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }));
    expect(world.decide(EXTERNAL, 'c', 80).allowed).toBe(true);
    expect(world.decide('a', 'c', 80).allowed).toBe(false);
  });
});
