import { Testing } from 'cdk8s';
import { IMicroservice, ServicePort, ZeroTrustPolicyChart } from '../lib';
import { newChart, synth } from './support/manifests';

/** Every message names the subject, the field, the bad value and a fix. */
function expectError(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  let message = '';
  try {
    fn();
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).not.toBe('');
  for (const part of parts) {
    expect(message).toMatch(typeof part === 'string' ? new RegExp(part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : part);
  }
  expect(message).toMatch(/\(got .+\)\. Fix: .+/);
}

describe('service names', () => {
  test.each([
    ['Payment', "e.g. 'payment'"],
    ['pay_ment', "e.g. 'pay-ment'"],
    ['9lives', 'starts with a letter'],
    ['-payment', 'RFC 1123 label'],
    ['payment-', 'RFC 1123 label'],
    ['', 'RFC 1123 label'],
    ['a'.repeat(64), 'at most 63 characters'],
  ])('%j is rejected', (name, hint) => {
    expectError(() => newChart().addService(name, {}), `service '${name}'`, 'name', hint);
  });

  test('a 63-character name is accepted', () => {
    expect(newChart().addService('a'.repeat(63), {}).name).toHaveLength(63);
  });

  test('a duplicate service is rejected, even in another namespace', () => {
    const chart = newChart();
    chart.addService('order', {});
    expectError(() => chart.addService('order', { namespace: 'other' }), "service 'order'", 'is already declared', 'unique name');
  });
});

describe('namespaces', () => {
  test.each(['kube-system', 'kube-public', 'kube-node-lease', 'istio-system', 'istio-ingress'])('%s is reserved', ns => {
    expectError(() => newChart().addService('order', { namespace: ns }), "service 'order'", 'namespace', `'${ns}'`, 'namespace of its own');
  });

  test('a moved mesh root and gateway namespace are reserved instead', () => {
    const chart = newChart({ platform: { rootNamespace: 'mesh', ingressGateway: { namespace: 'edge' } } });
    expectError(() => chart.addService('a', { namespace: 'mesh' }), 'mesh root namespace');
    expectError(() => chart.addService('b', { namespace: 'edge' }), "ingress gateway's namespace");
    expect(chart.addService('c', { namespace: 'istio-system' }).namespace).toBe('istio-system');
  });

  test.each(['Shop', 'shop.prod', 'x'.repeat(64)])('namespace %j is not an RFC 1123 label', ns => {
    expectError(() => newChart().addService('order', { namespace: ns }), "service 'order'", 'namespace', 'RFC 1123 label');
  });

  test('a bad chart namespace is reported as defaulted from the chart', () => {
    const chart = new ZeroTrustPolicyChart(Testing.app(), 'Shop');
    expectError(() => chart.addService('order', {}), 'namespace (defaulted from the chart)', "'Shop'");
  });
});

describe('identity and labels', () => {
  test('a service account name that is not an RFC 1123 subdomain is rejected', () => {
    expectError(() => newChart().addService('order', { serviceAccountName: 'Order_SA' }), "service 'order'", 'serviceAccountName', "'Order_SA'");
  });

  test("the namespace's default service account is rejected", () => {
    expectError(() => newChart().addService('order', { serviceAccountName: 'default' }), 'serviceAccountName', "'default' service account");
  });

  test('empty pod labels are rejected: they would select every pod', () => {
    expectError(() => newChart().addService('order', { podLabels: {} }), 'podLabels', 'must not be empty');
  });

  test('bad label keys and values are rejected', () => {
    expectError(() => newChart().addService('order', { podLabels: { 'bad key': 'x' } }), 'podLabels key', "'bad key'");
    expectError(() => newChart().addService('order', { podLabels: { app: 'not valid!' } }), "podLabels['app']", "'not valid!'");
  });

  test('the quarantine label cannot be a pod label', () => {
    expectError(() => newChart().addService('order', { podLabels: { 'app': 'order', 'zero-trust.cdk.io/quarantine': 'false' } }), 'podLabels', 'quarantine label');
  });

  test.each([
    [{ app: 'shop' }, { app: 'shop' }],
    [{ app: 'shop' }, { app: 'shop', tier: 'db' }],
    [{ app: 'shop', tier: 'db' }, { app: 'shop' }],
  ])('pod labels %j and %j in one namespace select each other', (first, second) => {
    const chart = newChart();
    chart.addService('a', { podLabels: first });
    expectError(() => chart.addService('b', { podLabels: second }), "service 'b'", 'podLabels', "service 'a'", 'select');
  });

  test('the same pod labels in different namespaces, or disjoint labels in one, are fine', () => {
    const chart = newChart();
    chart.addService('a', { podLabels: { app: 'x' } });
    chart.addService('b', { namespace: 'other', podLabels: { app: 'x' } });
    chart.addService('c', { podLabels: { app: 'y' } });
    expect(chart.services).toHaveLength(3);
  });
});

describe('ports', () => {
  test.each([0, -1, 65536, 80.5, NaN])('service port %p is rejected', port => {
    expectError(() => newChart().addService('order', { ports: [ServicePort.http(port)] }), "service 'order'", 'ports: port', '1 to 65535');
  });

  test('a targetPort outside 1..65535 is rejected', () => {
    expectError(() => newChart().addService('order', { ports: [ServicePort.http(80, { targetPort: 70000 })] }), 'targetPort of port 80', '70000');
  });

  test.each([15000, 15001, 15006, 15008, 15020, 15021, 15053, 15090])('the sidecar port %p is refused as a container port, mapped or not', port => {
    expectError(() => newChart().addService('order', { ports: [ServicePort.http(port)] }),
      "service 'order'", `targetPort of port ${port}`, `(got ${port})`, 'Istio sidecar uses in every pod', 'Fix: listen on another container port');
    expectError(() => newChart().addService('order', { ports: [ServicePort.tcp(80, { targetPort: port })] }), 'targetPort of port 80', `(got ${port})`);
  });

  test('ports next to the sidecar\'s are fine, and a service port of 15020 mapped to another container port is too', () => {
    const chart = newChart();
    chart.addService('a', { ports: [ServicePort.http(15002), ServicePort.tcp(15091)] });
    chart.addService('b', { ports: [ServicePort.http(15020, { targetPort: 8080 })] });
    expect(chart.services.map(s => s.ports.map(p => p.targetPort))).toEqual([[15002, 15091], [8080]]);
  });

  test('a port given twice with different targetPorts is rejected', () => {
    expectError(() => newChart().addService('order', { ports: [ServicePort.http(80, { targetPort: 8080 }), ServicePort.http(80, { targetPort: 9090 })] }),
      "service 'order'", 'ports: port', 'two targetPorts (8080 and 9090)');
  });

  test('a port declared twice is rejected', () => {
    expectError(() => newChart().addService('order', { ports: [ServicePort.http(80), ServicePort.http(80)] }), 'declared twice');
  });

  test('a container port with two protocols is rejected', () => {
    expectError(() => newChart().addService('order', { ports: [ServicePort.http(80, { targetPort: 8080 }), ServicePort.tcp(8080)] }), 'ports: targetPort', 'both http and tcp');
  });
});

describe('allowFrom', () => {
  function pair() {
    const chart = newChart();
    const order = chart.addService('order', { ports: [ServicePort.http(8080)] });
    const payment = chart.addService('payment', { ports: [ServicePort.http(8443), ServicePort.tcp(9000)] });
    return { chart, order, payment };
  }

  test('a service of another chart is rejected', () => {
    const { payment } = pair();
    const stranger = newChart({}, 'elsewhere').addService('order', {});
    expectError(() => payment.allowFrom(stranger), "service 'payment'", 'allowFrom caller', 'another chart', "declare 'order' in ZeroTrustPolicyChart 'shop'");
  });

  test('an undeclared service is rejected', () => {
    const { payment } = pair();
    const fake = { name: 'ghost', namespace: 'shop', serviceAccountName: 'ghost', podLabels: { app: 'ghost' }, ports: [], principal: 'cluster.local/ns/shop/sa/ghost' } as unknown as IMicroservice;
    expectError(() => payment.allowFrom(fake), "service 'payment'", 'allowFrom caller', "'ghost'", 'not a service declared', "addService('ghost'");
  });

  test('a look-alike of a declared service with another identity is rejected', () => {
    const { payment, order } = pair();
    const lookAlike = { ...order, name: 'order', principal: 'cluster.local/ns/evil/sa/order' } as unknown as IMicroservice;
    expectError(() => payment.allowFrom(lookAlike), 'not a service declared');
  });

  test('a service allowing itself is rejected with what to do instead', () => {
    const { payment } = pair();
    expectError(() => payment.allowFrom(payment), "service 'payment'", 'is the service itself', 'localhost', "addService('payment-peer'");
  });

  test('a port the callee does not expose is rejected', () => {
    const { payment, order } = pair();
    expectError(() => payment.allowFrom(order, { ports: [8080] }), "service 'payment' allowFrom('order')", 'ports', '8080', 'exposes 8443, 9000');
  });

  test('a service port that is not the target port is rejected as a policy port', () => {
    const chart = newChart();
    const order = chart.addService('order', {});
    const web = chart.addService('web', { ports: [ServicePort.http(80, { targetPort: 8080 })] });
    expectError(() => web.allowFrom(order, { ports: [80] }), 'is not a target port', 'exposes 8080');
  });

  test('an empty ports list is rejected', () => {
    const { payment, order } = pair();
    expectError(() => payment.allowFrom(order, { ports: [] }), 'ports', 'must not be empty');
  });

  test('a callee with no ports cannot be allowed', () => {
    const chart = newChart();
    const a = chart.addService('a', {});
    const b = chart.addService('b', {});
    expectError(() => b.allowFrom(a), "service 'b' allowFrom('a')", 'exposes no ports');
  });

  test.each(['post', 'FETCH', 'G ET'])('method %j is rejected', method => {
    const { payment, order } = pair();
    expectError(() => payment.allowFrom(order, { ports: [8443], methods: [method] }), 'methods', `'${method}'`, 'not an HTTP method');
  });

  test('a lower-case method gets an upper-case fix', () => {
    const { payment, order } = pair();
    expectError(() => payment.allowFrom(order, { ports: [8443], methods: ['post'] }), "write it in upper case: 'POST'");
  });

  test('empty methods or paths are rejected (they would match nothing)', () => {
    const { payment, order } = pair();
    expectError(() => payment.allowFrom(order, { ports: [8443], methods: [] }), 'methods', 'must not be empty');
    expectError(() => payment.allowFrom(order, { ports: [8443], paths: [] }), 'paths', 'must not be empty');
  });

  test.each([
    ['charge', 'must be absolute'],
    ['*/charge', 'must be absolute'],
    ['/a*b', "'*' is allowed only as the last character"],
    ['/*/charge', "'*' is allowed only as the last character"],
    ['/a**', "'*' is allowed only as the last character"],
    ['/a/{**}/b', "'{**}' before the last segment"],
    ['/a/x{*}', 'whole segment'],
    ['/a/{*}*', 'whole segment'],
    ['/charge?x=1', 'query'],
    ['/a//b', 'must be normalized'],
    ['/a/../b', 'must be normalized'],
    ['/a%2Fb', 'percent-encoding'],
  ])('path %j is rejected', (path, why) => {
    const { payment, order } = pair();
    expectError(() => payment.allowFrom(order, { ports: [8443], paths: [path] }), "service 'payment' allowFrom('order')", 'paths', why);
  });

  test.each(['/charge', '/api/*', '/api*', '/users/{*}/orders', '/static/{**}', '/'])('path %j is accepted', path => {
    const { chart, payment, order } = pair();
    payment.allowFrom(order, { ports: [8443], paths: [path] });
    const ap = synth(chart).find(o => o.kind === 'AuthorizationPolicy' && o.metadata.name === 'payment');
    expect(ap?.spec.rules[0].to[0].operation.paths).toEqual([path]);
  });

  test('methods or paths on a TCP port are rejected, also when ports are left out', () => {
    const { payment, order } = pair();
    expectError(() => payment.allowFrom(order, { ports: [9000], methods: ['GET'] }), 'port 9000, which is TCP', 'never matches');
    expectError(() => payment.allowFrom(order, { paths: ['/charge'] }), 'port 9000, which is TCP');
  });

  test('a failed allowFrom records nothing', () => {
    const { chart, payment, order } = pair();
    payment.allowFrom(order, { ports: [9000] });
    // 8443 would be fine, 9000 conflicts: neither may be recorded.
    expect(() => payment.allowFrom(order, { ports: [8443, 9000], methods: ['GET'] })).toThrow();
    const np = synth(chart).find(o => o.kind === 'AuthorizationPolicy' && o.metadata.name === 'payment');
    expect(np?.spec.rules).toEqual([{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }], to: [{ operation: { ports: ['9000'] } }] }]);
  });

  test('a failed addService records nothing', () => {
    const chart = newChart();
    expect(() => chart.addService('order', { ports: [ServicePort.http(0)] })).toThrow();
    expect(chart.services).toHaveLength(0);
    expect(chart.addService('order', {}).name).toBe('order');
  });
});

