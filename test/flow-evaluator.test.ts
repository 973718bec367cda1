import {
  istioAllows, IstioRequest, istioPathMatches, istioStringMatches, networkAllows, networkFlows, policyTypesOf, selectorMatches, Workload,
} from './support/flow-evaluator';

// Hand-made policies with answers worked out from the Kubernetes and Istio docs: they prove the
// evaluator that the property tests rely on.

const A: Workload = { id: 'a', namespace: 'ns1', labels: { app: 'a', tier: 'web' }, serviceAccount: 'a' };
const B: Workload = { id: 'b', namespace: 'ns1', labels: { app: 'b' }, serviceAccount: 'b' };
const C: Workload = { id: 'c', namespace: 'ns2', labels: { app: 'c', tier: 'web' }, serviceAccount: 'c' };
const Q: Workload = { id: 'q', namespace: 'ns2', labels: { app: 'q', quarantine: 'true' }, serviceAccount: 'q' };
const PODS = [A, B, C, Q];

function netpol(namespace: string, spec: object): object {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace }, spec };
}
function authz(namespace: string, spec: object): object {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p', namespace }, spec };
}
const nsSel = (name: string): object => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

describe('label selectors', () => {
  test('matchLabels AND matchExpressions with every operator', () => {
    const labels = { app: 'a', tier: 'web' };
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'db'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['x'] }] }, labels)).toBe(true); // absent key passes NotIn
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels)).toBe(false);
    expect(() => selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Gt' }] }, labels)).toThrow(/operator/);
  });
});

