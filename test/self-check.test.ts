import { ApiObject, Testing } from 'cdk8s';
import { SelfCheck, ServicePort, ZeroTrustPolicyChart } from '../lib';
import { verifyDeclaration } from '../lib/analysis/declared-access';
import { KubeObject } from '../lib/analysis/manifest';
import { PolicyModel } from '../lib/model/policy-model';
import { resolvePlatform } from '../lib/model/resolved-platform';

/** order -> payment:8443 POST /charge; payment also exposes 9000, which nobody may use. */
function declare(selfCheck?: SelfCheck) {
  const chart = new ZeroTrustPolicyChart(Testing.app(), 'shop', { namespace: 'shop', selfCheck });
  const order = chart.addService('order', { ports: [ServicePort.http(8080)] });
  const payment = chart.addService('payment', { namespace: 'payments', ports: [ServicePort.http(8443), ServicePort.tcp(9000)] });
  payment.allowFrom(order, { ports: [8443], methods: ['POST'], paths: ['/charge'] });
  return { chart, order, payment };
}

function extra(chart: ZeroTrustPolicyChart, id: string, kind: string, apiVersion: string, namespace: string, spec: Record<string, unknown>) {
  new ApiObject(chart, id, { apiVersion, kind, metadata: { name: id.toLowerCase(), namespace }, spec });
}

describe('self-verifying synthesis', () => {
  test('the exact output passes and records no findings', () => {
    const { chart } = declare();
    expect(chart.toJson().length).toBeGreaterThan(20);
    expect(chart.selfCheckFindings).toEqual([]);
  });

  test('an undeclared flow opened at the NetworkPolicy layer fails synthesis', () => {
    const { chart } = declare();
    extra(chart, 'LeakEgress', 'NetworkPolicy', 'networking.k8s.io/v1', 'shop', { podSelector: {}, egress: [{}], policyTypes: ['Egress'] });
    extra(chart, 'LeakIngress', 'NetworkPolicy', 'networking.k8s.io/v1', 'payments', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] });
    expect(() => chart.toJson()).toThrow(/undeclared flow shop\/order -> payments\/payment:9000\/TCP is open: NetworkPolicy \(NetworkPolicy\/shop\/leakegress, NetworkPolicy\/payments\/leakingress\)/);
  });

  test('an undeclared flow opened at the Istio layer alone fails synthesis', () => {
    const { chart } = declare();
    extra(chart, 'WideOpen', 'AuthorizationPolicy', 'security.istio.io/v1', 'payments', { rules: [{ from: [{ source: { principals: ['*'] } }] }] });
    expect(() => chart.toJson()).toThrow(/undeclared flow shop\/order -> payments\/payment:9000\/TCP is open: Istio \(AuthorizationPolicy\/payments\/wideopen\)/);
  });

  test('a widened request restriction fails synthesis', () => {
    const { chart } = declare();
    extra(chart, 'AnyMethod', 'AuthorizationPolicy', 'security.istio.io/v1', 'payments', {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'payment' } },
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }], to: [{ operation: { ports: ['8443'] } }] }],
    });
    expect(() => chart.toJson()).toThrow(/declared flow shop\/order -> payments\/payment:8443\/TCP allows requests \[\*\] but the declaration allows \[methods=POST paths=\/charge\]/);
  });

  test('a declared flow denied by Istio fails synthesis', () => {
    const { chart } = declare();
    extra(chart, 'Deny', 'AuthorizationPolicy', 'security.istio.io/v1', 'payments', { action: 'DENY', rules: [{ to: [{ operation: { ports: ['8443'] } }] }] });
    expect(() => chart.toJson()).toThrow(/declared flow shop\/order -> payments\/payment:8443\/TCP is denied by Istio \(AuthorizationPolicy\/payments\/deny\)/);
  });

  test('SelfCheck.WARN synthesizes anyway and records the findings', () => {
    const { chart } = declare(SelfCheck.WARN);
    extra(chart, 'Deny', 'AuthorizationPolicy', 'security.istio.io/v1', 'payments', { action: 'DENY', rules: [{}] });
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(chart.toJson().some((o: KubeObject) => o.metadata?.name === 'deny')).toBe(true);
      expect(chart.selfCheckFindings).toEqual([expect.stringMatching(/declared flow shop\/order -> payments\/payment:8443\/TCP is denied by Istio/)]);
      expect(write).toHaveBeenCalledWith(expect.stringMatching(/^warning: ZeroTrustPolicyChart 'shop': the synthesized policies do not match/));
    } finally {
      write.mockRestore();
    }
  });
});

