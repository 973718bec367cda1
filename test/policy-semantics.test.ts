import { Testing } from 'cdk8s';
import { ServicePort, ZeroTrustPolicyChart } from '../lib';
import { find, has, Manifest, newChart, NOT_QUARANTINED, ofKind, synth } from './support/manifests';

/** The seed scenario, built inline so each test can read exactly what was declared. */
function seed() {
  const chart = newChart();
  const apiGateway = chart.addService('api-gateway', { ports: [ServicePort.http(8080)] });
  const user = chart.addService('user', { ports: [ServicePort.http(8080)] });
  const order = chart.addService('order', { ports: [ServicePort.http(8080)] });
  const payment = chart.addService('payment', { namespace: 'payments', ports: [ServicePort.http(8443)] });
  chart.addService('analytics', { namespace: 'analytics', ports: [ServicePort.http(8080)] });
  apiGateway.allowFromIngressGateway();
  user.allowFrom(apiGateway);
  payment.allowFrom(order, { ports: [8443], methods: ['POST'], paths: ['/charge'] });
  return { chart, objects: synth(chart) };
}

describe('3.1 identity', () => {
  test('a principal is <trustDomain>/ns/<namespace>/sa/<serviceAccount>', () => {
    const chart = newChart({ trustDomain: 'prod.example.com' });
    const order = chart.addService('order', { serviceAccountName: 'order-sa' });
    expect(order.principal).toBe('prod.example.com/ns/shop/sa/order-sa');
    const payment = chart.addService('payment', { namespace: 'pay', ports: [ServicePort.http(8443)] });
    payment.allowFrom(order);
    const ap = find(synth(chart), 'AuthorizationPolicy', 'pay', 'payment');
    expect(ap.spec.rules[0].from).toEqual([{ source: { principals: ['prod.example.com/ns/shop/sa/order-sa'] } }]);
  });

  test('authorization names principals only: no namespaces, IP blocks or request principals', () => {
    const { objects } = seed();
    for (const ap of ofKind(objects, 'AuthorizationPolicy')) {
      for (const rule of ap.spec.rules ?? []) {
        for (const from of rule.from ?? []) {
          expect(Object.keys(from.source)).toEqual(['principals']);
        }
      }
    }
  });

  test('each service gets a dedicated service account that does not automount its token; a shared one is emitted once', () => {
    const chart = newChart();
    chart.addService('order', {});
    chart.addService('worker-a', { serviceAccountName: 'workers', podLabels: { app: 'worker-a' } });
    chart.addService('worker-b', { serviceAccountName: 'workers', podLabels: { app: 'worker-b' } });
    const objects = synth(chart);
    expect(find(objects, 'ServiceAccount', 'shop', 'order').automountServiceAccountToken).toBe(false);
    // Plus the namespace's own `default` account, emitted with its token off (controls.md K8S-09).
    expect(ofKind(objects, 'ServiceAccount').map(o => o.metadata.name).sort()).toEqual(['default', 'order', 'workers']);
    expect(find(objects, 'ServiceAccount', 'shop', 'default').automountServiceAccountToken).toBe(false);
  });
});

describe('3.2 mTLS', () => {
  test('a mesh-wide STRICT PeerAuthentication lives in the root namespace, without a selector', () => {
    const pa = find(seed().objects, 'PeerAuthentication', 'istio-system', 'default');
    expect(pa.spec).toEqual({ mtls: { mode: 'STRICT' } });
  });

  test('every service namespace has its own namespace-wide STRICT, and no PeerAuthentication has a port exception', () => {
    const { objects } = seed();
    for (const ns of ['analytics', 'payments', 'shop']) {
      expect(find(objects, 'PeerAuthentication', ns, 'default').spec).toEqual({ mtls: { mode: 'STRICT' } });
    }
    for (const pa of ofKind(objects, 'PeerAuthentication')) {
      expect(pa.spec.portLevelMtls).toBeUndefined();
      expect(pa.spec.selector).toBeUndefined();
    }
  });

  test('the root namespace can be moved', () => {
    const chart = newChart({ platform: { rootNamespace: 'mesh-root' } });
    chart.addService('order', {});
    const objects = synth(chart);
    expect(find(objects, 'PeerAuthentication', 'mesh-root', 'default').spec.mtls.mode).toBe('STRICT');
    expect(has(objects, 'PeerAuthentication', 'istio-system', 'default')).toBe(false);
  });
});