describe('NetworkPolicy', () => {
  test('no policy: everything flows', () => {
    expect(networkFlows([], PODS, [80]).size).toBe(12);
  });

  test('policyTypes default to Ingress, plus Egress only when egress rules exist', () => {
    expect(policyTypesOf({ podSelector: {} })).toEqual(['Ingress']);
    expect(policyTypesOf({ podSelector: {}, egress: [{}] })).toEqual(['Ingress', 'Egress']);
    expect(policyTypesOf({ podSelector: {}, egress: [] })).toEqual(['Ingress']);
    // podSelector {} with no rules and no policyTypes isolates ingress only: a still calls out.
    const objects = [netpol('ns1', { podSelector: {} })];
    expect(networkAllows(objects, PODS, 'c', 'a', 80)).toBe(false);
    expect(networkAllows(objects, PODS, 'a', 'c', 80)).toBe(true);
    // Egress rules without policyTypes: a becomes isolated for egress too.
    const withEgress = [netpol('ns1', { podSelector: { matchLabels: { app: 'a' } }, egress: [{ to: [{ podSelector: { matchLabels: { app: 'b' } } }] }] })];
    expect(networkAllows(withEgress, PODS, 'a', 'b', 80)).toBe(true);
    expect(networkAllows(withEgress, PODS, 'a', 'c', 80)).toBe(false);
    expect(networkAllows(withEgress, PODS, 'c', 'a', 80)).toBe(false); // ingress isolated, no ingress rule
  });

  test('default deny both ways with explicit policyTypes', () => {
    const objects = [netpol('ns1', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })];
    const flows = networkFlows(objects, PODS, [80]);
    expect([...flows].filter(f => f.includes('a') || f.includes('b'))).toEqual([]);
    expect(flows).toEqual(new Set(['c->q:80', 'q->c:80']));
  });

  test('podSelector and namespaceSelector in ONE peer are ANDed, in two peers ORed', () => {
    const and = [netpol('ns1', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: nsSel('ns2'), podSelector: { matchLabels: { app: 'c' } } }] }],
    })];
    expect(networkAllows(and, PODS, 'c', 'a', 80)).toBe(true);
    expect(networkAllows(and, PODS, 'q', 'a', 80)).toBe(false); // ns2 but not app=c
    expect(networkAllows(and, PODS, 'b', 'a', 80)).toBe(false); // app label irrelevant: wrong namespace
    const or = [netpol('ns1', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: nsSel('ns2') }, { podSelector: { matchLabels: { app: 'b' } } }] }],
    })];
    expect(networkAllows(or, PODS, 'c', 'a', 80)).toBe(true);
    expect(networkAllows(or, PODS, 'q', 'a', 80)).toBe(true); // every pod of ns2
    expect(networkAllows(or, PODS, 'b', 'a', 80)).toBe(true); // podSelector alone: policy's namespace
    const podOnly = [netpol('ns1', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { tier: 'web' } } }] }],
    })];
    expect(networkAllows(podOnly, PODS, 'c', 'a', 80)).toBe(false); // tier=web, but in ns2
    const allNs = [netpol('ns1', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { tier: 'web' } } }] }],
    })];
    expect(networkAllows(allNs, PODS, 'c', 'a', 80)).toBe(true);
  });

  test('empty from / missing ports mean all; ports default to TCP; endPort ranges; ipBlock matches no pod', () => {
    const objects = [netpol('ns1', {
      podSelector: { matchLabels: { app: 'a' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [], ports: [{ port: 80 }, { protocol: 'UDP', port: 53 }, { port: 9000, endPort: 9010 }] },
        { from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] },
      ],
    })];
    expect(networkAllows(objects, PODS, 'c', 'a', 80)).toBe(true);
    expect(networkAllows(objects, PODS, 'c', 'a', 80, 'UDP')).toBe(false);
    expect(networkAllows(objects, PODS, 'c', 'a', 53, 'UDP')).toBe(true);
    expect(networkAllows(objects, PODS, 'c', 'a', 53, 'TCP')).toBe(false);
    expect(networkAllows(objects, PODS, 'c', 'a', 9005)).toBe(true);
    expect(networkAllows(objects, PODS, 'c', 'a', 9011)).toBe(false);
    const anyPort = [netpol('ns1', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ from: [{ podSelector: {} }] }] })];
    expect(networkAllows(anyPort, PODS, 'b', 'a', 12345)).toBe(true);
    expect(networkAllows(anyPort, PODS, 'b', 'a', 12345, 'UDP')).toBe(true);
    const named = [netpol('ns1', { podSelector: { matchLabels: { app: 'a' } }, ingress: [{ ports: [{ port: 'http' }] }] })];
    const pods = [{ ...A, namedPorts: { http: 8080 } }, B];
    expect(networkAllows(named, pods, 'b', 'a', 8080)).toBe(true);
    expect(networkAllows(named, pods, 'b', 'a', 80)).toBe(false);
  });

  test('matchExpressions DoesNotExist excludes labelled pods as targets and as peers', () => {
    const notQ = { matchExpressions: [{ key: 'quarantine', operator: 'DoesNotExist' }] };
    const objects = [
      netpol('ns2', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      netpol('ns2', { podSelector: notQ, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: notQ }] }], egress: [{ to: [{ podSelector: notQ }] }] }),
    ];
    const flows = networkFlows(objects, PODS, [80]);
    expect(flows.has('c->q:80')).toBe(false);
    expect(flows.has('q->c:80')).toBe(false);
    expect(flows.has('c->a:80')).toBe(false); // egress only to ns2 pods
    expect(flows.has('a->c:80')).toBe(false); // a is in ns1: not matched by the podSelector-only peer
    expect(flows.has('a->q:80')).toBe(false);
  });

  test('egress AND ingress must both allow', () => {
    const objects = [
      netpol('ns1', { podSelector: { matchLabels: { app: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: nsSel('ns2') }], ports: [{ port: 80 }] }] }),
      netpol('ns2', { podSelector: { matchLabels: { app: 'c' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: nsSel('ns1'), podSelector: { matchLabels: { app: 'b' } } }] }] }),
    ];
    expect(networkAllows(objects, PODS, 'a', 'c', 80)).toBe(false); // egress ok, ingress admits only b
    expect(networkAllows(objects, PODS, 'b', 'c', 80)).toBe(true); // b not egress-isolated
    expect(networkAllows(objects, PODS, 'a', 'q', 80)).toBe(true); // q not ingress-isolated
    expect(networkAllows(objects, PODS, 'a', 'q', 81)).toBe(false);
  });
});