describe('the probes: access granted to anyone, hidden egress, weak mTLS and broken quarantine', () => {
  const NP = ['NetworkPolicy', 'networking.k8s.io/v1'] as const;
  const fails = (add: (chart: ZeroTrustPolicyChart) => void, message: RegExp) => {
    const { chart } = declare();
    add(chart);
    expect(() => chart.toJson()).toThrow(message);
  };

  test('an ingress rule open to every pod of the namespace, though every caller\'s egress is default-deny', () => {
    fails(c => extra(c, 'SameNs', ...NP, 'payments', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }], policyTypes: ['Ingress'] }),
      /undeclared ingress into payments\/payment:8443\/TCP from probe\/stranger\/payments \(NetworkPolicy\/payments\/samens\)/);
  });

  test('an ingress rule without peers', () => {
    fails(c => extra(c, 'AnySource', ...NP, 'payments', { podSelector: {}, ingress: [{ ports: [{ port: 8443, protocol: 'TCP' }] }], policyTypes: ['Ingress'] }),
      /undeclared ingress into payments\/payment:8443\/TCP from every source \(NetworkPolicy\/payments\/anysource\)/);
  });

  test('an ipBlock into a declared port (pod addresses are never known, so no caller is admitted by address)', () => {
    fails(c => extra(c, 'Vpc', ...NP, 'payments', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }], policyTypes: ['Ingress'] }),
      /undeclared ingress into payments\/payment:8443\/TCP from ipBlock 10\.0\.0\.0\/8 \(NetworkPolicy\/payments\/vpc\)/);
  });

  test('egress to the internet, to everything, to every pod on a port, and to a port range', () => {
    fails(c => extra(c, 'Internet', ...NP, 'shop', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] }], policyTypes: ['Egress'] }),
      /undeclared egress: shop\/order may reach ipBlock 0\.0\.0\.0\/0 on TCP 443, which no external endpoint it calls declares \(NetworkPolicy\/shop\/internet\)/);
    fails(c => extra(c, 'All', ...NP, 'shop', { podSelector: {}, egress: [{}], policyTypes: ['Egress'] }),
      /undeclared egress: shop\/order may reach every destination every port \(NetworkPolicy\/shop\/all\)/);
    fails(c => extra(c, 'AnyPod', ...NP, 'shop', { podSelector: {}, egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 8080, protocol: 'TCP' }] }], policyTypes: ['Egress'] }),
      /undeclared egress shop\/order -> probe\/stranger\/default:8080\/TCP is open: NetworkPolicy \(NetworkPolicy\/shop\/anypod\)/);
    fails(c => extra(c, 'Range', ...NP, 'shop', { podSelector: {}, egress: [{ to: [{ namespaceSelector: {} }], ports: [{ port: 8000, endPort: 9000, protocol: 'TCP' }] }], policyTypes: ['Egress'] }),
      /undeclared egress: shop\/order may reach \[.*payments\/payment.*\] on TCP 8000-9000 \(NetworkPolicy\/shop\/range\)/);
  });

  test('an AuthorizationPolicy that admits a namespace rather than principals', () => {
    fails(c => extra(c, 'ByNs', 'AuthorizationPolicy', 'security.istio.io/v1', 'payments', { rules: [{ from: [{ source: { namespaces: ['default'] } }] }] }),
      /undeclared flow probe\/stranger\/default -> payments\/payment:8443\/TCP is open: Istio \(AuthorizationPolicy\/payments\/byns\)/);
  });

  test('a workload-level or port-level PERMISSIVE PeerAuthentication', () => {
    const selector = { matchLabels: { 'app.kubernetes.io/name': 'payment' } };
    fails(c => extra(c, 'Lax', 'PeerAuthentication', 'security.istio.io/v1', 'payments', { selector, mtls: { mode: 'PERMISSIVE' } }),
      /mTLS on payments\/payment:8443\/TCP is PERMISSIVE \(PeerAuthentication\/payments\/lax\), not STRICT/);
    fails(c => extra(c, 'LaxPort', 'PeerAuthentication', 'security.istio.io/v1', 'payments', { selector, portLevelMtls: { 9000: { mode: 'DISABLE' } } }),
      /mTLS on payments\/payment:9000\/TCP is DISABLE \(PeerAuthentication\/payments\/laxport\), not STRICT/);
  });

  test('an allow that forgets the quarantine exclusion opens a quarantined pod, in and out', () => {
    // Same peers as the generated allows, without the DoesNotExist expressions.
    fails(c => extra(c, 'NoExclusionIn', ...NP, 'payments', {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'payment' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order' } } }], ports: [{ port: 8443, protocol: 'TCP' }] }],
      policyTypes: ['Ingress'],
    }), /undeclared ingress into payments\/payment:8443\/TCP from probe\/quarantined\/shop\/order/);
    fails(c => extra(c, 'NoExclusionOut', ...NP, 'shop', {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order' } },
      egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ port: 53, protocol: 'UDP' }] }],
      policyTypes: ['Egress'],
    }), /quarantine broken: probe\/quarantined\/shop\/order may still reach \[platform\/cluster-dns\] UDP 53 \(NetworkPolicy\/shop\/noexclusionout\)/);
  });

  test('a missing mesh-wide quarantine DENY lets requests into a quarantined pod', () => {
    const { chart } = declare();
    const objects = chart.toJson().filter((o: KubeObject) => !(o.kind === 'AuthorizationPolicy' && /quarantine/.test(o.metadata?.name ?? '')));
    // Istio cannot see labels, so order's quarantined copy (same principal) gets in too; NetworkPolicy still stops both.
    // eslint-disable-next-line dot-notation
    expect(verifyDeclaration(chart['model'], objects)).toEqual(['probe/quarantined/shop/order', 'shop/order'].map(source =>
      `quarantine broken: ${source} -> probe/quarantined/payments/payment:8443/TCP into a quarantined pod is open: Istio (AuthorizationPolicy/payments/payment)`));
  });
});