describe('chart settings', () => {
  test('a bad trust domain is rejected', () => {
    expectError(() => newChart({ trustDomain: 'Not A Domain' }), 'trustDomain', "'Not A Domain'");
  });

  test('a bad cluster domain is rejected', () => {
    expectError(() => newChart({ clusterDomain: 'cluster..local' }), 'clusterDomain');
  });

  test('bad platform settings are rejected', () => {
    expectError(() => newChart({ platform: { rootNamespace: 'Istio' } }), 'rootNamespace', "'Istio'");
    expectError(() => newChart({ platform: { istiod: { xdsPort: 0 } } }), 'istiod.xdsPort', '1 to 65535');
    expectError(() => newChart({ platform: { ingressGateway: { ports: [70000] } } }), 'ingressGateway.ports');
    expectError(() => newChart({ platform: { clusterDns: { podLabels: {} } } }), 'clusterDns.podLabels', 'must not be empty');
    expectError(() => newChart({ platform: { quarantineLabel: 'bad key' } }), 'quarantineLabel');
    expectError(() => newChart({ platform: { ingressGateway: { serviceAccountName: 'Gateway' } } }), 'ingressGateway.serviceAccountName');
  });
});

describe('shared identities', () => {
  test('a caller whose service account another service shares is rejected: Istio could not tell them apart', () => {
    const chart = newChart();
    const a = chart.addService('a', { serviceAccountName: 'shared', podLabels: { app: 'a' } });
    chart.addService('b', { serviceAccountName: 'shared', podLabels: { app: 'b' } });
    const c = chart.addService('c', { ports: [ServicePort.http(80)] });
    expectError(() => c.allowFrom(a), "service 'c'", 'allowFrom caller', "shares service account 'shared'", "service 'b'", 'dedicated serviceAccountName');
  });

  test('a new service cannot take the identity of an existing caller', () => {
    const chart = newChart();
    const a = chart.addService('a', {});
    chart.addService('c', { ports: [ServicePort.http(80)] }).allowFrom(a);
    expectError(() => chart.addService('b', { serviceAccountName: 'a', podLabels: { app: 'b' } }), "service 'b'", 'serviceAccountName', "'a'", 'already allowed to call');
  });

  test('services that share an identity but never call anyone are fine', () => {
    const chart = newChart();
    chart.addService('a', { serviceAccountName: 'shared', podLabels: { app: 'a' }, ports: [ServicePort.http(80)] });
    chart.addService('b', { serviceAccountName: 'shared', podLabels: { app: 'b' }, ports: [ServicePort.http(80)] });
    expect(chart.services.map(s => s.principal)).toEqual(['cluster.local/ns/shop/sa/shared', 'cluster.local/ns/shop/sa/shared']);
  });
});
