import { AuthorizationLayer, parseAuthorizationPolicy, requestMatches } from '../../lib/analysis/authorization-semantics';
import { KubeObject } from '../../lib/analysis/manifest';
import { Workload } from '../../lib/analysis/workload';

const PAY: Workload = { id: 'pay', namespace: 'pay', labels: { app: 'payment' }, serviceAccountName: 'payment', ports: [] };
const ORDER = { principal: 'cluster.local/ns/shop/sa/order' };
const OTHER = { principal: 'cluster.local/ns/evil/sa/x' };

function ap(namespace: string, spec: Record<string, unknown>, name = 'p'): KubeObject {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec };
}
const authz = (...p: KubeObject[]) => new AuthorizationLayer(p.map(parseAuthorizationPolicy), 'istio-system');

describe('AuthorizationPolicy semantics', () => {
  test('with no policy every request is allowed', () => {
    expect(authz().decide(OTHER, PAY, 80, true)).toMatchObject({ allowed: true, requests: ['*'] });
  });

  test('an empty spec is allow-nothing: an ALLOW policy without rules matches nothing', () => {
    expect(authz(ap('pay', {})).decide(ORDER, PAY, 80, true)).toMatchObject({ allowed: false, policies: ['AuthorizationPolicy/pay/p'] });
  });

  test('a policy in the root namespace applies mesh-wide; one in another namespace does not', () => {
    expect(authz(ap('istio-system', {})).decide(ORDER, PAY, 80, true).allowed).toBe(false);
    expect(authz(ap('shop', {})).decide(ORDER, PAY, 80, true).allowed).toBe(true);
  });

  test('a selector narrows a policy to matching workloads; targetRef policies skip sidecars', () => {
    expect(authz(ap('pay', { selector: { matchLabels: { app: 'other' } } })).decide(ORDER, PAY, 80, true).allowed).toBe(true);
    expect(authz(ap('pay', { targetRefs: [{ kind: 'Gateway', name: 'gw' }] })).decide(ORDER, PAY, 80, true).allowed).toBe(true);
  });

  test('ALLOW admits only matching principals and ports', () => {
    const l = authz(ap('pay', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }], to: [{ operation: { ports: ['8443'] } }] }] }));
    expect(l.decide(ORDER, PAY, 8443, true)).toMatchObject({ allowed: true, requests: ['*'], policies: ['AuthorizationPolicy/pay/p'] });
    expect(l.decide(ORDER, PAY, 9000, true).allowed).toBe(false);
    expect(l.decide(OTHER, PAY, 8443, true).allowed).toBe(false);
    expect(l.decide({}, PAY, 8443, true).allowed).toBe(false);
  });

  test('principal and namespace wildcards: prefix, suffix and presence', () => {
    const rule = (source: Record<string, unknown>) => authz(ap('pay', { rules: [{ from: [{ source }] }] }));
    expect(rule({ principals: ['cluster.local/ns/shop/*'] }).decide(ORDER, PAY, 1, true).allowed).toBe(true);
    expect(rule({ principals: ['*/sa/order'] }).decide(ORDER, PAY, 1, true).allowed).toBe(true);
    expect(rule({ principals: ['*'] }).decide(ORDER, PAY, 1, true).allowed).toBe(true);
    expect(rule({ principals: ['*'] }).decide({}, PAY, 1, true).allowed).toBe(false);
    expect(rule({ namespaces: ['shop'] }).decide(ORDER, PAY, 1, true).allowed).toBe(true);
    expect(rule({ namespaces: ['shop'] }).decide(OTHER, PAY, 1, true).allowed).toBe(false);
  });

  test('not-fields exclude: notPrincipals ["*"] matches plaintext only', () => {
    const l = authz(ap('pay', { action: 'DENY', rules: [{ from: [{ source: { notPrincipals: ['*'] } }] }] }));
    expect(l.decide({}, PAY, 1, true).allowed).toBe(false);
    expect(l.decide(ORDER, PAY, 1, true).allowed).toBe(true);
    const notNs = authz(ap('pay', { rules: [{ from: [{ source: { notNamespaces: ['evil'] } }] }] }));
    expect(notNs.decide(OTHER, PAY, 1, true).allowed).toBe(false);
    expect(notNs.decide(ORDER, PAY, 1, true).allowed).toBe(true);
  });

  test('DENY is evaluated before ALLOW and wins', () => {
    const l = authz(ap('pay', { rules: [{}] }, 'allow-all'), ap('pay', { action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }] }] }, 'deny-order'));
    expect(l.decide(ORDER, PAY, 1, true)).toMatchObject({ allowed: false, policies: ['AuthorizationPolicy/pay/deny-order'] });
    expect(l.decide(OTHER, PAY, 1, true).allowed).toBe(true);
  });

  test('a DENY policy without rules denies nothing', () => {
    expect(authz(ap('pay', { action: 'DENY' })).decide(ORDER, PAY, 1, true).allowed).toBe(true);
  });

  test('CUSTOM is reported as an external decision on top of the others', () => {
    const d = authz(ap('pay', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] })).decide(ORDER, PAY, 1, true);
    expect(d).toMatchObject({ allowed: true, external: true, policies: ['AuthorizationPolicy/pay/p'] });
  });

  test('CUSTOM, then DENY, then ALLOW: whatever the external authorizer says, a matching DENY denies, and ALLOW still has to match', () => {
    const custom = ap('pay', { action: 'CUSTOM', provider: { name: 'ext' }, rules: [{}] }, 'custom');
    const deny = ap('pay', { action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }] }] }, 'deny');
    const allow = ap('pay', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }] }] }, 'allow');
    expect(authz(custom, deny, allow).decide(ORDER, PAY, 80, true)).toMatchObject({ allowed: false, policies: ['AuthorizationPolicy/pay/deny'] });
    expect(authz(custom, allow).decide(ORDER, PAY, 80, true)).toMatchObject({ allowed: true, external: true, policies: ['AuthorizationPolicy/pay/allow', 'AuthorizationPolicy/pay/custom'] });
    expect(authz(custom, allow).decide(OTHER, PAY, 80, true)).toMatchObject({ allowed: false, external: true });
  });

  test('methods and paths restrict the allowed requests, on HTTP ports', () => {
    const l = authz(ap('pay', { rules: [{ from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }], to: [{ operation: { methods: ['POST'], paths: ['/charge'] } }] }] }));
    const d = l.decide(ORDER, PAY, 8443, true);
    expect(d.requests).toEqual(['methods=POST paths=/charge']);
    expect(requestMatches(d.requests[0], 'POST', '/charge')).toBe(true);
    expect(requestMatches(d.requests[0], 'GET', '/charge')).toBe(false);
    expect(requestMatches(d.requests[0], 'POST', '/refund')).toBe(false);
  });

  test('on a TCP port an ALLOW rule with HTTP-only fields never matches, and a DENY rule denies the whole connection', () => {
    const allow = authz(ap('pay', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }));
    expect(allow.decide(ORDER, PAY, 5432, false).allowed).toBe(false);
    expect(allow.decide(ORDER, PAY, 8080, true).allowed).toBe(true);
    const deny = authz(ap('pay', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }));
    expect(deny.decide(ORDER, PAY, 5432, false).allowed).toBe(false);
    expect(deny.decide(ORDER, PAY, 8080, true)).toMatchObject({ allowed: true, deniedRequests: ['methods=GET'] });
  });

  test('path templates and prefixes match like Istio', () => {
    expect(requestMatches('paths=/users/{*}/orders', 'GET', '/users/7/orders')).toBe(true);
    expect(requestMatches('paths=/users/{*}/orders', 'GET', '/users/7/8/orders')).toBe(false);
    expect(requestMatches('paths=/static/{**}', 'GET', '/static/a/b.css')).toBe(true);
    expect(requestMatches('paths=/api/*', 'GET', '/api/x/y')).toBe(true);
    expect(requestMatches('notPaths=/admin/*', 'GET', '/admin/x')).toBe(false);
  });

  test('when conditions on connection attributes are evaluated', () => {
    const l = authz(ap('pay', { rules: [{ when: [{ key: 'source.namespace', values: ['shop'] }, { key: 'destination.port', values: ['8443'] }] }] }));
    expect(l.decide(ORDER, PAY, 8443, true).allowed).toBe(true);
    expect(l.decide(ORDER, PAY, 9000, true).allowed).toBe(false);
    expect(l.decide(OTHER, PAY, 8443, true).allowed).toBe(false);
  });
});