describe('the review\'s gaps: look-alike pods, undeclared ports and named ports', () => {
  const NP = ['NetworkPolicy', 'networking.k8s.io/v1'] as const;
  const NOT_QUARANTINED = [{ key: 'zero-trust.cdk.io/quarantine', operator: 'DoesNotExist' }];
  const ORDER_IN_SHOP = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order' }, matchExpressions: NOT_QUARANTINED } };
  /** The findings of the declaration plus `add`, synthesized with SelfCheck.WARN. */
  const findings = (add: (chart: ZeroTrustPolicyChart) => void): string[] => {
    const { chart } = declare(SelfCheck.WARN);
    add(chart);
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      chart.toJson();
    } finally {
      write.mockRestore();
    }
    return chart.selfCheckFindings;
  };
  const ingressInto = (id: string, rule: Record<string, unknown>) => (c: ZeroTrustPolicyChart) =>
    extra(c, id, ...NP, 'payments', { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'payment' }, matchExpressions: NOT_QUARANTINED }, ingress: [rule], policyTypes: ['Ingress'] });

  test('(a) an ingress peer that matches the caller\'s labels in every namespace admits a look-alike pod of an unmanaged namespace', () => {
    const problems = findings(ingressInto('LookAlike', {
      from: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order' }, matchExpressions: NOT_QUARANTINED } }],
      ports: [{ port: 8443, protocol: 'TCP' }],
    }));
    expect(problems).toContain('undeclared flow probe/impersonator/shop/order -> payments/payment:8443/TCP is open: NetworkPolicy (NetworkPolicy/payments/lookalike)');
    expect(problems).toContain('undeclared ingress into payments/payment:8443/TCP from probe/impersonator/shop/order (NetworkPolicy/payments/lookalike)');
  });

  test('(a) an egress peer that matches the callee\'s labels in every namespace reaches a look-alike pod', () => {
    const problems = findings(c => extra(c, 'LookAlikeOut', ...NP, 'shop', {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order' }, matchExpressions: NOT_QUARANTINED },
      egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'payment' }, matchExpressions: NOT_QUARANTINED } }], ports: [{ port: 8443, protocol: 'TCP' }] }],
      policyTypes: ['Egress'],
    }));
    expect(problems).toEqual(['undeclared egress shop/order -> probe/impersonator/payments/payment:8443/TCP is open: NetworkPolicy (NetworkPolicy/shop/lookalikeout)']);
  });

  test('(a) the platform pods have look-alikes too: DNS egress to kube-dns labels in every namespace, ingress from gateway labels in every namespace', () => {
    expect(findings(c => extra(c, 'AnyDns', ...NP, 'shop', {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order' }, matchExpressions: NOT_QUARANTINED },
      egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' }, matchExpressions: NOT_QUARANTINED } }], ports: [{ port: 53, protocol: 'UDP' }] }],
      policyTypes: ['Egress'],
    }))).toEqual(['undeclared egress shop/order -> probe/impersonator/platform/cluster-dns:53/UDP is open: NetworkPolicy (NetworkPolicy/shop/anydns)']);
    expect(findings(ingressInto('AnyGateway', {
      from: [{ namespaceSelector: {}, podSelector: { matchLabels: { istio: 'ingressgateway' }, matchExpressions: NOT_QUARANTINED } }], ports: [{ port: 8443, protocol: 'TCP' }],
    }))).toContain('undeclared ingress into payments/payment:8443/TCP from probe/impersonator/platform/ingress-gateway (NetworkPolicy/payments/anygateway)');
  });

  test('(a) a peer open to every pod reports the stranger once, not again for each look-alike', () => {
    const problems = findings(ingressInto('EveryPod', { from: [{ namespaceSelector: {} }], ports: [{ port: 8443, protocol: 'TCP' }] }));
    expect(problems).toContain('undeclared ingress into payments/payment:8443/TCP from probe/stranger/zero-trust-probe-unmanaged (NetworkPolicy/payments/everypod)');
    expect(problems.filter(p => p.includes('impersonator'))).toEqual([]);
  });

  test.each([
    ['a port nobody declared', [{ port: 9090, protocol: 'TCP' }], 'TCP 9090'],
    ['the Istio health port', [{ port: 15021, protocol: 'TCP' }], 'TCP 15021'],
    ['a range reaching past the declared ports', [{ port: 8443, endPort: 9000, protocol: 'TCP' }], 'TCP 8443-9000'],
    ['every TCP port', [{ protocol: 'TCP' }], 'every TCP port'],
    ['a declared port number over UDP', [{ port: 8443, protocol: 'UDP' }], 'UDP 8443'],
  ])('(b) an ingress rule from a declared caller on %s is reported, naming the policy', (_, ports, what) => {
    expect(findings(ingressInto('Wider', { from: [ORDER_IN_SHOP], ports }))).toContain(
      `undeclared ingress port: NetworkPolicy/payments/wider admits ${what} into payments/payment, which declares only TCP 8443, 9000 and the sidecar metrics ports TCP 15020, 15090`);
  });

  test('(b) an ingress rule without ports admits every port', () => {
    expect(findings(ingressInto('AllPorts', { from: [ORDER_IN_SHOP] }))).toContain(
      'undeclared ingress port: NetworkPolicy/payments/allports admits every port into payments/payment, which declares only TCP 8443, 9000 and the sidecar metrics ports TCP 15020, 15090');
  });

  test('(b) a range inside the declared and metrics ports, and a rule that selects only quarantined pods', () => {
    expect(findings(ingressInto('Inside', { from: [ORDER_IN_SHOP], ports: [{ port: 15020, endPort: 15020, protocol: 'TCP' }] }))
      .filter(p => p.startsWith('undeclared ingress port'))).toEqual([]);
    expect(findings(c => extra(c, 'Forensics', ...NP, 'payments', {
      podSelector: { matchLabels: { 'zero-trust.cdk.io/quarantine': 'true' } }, ingress: [{ from: [ORDER_IN_SHOP], ports: [{ port: 9090, protocol: 'TCP' }] }], policyTypes: ['Ingress'],
    }))).toEqual(['quarantine broken: NetworkPolicy/payments/forensics admits TCP 9090 into probe/quarantined/payments/payment']);
  });

  test('(c) a named port in an ingress or an egress rule is reported as unverifiable', () => {
    expect(findings(ingressInto('NamedIn', { from: [ORDER_IN_SHOP], ports: [{ port: 'http', protocol: 'TCP' }] }))).toEqual(
      ['named port \'http\' in NetworkPolicy/payments/namedin: the self-check cannot resolve it; name the port number (ingress of payments/payment)']);
    expect(findings(c => extra(c, 'NamedOut', ...NP, 'shop', {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'order' }, matchExpressions: NOT_QUARANTINED },
      egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } } }], ports: [{ port: 'metrics', protocol: 'TCP' }] }],
      policyTypes: ['Egress'],
    }))).toEqual(['named port \'metrics\' in NetworkPolicy/shop/namedout: the self-check cannot resolve it; name the port number (egress of shop/order)']);
  });
});

