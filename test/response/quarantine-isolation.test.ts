import { Testing } from 'cdk8s';
import { mergePatch } from './fake-api-server';
import { ShopPolicies } from '../../examples/shop/shop';
import { EffectiveAccess, FlowDecision } from '../../lib/analysis/effective-access';
import { KubeObject } from '../../lib/analysis/manifest';
import { Workload } from '../../lib/analysis/workload';
import { quarantinePatch } from '../../lib/response/handler';

/**
 * What the label the handler applies does to traffic, decided by the effective-access analyzer
 * over the shop example's objects: a quarantined copy of a service's pod has no flow in or out at
 * the NetworkPolicy layer, no request into it passes the mesh, and every declared flow of every
 * other pod (including the unlabelled pods of the same service) stays exactly as it was.
 */

const LABEL = 'zero-trust.cdk.io/quarantine';
const chart = new ShopPolicies(Testing.app(), 'shop');
const objects = chart.toJson() as KubeObject[];
const declared = chart.workloads;
const SERVICES = ['shop/api-gateway', 'shop/user', 'shop/order', 'payments/payment', 'analytics/analytics'];

/** A pod of `w` after the handler's merge patch (RFC 7386, as the API server applies it). */
function quarantinedCopy(w: Workload): Workload {
  const pod = { metadata: { name: `${w.id}-pod`, uid: 'uid-1', resourceVersion: '7', labels: { ...w.labels } } };
  const patched = mergePatch(pod, quarantinePatch(LABEL, pod.metadata, 'test')) as typeof pod;
  return { ...w, id: `${w.id}#pod`, labels: patched.metadata.labels };
}

function unlabelledCopy(w: Workload): Workload {
  return { ...w, id: `${w.id}#pod` };
}

const key = (f: FlowDecision) => `${f.source}|${f.destination}|${f.port}|${f.protocol}`;
const byId = (id: string) => declared.find(w => w.id === id)!;

describe('a quarantined pod is cut off; everything else is unchanged (analyzer over the shop example)', () => {
  const baseline = EffectiveAccess._fromObjects(objects, { workloads: declared });
  const baselineFlows = baseline.flows();

  test('the baseline has the declared flows open (so the checks below can fail)', () => {
    const open = baselineFlows.filter(f => f.allowed).map(key);
    expect(open).toEqual(expect.arrayContaining([
      'platform/ingress-gateway|shop/api-gateway|8080|TCP',
      'shop/api-gateway|shop/user|8080|TCP',
      'shop/order|payments/payment|8443|TCP',
    ]));
    expect(SERVICES.every(id => declared.some(w => w.id === id))).toBe(true);
  });

  test('the label the handler sets by default is the one the chart\'s policies exclude (one key, not two)', () => {
    expect(chart._analysisContext().quarantineLabel).toBe(LABEL);
  });

  test('the handler\'s patch adds exactly the quarantine label', () => {
    const order = byId('shop/order');
    expect(quarantinedCopy(order).labels).toEqual({ ...order.labels, [LABEL]: 'true' });
  });

  test.each(SERVICES)('a copy of %s without the label has the same flows as the service (control)', id => {
    const copy = unlabelledCopy(byId(id));
    const access = EffectiveAccess._fromObjects(objects, { workloads: [...declared, copy] });
    const asCopy = access.flows().filter(f => f.allowed && (f.source === copy.id || f.destination === copy.id))
      .map(f => key(f).split(copy.id).join(id)).sort();
    const original = baselineFlows.filter(f => f.allowed && (f.source === id || f.destination === id)).map(key).sort();
    expect(asCopy).toEqual(original);
  });

  test.each(SERVICES)('a quarantined pod of %s: no flow in or out, every other flow unchanged', id => {
    const copy = quarantinedCopy(byId(id));
    const workloads = [...declared, copy];
    const access = EffectiveAccess._fromObjects(objects, { workloads });

    // In: from every workload and from outside, on every port of the pod, both layers deny.
    for (const source of ['external', ...declared.map(w => w.id)]) {
      for (const p of copy.ports) {
        const d = access.decide(source, copy.id, p.port, p.protocol ?? 'TCP');
        expect({ flow: key(d), network: d.network.allowed, mesh: d.mesh.allowed, allowed: d.allowed })
          .toEqual({ flow: key(d), network: false, mesh: false, allowed: false });
      }
    }
    // Out: to every workload on every port, DNS and istiod included, the NetworkPolicy layer denies
    // (Istio decides at the destination and cannot see the caller's labels, design.md 3.6).
    for (const dst of declared) {
      const ports = [...dst.ports, ...(dst.id === 'platform/cluster-dns' ? [{ port: 53, protocol: 'UDP' }] : [])];
      for (const p of ports) {
        const d = access.decide(copy.id, dst.id, p.port, p.protocol ?? 'TCP');
        expect({ flow: key(d), network: d.network.allowed, allowed: d.allowed }).toEqual({ flow: key(d), network: false, allowed: false });
      }
    }
    expect(access.flows().filter(f => (f.source === copy.id || f.destination === copy.id) && (f.allowed || f.network.allowed))).toEqual([]);

    // Every other flow, at both layers, is exactly the baseline's.
    const others = access.flows().filter(f => f.source !== copy.id && f.destination !== copy.id);
    expect(others).toEqual(baselineFlows);
  });
});
