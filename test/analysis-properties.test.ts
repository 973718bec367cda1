import * as fc from 'fast-check';
import { EffectiveAccess, Workload } from '../lib';
import { networkAllows, Workload as EvaluatorWorkload } from './support/flow-evaluator';
import { allowPorts, buildChart, graphArb, GraphSpec } from './support/random-graph';
import { KubeObject } from '../lib/analysis/manifest';

/**
 * Property tests of the effective-access analyzer (lib/analysis, product code) over random
 * declarations: several namespaces, services with several ports, L7 restrictions, the ingress
 * gateway, and quarantined pods. The independent test evaluator (test/support/flow-evaluator.ts)
 * cross-checks the NetworkPolicy layer, so a bug shared by the renderer and the analyzer has a
 * second implementation to disagree with.
 */

const QUARANTINE = 'zero-trust.cdk.io/quarantine';

function declared(spec: GraphSpec): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const a of spec.allows) {
    const callee = spec.services[a.callee];
    const source = a.caller === 'gateway' ? 'platform/ingress-gateway' : `${spec.services[a.caller].namespace}/${spec.services[a.caller].name}`;
    for (const port of allowPorts(spec, a)) {
      const key = `${source}|${callee.namespace}/${callee.name}|${port}`;
      const set = out.get(key) ?? new Set<string>();
      const r = a.restriction;
      set.add(r ? [r.methods ? `methods=${[...r.methods].sort().join(',')}` : '', r.paths ? `paths=${[...r.paths].sort().join(',')}` : ''].filter(x => x).join(' ') : '*');
      out.set(key, set);
    }
  }
  return new Map([...out].map(([k, v]) => [k, v.has('*') ? ['*'] : [...v].sort()]));
}

function analyze(spec: GraphSpec, extra: Workload[] = []) {
  const { chart } = buildChart(spec);
  const objects = chart.toJson() as KubeObject[];
  const workloads = [...chart.workloads, ...extra];
  return { objects, workloads, access: EffectiveAccess._fromObjects(objects, { workloads }) };
}

const serviceIds = (spec: GraphSpec) => spec.services.map(s => `${s.namespace}/${s.name}`);

describe('effective-access analyzer properties', () => {
  test('each layer on its own opens exactly the declared (caller, callee, port), with exactly the declared requests', () => {
    fc.assert(fc.property(graphArb(), spec => {
      const { access } = analyze(spec);
      const want = declared(spec);
      const network = new Set<string>();
      const mesh = new Map<string, string[]>();
      for (const f of access.flows(serviceIds(spec))) {
        const key = `${f.source}|${f.destination}|${f.port}`;
        if (f.network.allowed) {
          network.add(key);
        }
        if (f.mesh.allowed) {
          mesh.set(key, f.mesh.requests);
        }
      }
      expect([...network].sort()).toEqual([...want.keys()].sort());
      expect(new Map([...mesh].sort())).toEqual(new Map([...want].sort()));
    }), { numRuns: 60 });
  });

  test('a quarantined pod has no flow in or out, Istio denies every request into it, and its neighbours keep theirs', () => {
    fc.assert(fc.property(graphArb(20).filter(g => g.services.length > 0), fc.nat(), (spec, pick) => {
      const victim = spec.services[pick % spec.services.length];
      const base = analyze(spec).workloads.find(w => w.id === `${victim.namespace}/${victim.name}`)!;
      const quarantined: Workload = { ...base, id: 'quarantined', labels: { ...base.labels, [QUARANTINE]: 'true' } };
      const { access } = analyze(spec, [quarantined]);
      const others = access.workloads.filter(w => w.id !== 'quarantined');
      for (const other of others) {
        for (const p of other.ports) {
          expect(access.decide('quarantined', other.id, p.port, p.protocol ?? 'TCP').network.allowed).toBe(false);
        }
        for (const p of quarantined.ports) {
          const d = access.decide(other.id, 'quarantined', p.port);
          expect(d.network.allowed).toBe(false);
          expect(d.mesh.allowed).toBe(false);
        }
      }
      // The unlabelled pods of the same service keep every declared flow.
      const want = declared(spec);
      for (const key of want.keys()) {
        const [source, destination, port] = key.split('|');
        expect(access.decide(source, destination, Number(port)).allowed).toBe(true);
      }
    }), { numRuns: 40 });
  });

  test('the analyzer and the independent test evaluator agree on every NetworkPolicy decision', () => {
    const probesArb = fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(53, 8080, 15012, 9999)), { minLength: 1, maxLength: 30 });
    fc.assert(fc.property(graphArb(12), probesArb, (spec, probes) => {
      const { access, objects, workloads } = analyze(spec);
      const evalWorkloads: EvaluatorWorkload[] = workloads.map(w => ({
        id: w.id, namespace: w.namespace, labels: w.labels, serviceAccount: w.serviceAccountName,
      }));
      for (const [i, j, fallback] of probes) {
        const src = workloads[i % workloads.length];
        const dst = workloads[j % workloads.length];
        const port = dst.ports.length > 0 ? dst.ports[(i + j) % dst.ports.length].port : fallback;
        const ours = access.decide(src.id, dst.id, port).network.allowed;
        expect([src.id, dst.id, port, ours]).toEqual([src.id, dst.id, port, networkAllows(objects, evalWorkloads, src.id, dst.id, port)]);
      }
    }), { numRuns: 40 });
  });
});