describe('verifyDeclaration on objects it did not render', () => {
  function model() {
    const m = new PolicyModel({ owner: 'test', trustDomain: 'cluster.local', clusterDomain: 'cluster.local', defaultNamespace: 'shop', platform: resolvePlatform() });
    const scope = new ZeroTrustPolicyChart(Testing.app(), 'scope');
    const order = m.addService(scope, 'order', {});
    const payment = m.addService(scope, 'payment', { ports: [ServicePort.http(8443)] });
    payment.allowFrom(order);
    return m;
  }

  test('no objects at all: every namespace is open, so the declared flow passes but undeclared ones are reported', () => {
    const problems = verifyDeclaration(model(), []);
    expect(problems).toContain('undeclared flow the outside world -> shop/payment:8443/TCP is open: NetworkPolicy (not isolated) and Istio (no ALLOW policy applies)');
    expect(problems).toContain('undeclared flow platform/ingress-gateway -> shop/payment:8443/TCP is open: NetworkPolicy (not isolated) and Istio (no ALLOW policy applies)');
    expect(problems.some(p => p.startsWith('declared flow'))).toBe(false);
  });

  test('a default deny without the platform egress blocks DNS and istiod, and the declared flow', () => {
    const objects: KubeObject[] = [
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'shop' }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    ];
    const problems = verifyDeclaration(model(), objects);
    expect(problems).toContain('platform necessity blocked: shop/order cannot reach platform/cluster-dns on UDP 53 (NetworkPolicy/shop/deny)');
    expect(problems).toContain('platform necessity blocked: shop/payment cannot reach platform/istiod on TCP 15012 (NetworkPolicy/shop/deny)');
    expect(problems).toContain('declared flow shop/order -> shop/payment:8443/TCP is blocked by NetworkPolicy (NetworkPolicy/shop/deny)');
  });
});