describe('Istio AuthorizationPolicy', () => {
  const req = (principal: string, port: number, method?: string, path?: string): IstioRequest =>
    ({ principal, port, method, path });
  const fromB = req('cluster.local/ns/ns1/sa/b', 8080, 'GET', '/x');

  test('string and path matching', () => {
    expect(istioStringMatches('*', 'x')).toBe(true);
    expect(istioStringMatches('*', '')).toBe(false);
    expect(istioStringMatches('cluster.local/ns/ns1/*', 'cluster.local/ns/ns1/sa/b')).toBe(true);
    expect(istioStringMatches('*/sa/b', 'cluster.local/ns/ns1/sa/b')).toBe(true);
    expect(istioStringMatches('*/sa/b', 'cluster.local/ns/ns1/sa/bb')).toBe(false);
    expect(istioPathMatches('/api/*', '/api/v1')).toBe(true);
    expect(istioPathMatches('/users/{*}/orders', '/users/7/orders')).toBe(true);
    expect(istioPathMatches('/users/{*}/orders', '/users/7/8/orders')).toBe(false);
    expect(istioPathMatches('/static/{**}', '/static/a/b')).toBe(true);
    expect(istioPathMatches('/static/{**}', '/static')).toBe(false);
  });

  test('no policy allows; allow-nothing (no rules) denies; a rule {} allows all', () => {
    expect(istioAllows([], PODS, 'a', fromB)).toBe(true);
    expect(istioAllows([authz('ns1', {})], PODS, 'a', fromB)).toBe(false);
    expect(istioAllows([authz('ns2', {})], PODS, 'a', fromB)).toBe(true); // other namespace
    expect(istioAllows([authz('istio-system', {})], PODS, 'a', fromB)).toBe(false); // root: mesh-wide
    expect(istioAllows([authz('ns1', {}), authz('ns1', { rules: [{}] })], PODS, 'a', fromB)).toBe(true);
  });

  test('from AND to; any-of sources, any-of operations; selector scoping', () => {
    const objects = [authz('ns1', {
      selector: { matchLabels: { app: 'a' } },
      action: 'ALLOW',
      rules: [{
        from: [{ source: { principals: ['cluster.local/ns/ns1/sa/b'] } }, { source: { namespaces: ['ns2'] } }],
        to: [{ operation: { ports: ['8080'], methods: ['GET'] } }, { operation: { ports: ['9090'] } }],
      }],
    })];
    expect(istioAllows(objects, PODS, 'a', fromB)).toBe(true);
    expect(istioAllows(objects, PODS, 'a', req('cluster.local/ns/ns2/sa/c', 9090))).toBe(true);
    expect(istioAllows(objects, PODS, 'a', req('cluster.local/ns/ns1/sa/b', 8080, 'POST', '/x'))).toBe(false);
    expect(istioAllows(objects, PODS, 'a', req('cluster.local/ns/ns1/sa/a', 8080, 'GET', '/x'))).toBe(false);
    expect(istioAllows(objects, PODS, 'a', req('cluster.local/ns/ns1/sa/b', 8081, 'GET', '/x'))).toBe(false);
    expect(istioAllows(objects, PODS, 'b', req('cluster.local/ns/ns1/sa/a', 1))).toBe(true); // selector skips b
  });

  test('HTTP-only fields on TCP: unmatched in ALLOW, ignored in DENY', () => {
    const allow = [authz('ns1', { rules: [{ to: [{ operation: { ports: ['5432'], methods: ['GET'] } }] }] })];
    expect(istioAllows(allow, PODS, 'a', req('cluster.local/ns/ns1/sa/b', 5432))).toBe(false);
    const deny = [authz('ns1', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['DELETE'] } }] }] })];
    expect(istioAllows(deny, PODS, 'a', req('cluster.local/ns/ns1/sa/b', 5432))).toBe(false);
    expect(istioAllows(deny, PODS, 'a', req('cluster.local/ns/ns1/sa/b', 80, 'GET', '/'))).toBe(true);
  });

  test('DENY beats ALLOW; mesh-wide DENY by selector', () => {
    const objects = [
      authz('ns2', { action: 'ALLOW', rules: [{}] }),
      authz('istio-system', { action: 'DENY', selector: { matchLabels: { quarantine: 'true' } }, rules: [{}] }),
    ];
    expect(istioAllows(objects, PODS, 'c', fromB)).toBe(true);
    expect(istioAllows(objects, PODS, 'q', fromB)).toBe(false);
    const notPrincipal = [authz('ns1', { action: 'DENY', rules: [{ from: [{ source: { notPrincipals: ['cluster.local/ns/ns1/sa/b'] } }] }] })];
    expect(istioAllows(notPrincipal, PODS, 'a', fromB)).toBe(true);
    expect(istioAllows(notPrincipal, PODS, 'a', req('cluster.local/ns/ns2/sa/c', 8080))).toBe(false);
  });

  test('fields it does not model throw instead of being ignored', () => {
    expect(() => istioAllows([authz('ns1', { rules: [{ when: [{ key: 'request.headers[x]', values: ['1'] }] }] })], PODS, 'a', fromB)).toThrow(/when/);
    expect(() => istioAllows([authz('ns1', { rules: [{ from: [{ source: { ipBlocks: ['1.2.3.4'] } }] }] })], PODS, 'a', fromB)).toThrow(/ipBlocks/);
    expect(() => istioAllows([authz('ns1', { rules: [{ to: [{ operation: { hosts: ['x'] } }] }] })], PODS, 'a', fromB)).toThrow(/hosts/);
  });
});