describe('3.3 authorization', () => {
  test('a mesh-wide allow-nothing policy and one per service namespace', () => {
    const { objects } = seed();
    for (const ns of ['istio-system', 'analytics', 'payments', 'shop']) {
      expect(find(objects, 'AuthorizationPolicy', ns, 'zero-trust.allow-nothing').spec).toEqual({});
    }
  });

  test('an ALLOW per service lists exactly its callers, target ports, methods and paths', () => {
    const { objects } = seed();
    expect(find(objects, 'AuthorizationPolicy', 'payments', 'payment').spec).toEqual({
      action: 'ALLOW',
      selector: { matchLabels: { 'app.kubernetes.io/name': 'payment' } },
      rules: [{
        from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }],
        to: [{ operation: { ports: ['8443'], methods: ['POST'], paths: ['/charge'] } }],
      }],
    });
    expect(find(objects, 'AuthorizationPolicy', 'shop', 'user').spec.rules).toEqual([{
      from: [{ source: { principals: ['cluster.local/ns/shop/sa/api-gateway'] } }],
      to: [{ operation: { ports: ['8080'] } }],
    }]);
  });

  test('a service with no callers gets no ALLOW policy, so it is unreachable', () => {
    const { objects } = seed();
    expect(has(objects, 'AuthorizationPolicy', 'analytics', 'analytics')).toBe(false);
    expect(has(objects, 'AuthorizationPolicy', 'shop', 'order')).toBe(false);
  });

  test('the ingress gateway has its own ALLOW on its listener ports, and services admit its principal', () => {
    const { objects } = seed();
    expect(find(objects, 'AuthorizationPolicy', 'istio-ingress', 'zero-trust.ingress-gateway').spec).toEqual({
      action: 'ALLOW',
      selector: { matchLabels: { istio: 'ingressgateway', app: 'istio-ingressgateway' } },
      rules: [{ to: [{ operation: { ports: ['80', '443'] } }] }],
    });
    expect(find(objects, 'AuthorizationPolicy', 'shop', 'api-gateway').spec.rules[0].from[0].source.principals)
      .toEqual(['cluster.local/ns/istio-ingress/sa/istio-ingressgateway']);
  });

  test('repeated allows of one caller merge without widening: restricted rules stay separate, identical ones collapse', () => {
    const chart = newChart();
    const order = chart.addService('order', {});
    const payment = chart.addService('payment', { ports: [ServicePort.http(8443), ServicePort.http(9090)] });
    payment.allowFrom(order, { ports: [8443], methods: ['POST'], paths: ['/charge'] });
    payment.allowFrom(order, { ports: [8443], methods: ['GET'], paths: ['/status'] });
    payment.allowFrom(order, { ports: [8443], methods: ['POST'], paths: ['/charge'] });
    const rules = find(synth(chart), 'AuthorizationPolicy', 'shop', 'payment').spec.rules;
    expect(rules.map((r: any) => r.to[0].operation)).toEqual([
      { ports: ['8443'], methods: ['GET'], paths: ['/status'] },
      { ports: ['8443'], methods: ['POST'], paths: ['/charge'] },
    ]);
  });

  test('callers with the same ports and restriction share a rule; different port sets do not', () => {
    const chart = newChart();
    const a = chart.addService('a', {});
    const b = chart.addService('b', {});
    const c = chart.addService('c', {});
    const db = chart.addService('db', { ports: [ServicePort.tcp(5432), ServicePort.tcp(9187)] });
    db.allowFrom(a, { ports: [5432] });
    db.allowFrom(b, { ports: [5432] });
    db.allowFrom(c);
    const rules = find(synth(chart), 'AuthorizationPolicy', 'shop', 'db').spec.rules;
    expect(rules).toEqual([
      // Rules are ORed, so their order carries no meaning; it is sorted by (restriction, ports, principals).
      { from: [{ source: { principals: ['cluster.local/ns/shop/sa/c'] } }], to: [{ operation: { ports: ['5432', '9187'] } }] },
      { from: [{ source: { principals: ['cluster.local/ns/shop/sa/a', 'cluster.local/ns/shop/sa/b'] } }], to: [{ operation: { ports: ['5432'] } }] },
    ]);
  });

  test('an unrestricted and a restricted allow of the same caller on the same port is an error, in either order', () => {
    const chart = newChart();
    const order = chart.addService('order', {});
    const payment = chart.addService('payment', { ports: [ServicePort.http(8443)] });
    payment.allowFrom(order);
    expect(() => payment.allowFrom(order, { methods: ['POST'] })).toThrow(/service 'payment' allowFrom\('order'\): methods\/paths .*conflicts with an earlier allow.*Fix:/);
    const other = newChart();
    const o2 = other.addService('order', {});
    const p2 = other.addService('payment', { ports: [ServicePort.http(8443)] });
    p2.allowFrom(o2, { paths: ['/charge'] });
    expect(() => p2.allowFrom(o2)).toThrow(/conflicts with an earlier allow of the same caller on port 8443/);
  });

  test('the ALLOW policy exists only in the callee namespace and selects only its pods', () => {
    const { objects } = seed();
    const aps = ofKind(objects, 'AuthorizationPolicy').filter(o => o.spec.action === 'ALLOW' && o.metadata.namespace !== 'istio-ingress');
    expect(aps.map(o => `${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual(['payments/payment', 'shop/api-gateway', 'shop/user']);
    for (const ap of aps) {
      expect(ap.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': ap.metadata.name });
    }
  });
});

describe('3.4 network', () => {
  test('every service namespace has a default-deny for Ingress and Egress with no rules', () => {
    const { objects } = seed();
    for (const ns of ['analytics', 'payments', 'shop']) {
      const np = find(objects, 'NetworkPolicy', ns, 'zero-trust.default-deny');
      expect(np.spec).toEqual({ podSelector: {}, policyTypes: expect.arrayContaining(['Ingress', 'Egress']) });
      expect(np.spec.policyTypes).toHaveLength(2);
    }
  });

  test('an edge opens ingress on the callee from the caller (namespace AND pod in one peer) on the target port', () => {
    const np = find(seed().objects, 'NetworkPolicy', 'payments', 'payment');
    expect(np.spec).toEqual({
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'payment' }, matchExpressions: NOT_QUARANTINED },
      ingress: [{
        from: [{
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order' }, matchExpressions: NOT_QUARANTINED },
        }],
        ports: [{ port: 8443, protocol: 'TCP' }],
      }],
      policyTypes: ['Ingress'],
    });
  });

  test('an edge opens egress on the caller to the callee pods on the target port, and nothing else', () => {
    const np = find(seed().objects, 'NetworkPolicy', 'shop', 'order');
    expect(np.spec.egress).toEqual([{
      to: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'payment' }, matchExpressions: NOT_QUARANTINED },
      }],
      ports: [{ port: 8443, protocol: 'TCP' }],
    }]);
    expect(np.spec.ingress).toBeUndefined();
    expect(np.spec.policyTypes).toEqual(['Egress']);
  });

  test('a service with neither callers nor callees gets no policy of its own (default deny covers it)', () => {
    expect(has(seed().objects, 'NetworkPolicy', 'analytics', 'analytics')).toBe(false);
  });

  test('platform egress: DNS on UDP and TCP 53 to kube-dns, and istiod on TCP 15012, for every non-quarantined pod', () => {
    const np = find(seed().objects, 'NetworkPolicy', 'shop', 'zero-trust.platform-egress');
    expect(np.spec).toEqual({
      podSelector: { matchExpressions: NOT_QUARANTINED },
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' }, matchExpressions: NOT_QUARANTINED } }],
          ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
        },
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'istio-system' } }, podSelector: { matchLabels: { app: 'istiod', istio: 'pilot' }, matchExpressions: NOT_QUARANTINED } }],
          ports: [{ port: 15012, protocol: 'TCP' }],
        },
      ],
      policyTypes: ['Egress'],
    });
  });

  test('no policy uses an ipBlock, and every rule lists its ports', () => {
    for (const np of ofKind(seed().objects, 'NetworkPolicy')) {
      for (const rule of [...(np.spec.ingress ?? []), ...(np.spec.egress ?? [])]) {
        expect(rule.ports.length).toBeGreaterThan(0);
        for (const peer of [...(rule.from ?? []), ...(rule.to ?? [])]) {
          expect(peer.ipBlock).toBeUndefined();
          expect(peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toEqual(expect.any(String));
        }
      }
    }
  });

  test('a client-only service gets egress but no Service object', () => {
    const chart = newChart();
    const loadgen = chart.addService('loadgen', {});
    const api = chart.addService('api', { ports: [ServicePort.grpc(9090)] });
    api.allowFrom(loadgen);
    const objects = synth(chart);
    expect(has(objects, 'Service', 'shop', 'loadgen')).toBe(false);
    expect(find(objects, 'NetworkPolicy', 'shop', 'loadgen').spec.egress[0].ports).toEqual([{ port: 9090, protocol: 'TCP' }]);
  });
});

describe('3.5 ports', () => {
  test('the Service names ports by protocol, sets appProtocol, and policies use the container port', () => {
    const chart = newChart();
    const order = chart.addService('order', {});
    const payment = chart.addService('payment', { ports: [ServicePort.http(80, { targetPort: 8080 }), ServicePort.grpc(9090), ServicePort.tcp(5432)] });
    payment.allowFrom(order, { ports: [8080] });
    const objects = synth(chart);
    expect(find(objects, 'Service', 'shop', 'payment').spec).toEqual({
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'payment' },
      ports: [
        { name: 'http-80', port: 80, targetPort: 8080, protocol: 'TCP', appProtocol: 'http' },
        { name: 'tcp-5432', port: 5432, targetPort: 5432, protocol: 'TCP', appProtocol: 'tcp' },
        { name: 'grpc-9090', port: 9090, targetPort: 9090, protocol: 'TCP', appProtocol: 'grpc' },
      ],
    });
    expect(find(objects, 'NetworkPolicy', 'shop', 'payment').spec.ingress[0].ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
    expect(find(objects, 'AuthorizationPolicy', 'shop', 'payment').spec.rules[0].to[0].operation.ports).toEqual(['8080']);
    expect(chart.warnings).toEqual([expect.stringMatching(/service 'payment': port 80 differs from targetPort 8080/)]);
  });

  test('allowFrom without ports opens every target port of the callee', () => {
    const chart = newChart();
    const order = chart.addService('order', {});
    const payment = chart.addService('payment', { ports: [ServicePort.http(80, { targetPort: 8080 }), ServicePort.tcp(5432)] });
    payment.allowFrom(order);
    expect(find(synth(chart), 'NetworkPolicy', 'shop', 'payment').spec.ingress[0].ports).toEqual([{ port: 5432, protocol: 'TCP' }, { port: 8080, protocol: 'TCP' }]);
  });
});

describe('3.6 quarantine', () => {
  test('every NetworkPolicy with rules excludes quarantined pods as selected pods and as peers', () => {
    const { objects } = seed();
    for (const np of ofKind(objects, 'NetworkPolicy')) {
      const rules = [...(np.spec.ingress ?? []), ...(np.spec.egress ?? [])];
      if (rules.length === 0) {
        continue;
      }
      expect(np.spec.podSelector.matchExpressions).toEqual(NOT_QUARANTINED);
      for (const peer of rules.flatMap((r: any) => [...(r.from ?? []), ...(r.to ?? [])])) {
        expect(peer.podSelector.matchExpressions).toEqual(NOT_QUARANTINED);
      }
    }
  });

  test('a mesh-wide DENY rejects every request into a pod labelled quarantined', () => {
    expect(find(seed().objects, 'AuthorizationPolicy', 'istio-system', 'zero-trust.deny-quarantined').spec).toEqual({
      action: 'DENY',
      selector: { matchLabels: { 'zero-trust.cdk.io/quarantine': 'true' } },
      rules: [{}],
    });
  });

  test('the quarantine label is configurable and used everywhere', () => {
    const chart = newChart({ platform: { quarantineLabel: 'security.example.com/quarantine' } });
    const order = chart.addService('order', {});
    chart.addService('payment', { ports: [ServicePort.http(8443)] }).allowFrom(order);
    const text = JSON.stringify(synth(chart));
    expect(text).not.toContain('zero-trust.cdk.io/quarantine');
    expect(text.match(/security\.example\.com\/quarantine/g)?.length).toBeGreaterThan(5);
  });
});

describe('namespaces, sidecars and names', () => {
  test('service namespaces carry the mesh injection label and Pod Security restricted in every mode', () => {
    const ns = find(seed().objects, 'Namespace', undefined, 'shop');
    expect(ns.metadata.labels).toMatchObject({
      'istio-injection': 'enabled',
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
  });

  test('the namespace Sidecar lists exactly the declared callees plus the mesh root, and is REGISTRY_ONLY', () => {
    const { objects } = seed();
    expect(find(objects, 'Sidecar', 'shop', 'default').spec).toEqual({
      egress: [{ hosts: ['istio-system/*', 'payments/payment.payments.svc.cluster.local', 'shop/user.shop.svc.cluster.local'] }],
      outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
    });
    expect(find(objects, 'Sidecar', 'analytics', 'default').spec.egress).toEqual([{ hosts: ['istio-system/*'] }]);
  });

  test('object names are stable, readable and unique per kind and namespace, and every object is labelled as managed', () => {
    const chart = newChart();
    // Names that would collide under naive concatenation ('a-b' + 'c' vs 'a' + 'b-c') or with fixed names.
    const ab = chart.addService('a-b', { ports: [ServicePort.http(80)] });
    const a = chart.addService('a', { ports: [ServicePort.http(80)] });
    chart.addService('default-deny', { ports: [ServicePort.http(80)] }).allowFrom(ab);
    chart.addService('allow-nothing', { ports: [ServicePort.http(80)] }).allowFrom(a);
    const objects = synth(chart);
    const keys = objects.map(o => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const o of objects) {
      expect(o.metadata.name).not.toMatch(/[0-9a-f]{8}$/);
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks' });
    }
    expect(find(objects, 'NetworkPolicy', 'shop', 'default-deny').spec.ingress).toHaveLength(1);
    expect(find(objects, 'NetworkPolicy', 'shop', 'zero-trust.default-deny').spec.ingress).toBeUndefined();
  });

  test('synthesis is deterministic and does not depend on when toJson is called', () => {
    const build = () => {
      const chart = new ZeroTrustPolicyChart(Testing.app(), 'shop');
      const x = chart.addService('x', { ports: [ServicePort.http(80)] });
      const y = chart.addService('y', { namespace: 'other', ports: [ServicePort.grpc(90)] });
      y.allowFrom(x);
      x.allowFrom(y, { methods: ['GET'] });
      return chart;
    };
    const first = build();
    const once = JSON.stringify(first.toJson());
    expect(JSON.stringify(first.toJson())).toBe(once);
    expect(JSON.stringify(build().toJson())).toBe(once);
  });

  test('a declaration made after a synthesis shows up in the next one', () => {
    const chart = newChart();
    const order = chart.addService('order', {});
    const payment = chart.addService('payment', { ports: [ServicePort.http(8443)] });
    expect(has(synth(chart), 'AuthorizationPolicy', 'shop', 'payment')).toBe(false);
    payment.allowFrom(order);
    expect(has(synth(chart), 'AuthorizationPolicy', 'shop', 'payment')).toBe(true);
  });

  test('a service namespace defaults to the chart namespace, else the chart id', () => {
    const withNs = newChart({ namespace: 'store' });
    expect(withNs.addService('a', {}).namespace).toBe('store');
    const noNs = new ZeroTrustPolicyChart(Testing.app(), 'retail');
    expect(noNs.addService('a', {}).namespace).toBe('retail');
    expect(has(synth(noNs) as Manifest[], 'Namespace', undefined, 'retail')).toBe(true);
  });
});
