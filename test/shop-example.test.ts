import { Testing } from 'cdk8s';
import { find, Manifest } from './support/manifests';
import { ShopPolicies } from '../examples/shop/shop';

describe('the shop example (the seed scenario)', () => {
  const objects = Testing.synth(new ShopPolicies(Testing.app(), 'shop')) as Manifest[];

  test('synthesizes the same YAML as the reviewed snapshot', () => {
    // No asset hashes exist in cdk8s output: names are stable by design, so the snapshot is exact.
    expect(objects).toMatchSnapshot();
  });

  test('emits exactly the objects of the scenario, no more', () => {
    const inventory = objects.map(o => `${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}`).sort();
    expect(inventory).toEqual([
      'AuthorizationPolicy analytics/zero-trust.allow-nothing',
      'AuthorizationPolicy istio-ingress/zero-trust.ingress-gateway',
      'AuthorizationPolicy istio-system/zero-trust.allow-nothing',
      'AuthorizationPolicy istio-system/zero-trust.deny-quarantined',
      'AuthorizationPolicy payments/payment',
      'AuthorizationPolicy payments/zero-trust.allow-nothing',
      'AuthorizationPolicy shop/api-gateway',
      'AuthorizationPolicy shop/user',
      'AuthorizationPolicy shop/zero-trust.allow-nothing',
      'LimitRange analytics/zero-trust.limit-range',
      'LimitRange payments/zero-trust.limit-range',
      'LimitRange shop/zero-trust.limit-range',
      'Namespace -/analytics',
      'Namespace -/payments',
      'Namespace -/shop',
      'NetworkPolicy analytics/zero-trust.default-deny',
      'NetworkPolicy analytics/zero-trust.platform-egress',
      'NetworkPolicy istio-ingress/zero-trust.default-deny',
      'NetworkPolicy istio-ingress/zero-trust.ingress-gateway',
      'NetworkPolicy istio-system/zero-trust.default-deny',
      'NetworkPolicy istio-system/zero-trust.istiod',
      'NetworkPolicy payments/payment',
      'NetworkPolicy payments/zero-trust.default-deny',
      'NetworkPolicy payments/zero-trust.platform-egress',
      'NetworkPolicy shop/api-gateway',
      'NetworkPolicy shop/order',
      'NetworkPolicy shop/user',
      'NetworkPolicy shop/zero-trust.default-deny',
      'NetworkPolicy shop/zero-trust.platform-egress',
      'PeerAuthentication analytics/default',
      'PeerAuthentication istio-system/default',
      'PeerAuthentication payments/default',
      'PeerAuthentication shop/default',
      'ResourceQuota analytics/zero-trust.resource-quota',
      'ResourceQuota payments/zero-trust.resource-quota',
      'ResourceQuota shop/zero-trust.resource-quota',
      'Service analytics/analytics',
      'Service payments/payment',
      'Service shop/api-gateway',
      'Service shop/order',
      'Service shop/user',
      'ServiceAccount analytics/analytics',
      'ServiceAccount analytics/default',
      'ServiceAccount payments/default',
      'ServiceAccount payments/payment',
      'ServiceAccount shop/api-gateway',
      'ServiceAccount shop/default',
      'ServiceAccount shop/order',
      'ServiceAccount shop/user',
      'Sidecar analytics/default',
      'Sidecar payments/default',
      'Sidecar shop/default',
      'Telemetry istio-system/mesh-default',
    ]);
  });

  test('order may call payment only with POST /charge on 8443', () => {
    expect(find(objects, 'AuthorizationPolicy', 'payments', 'payment').spec.rules).toEqual([{
      from: [{ source: { principals: ['cluster.local/ns/shop/sa/order'] } }],
      to: [{ operation: { ports: ['8443'], methods: ['POST'], paths: ['/charge'] } }],
    }]);
  });
});
