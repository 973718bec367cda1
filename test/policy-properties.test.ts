import { Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { istioAllows, IstioRequest, NetworkPolicyEvaluator, principalOf, Workload } from './support/flow-evaluator';
import { allowPorts, buildChart, GraphSpec, graphArb, METHODS, NAMESPACES, PATH_MATCHES, podLabelsOf, SAMPLE_PATHS, serviceAccountOf } from './support/random-graph';
import { expectValidManifests } from './support/schema-validator';

/**
 * Properties of random declarations (1..40 services over three namespaces), checked on the emitted
 * objects by an evaluator written independently of the renderers (test/support/flow-evaluator.ts).
 * numRuns: NUM_RUNS per property (the seed is printed by fast-check on failure, for replay).
 */
const NUM_RUNS = 150;
const QUARANTINE = 'zero-trust.cdk.io/quarantine';
const TRUST_DOMAIN = 'cluster.local';

interface K8sObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: Record<string, unknown>;
}

const GATEWAY: Workload = { id: 'platform:gateway', namespace: 'istio-ingress', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' }, serviceAccount: 'istio-ingressgateway' };
const DNS: Workload = { id: 'platform:dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, serviceAccount: 'coredns' };
const ISTIOD: Workload = { id: 'platform:istiod', namespace: 'istio-system', labels: { app: 'istiod', istio: 'pilot' }, serviceAccount: 'istiod' };

const serviceId = (spec: GraphSpec, i: number): string => `svc:${spec.services[i].name}`;
const callerId = (spec: GraphSpec, caller: number | 'gateway'): string => caller === 'gateway' ? GATEWAY.id : serviceId(spec, caller);

/** One pod per declared service (its labels and service account), plus the platform pods. */
function workloadsOf(spec: GraphSpec, quarantined: ReadonlySet<number> = new Set()): Workload[] {
  const pods = spec.services.map((s, i): Workload => ({
    id: serviceId(spec, i),
    namespace: s.namespace,
    labels: { ...podLabelsOf(s), ...(quarantined.has(i) ? { [QUARANTINE]: 'true' } : {}) },
    serviceAccount: serviceAccountOf(s),
  }));
  return [...pods, ...straysOf(spec), GATEWAY, DNS, ISTIOD];
}

/**
 * Undeclared pods, one per namespace of the pool and one in a foreign namespace: each impersonates a
 * service of ANOTHER namespace (same labels, same service account name), so only namespaces tell them apart.
 */
function straysOf(spec: GraphSpec): Workload[] {
  return [...NAMESPACES, 'other'].map(ns => {
    const victim = spec.services.find(s => s.namespace !== ns);
    // A victim's account name that a service of this namespace also uses (a shared account) would BE that service's
    // identity, not an impersonation of another namespace's: then the stray takes a name of its own.
    const account = victim ? serviceAccountOf(victim) : 'stray';
    const taken = spec.services.some(s => s.namespace === ns && serviceAccountOf(s) === account);
    return { id: `stray:${ns}`, namespace: ns, labels: victim ? podLabelsOf(victim) : { app: 'stray' }, serviceAccount: taken ? `${account}-stray` : account };
  });
}

/** Every declared (caller, callee, target port) as `src->dst:port`, leaving out flows touching `excluded`. */
function declaredFlows(spec: GraphSpec, excluded: ReadonlySet<number> = new Set()): string[] {
  const out = new Set<string>();
  for (const a of spec.allows) {
    if ((a.caller === 'gateway' || !excluded.has(a.caller)) && !excluded.has(a.callee)) {
      allowPorts(spec, a).forEach(p => out.add(`${callerId(spec, a.caller)}->${serviceId(spec, a.callee)}:${p}`));
    }
  }
  return [...out].sort();
}

/** Candidate ports: every declared target port, the platform ports, the gateway's, and some random ones. */
function candidatePorts(spec: GraphSpec, extra: readonly number[]): number[] {
  return [...new Set([...spec.services.flatMap(s => s.ports.map(p => p.targetPort)), 53, 15012, 80, 443, ...extra])];
}

/** Allowed flows from `srcs` to `dsts` over the candidate TCP ports (one side only, with `only`). */
function flowsAmong(objects: readonly unknown[], workloads: readonly Workload[], ports: readonly number[], srcs: readonly string[], dsts: readonly string[], only?: 'Egress' | 'Ingress'): string[] {
  return [...new NetworkPolicyEvaluator(objects, workloads).flows(ports, { from: srcs, to: dsts, only })].sort();
}

/** The oracle: what the declaration admits, from the spec alone (paths through the PATH_MATCHES table). */
function declaredAllows(spec: GraphSpec, caller: number | 'gateway', callee: number, port: number, method?: string, reqPath?: string): boolean {
  return spec.allows.some(a => a.caller === caller && a.callee === callee && allowPorts(spec, a).includes(port)
    && (a.restriction === undefined || (method !== undefined
      && (a.restriction.methods === undefined || a.restriction.methods.includes(method))
      && (a.restriction.paths === undefined || a.restriction.paths.some(p => PATH_MATCHES[p].includes(reqPath!))))));
}

const principal = (w: Workload): string => principalOf(w, TRUST_DOMAIN);

/** A plain check for hot loops (jest's expect() captures a stack trace per call, which dominated the run time). */
function expectIstio(authz: readonly unknown[], workloads: readonly Workload[], dstId: string, request: IstioRequest, want: boolean): void {
  if (istioAllows(authz, workloads, dstId, request) !== want) {
    throw new Error(`Istio ${want ? 'denies' : 'admits'} ${JSON.stringify(request)} into ${dstId}; the declaration says ${want ? 'allow' : 'deny'}`);
  }
}

interface IstioRule {
  readonly from?: { readonly source?: { readonly principals?: string[] } }[];
  readonly to?: { readonly operation?: { readonly ports?: string[]; readonly methods?: string[]; readonly paths?: string[] } }[];
}
const tupleKey = (pr: string, port: string, methods?: readonly string[], paths?: readonly string[]): string =>
  `${pr}|${port}|${methods ? [...new Set(methods)].sort().join(',') : '*'}|${paths ? [...new Set(paths)].sort().join(',') : '*'}`;
const synth = (spec: GraphSpec): K8sObject[] => buildChart(spec).chart.toJson() as K8sObject[];
const extraPortsArb = fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 3 });

describe('properties of random service graphs', () => {
  test('a. NetworkPolicies open exactly the declared (caller, callee, target port) flows, on each side', () => {
    fc.assert(fc.property(graphArb(), extraPortsArb, (spec, extra) => {
      const objects = synth(spec);
      const workloads = workloadsOf(spec);
      const ports = candidatePorts(spec, extra);
      const services = spec.services.map((_, i) => serviceId(spec, i));
      const serviceNamespaces = new Set(spec.services.map(s => s.namespace));
      const strays = straysOf(spec).filter(w => serviceNamespaces.has(w.namespace)).map(w => w.id);
      const allStrays = straysOf(spec).map(w => w.id);
      const declared = declaredFlows(spec);
      // Both layers of NetworkPolicy together; undeclared (impersonating) pods neither call nor get called.
      expect(flowsAmong(objects, workloads, ports, [...services, GATEWAY.id, ...allStrays], [...services, ...strays])).toEqual(declared);
      // Each side alone is exact too (design.md 3.4: an ingress allow on the callee AND an egress allow on the caller).
      expect(flowsAmong(objects, workloads, ports, services, [...services, ...strays], 'Egress')).toEqual(declared.filter(f => !f.startsWith(GATEWAY.id)));
      expect(flowsAmong(objects, workloads, ports, [...services, GATEWAY.id, ...allStrays], services, 'Ingress')).toEqual(declared);
    }), { numRuns: NUM_RUNS });
  });

  test('b. ALLOW policies list exactly the callers, and Istio admits exactly the declared requests', () => {
    fc.assert(fc.property(graphArb(), extraPortsArb, (spec, extra) => {
      const objects = synth(spec);
      const authz = objects.filter(o => o.kind === 'AuthorizationPolicy');
      const workloads = workloadsOf(spec);
      const callers: (number | 'gateway')[] = [...spec.services.map((_, i) => i), 'gateway'];
      const workloadOf = (c: number | 'gateway'): Workload => c === 'gateway' ? GATEWAY : workloads[c];
      spec.services.forEach((s, callee) => {
        // The service's own ALLOW policy names exactly its callers' principals.
        const own = authz.filter(o => o.metadata.namespace === s.namespace && o.metadata.name === s.name);
        const declared = [...new Set(spec.allows.filter(a => a.callee === callee).map(a => principal(workloadOf(a.caller))))].sort();
        if (declared.length === 0) {
          expect(own).toEqual([]);
        } else {
          expect(own).toHaveLength(1);
          expect(own[0].spec?.action).toBe('ALLOW');
          const rules = (own[0].spec?.rules ?? []) as IstioRule[];
          expect([...new Set(rules.flatMap(r => (r.from ?? []).flatMap(f => f.source?.principals ?? [])))].sort()).toEqual(declared);
          // Its rules' cross products are exactly the declared (principal, port, methods, paths).
          const emitted = new Set(rules.flatMap(r => (r.from ?? []).flatMap(f => f.source?.principals ?? [])
            .flatMap(pr => (r.to ?? []).flatMap(t => (t.operation?.ports ?? ['*']).map(port => tupleKey(pr, port, t.operation?.methods, t.operation?.paths))))));
          const wanted = new Set(spec.allows.filter(a => a.callee === callee).flatMap(a => allowPorts(spec, a)
            .map(port => tupleKey(principal(workloadOf(a.caller)), String(port), a.restriction?.methods, a.restriction?.paths))));
          expect([...emitted].sort()).toEqual([...wanted].sort());
        }
        // Each declared allow admits a request that fits it.
        for (const a of spec.allows.filter(x => x.callee === callee)) {
          for (const port of allowPorts(spec, a)) {
            const l7 = s.ports.find(p => p.targetPort === port)!.protocol !== 'tcp';
            const request: IstioRequest = {
              principal: principal(workloadOf(a.caller)),
              port,
              method: l7 ? (a.restriction?.methods?.[0] ?? 'GET') : undefined,
              path: l7 ? PATH_MATCHES[a.restriction?.paths?.[0] ?? '/a'][0] : undefined,
            };
            expectIstio(authz, workloads, serviceId(spec, callee), request, true);
          }
        }
        // Every caller, port (declared or not), method and sample path: the evaluator agrees with the oracle.
        const ports = [...new Set([...s.ports.map(p => p.targetPort), ...extra])];
        for (const stray of straysOf(spec)) {
          for (const port of ports) {
            expectIstio(authz, workloads, serviceId(spec, callee), { principal: principal(stray), port, method: 'GET', path: '/a' }, false);
            expectIstio(authz, workloads, serviceId(spec, callee), { principal: principal(stray), port }, false);
          }
        }
        for (const caller of callers.filter(c => c !== callee)) {
          const isCaller = spec.allows.some(a => a.callee === callee && a.caller === caller);
          for (const port of ports) {
            const l7 = s.ports.some(p => p.targetPort === port && p.protocol !== 'tcp');
            const requests: [string | undefined, string | undefined][] = !l7 ? [[undefined, undefined]]
              : isCaller ? METHODS.flatMap(m => SAMPLE_PATHS.map((p): [string, string] => [m, p])) : [['GET', '/a']];
            for (const [method, reqPath] of requests) {
              const request: IstioRequest = { principal: principal(workloadOf(caller)), port, method, path: reqPath };
              expectIstio(authz, workloads, serviceId(spec, callee), request, declaredAllows(spec, caller, callee, port, method, reqPath));
            }
          }
        }
      });
    }), { numRuns: NUM_RUNS });
  });

  test('c. every service namespace has a rule-less default deny for Ingress and Egress', () => {
    fc.assert(fc.property(graphArb(), spec => {
      const objects = synth(spec);
      for (const ns of new Set(spec.services.map(s => s.namespace))) {
        const denies = objects.filter(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns
          && JSON.stringify(o.spec?.podSelector) === '{}' && o.spec?.ingress === undefined && o.spec?.egress === undefined);
        expect(denies).toHaveLength(1);
        expect(denies[0].spec?.policyTypes).toEqual(expect.arrayContaining(['Ingress', 'Egress']));
      }
    }), { numRuns: NUM_RUNS });
  });

  test('d. platform egress for every pod; quarantined pods lose every flow while their neighbours keep theirs', () => {
    const quarantineArb = fc.array(fc.boolean(), { minLength: 40, maxLength: 40 });
    fc.assert(fc.property(graphArb(), quarantineArb, extraPortsArb, (spec, mask, extra) => {
      const objects = synth(spec);
      const ports = candidatePorts(spec, extra);
      const services = spec.services.map((_, i) => serviceId(spec, i));
      // Every declared pod reaches DNS on UDP and TCP 53 and istiod on TCP 15012, and nothing else of theirs.
      const open = new NetworkPolicyEvaluator(objects, workloadsOf(spec));
      const platformPods = { from: services, to: [DNS.id, ISTIOD.id] };
      expect([...open.flows(ports, platformPods)].sort()).toEqual(services.flatMap(id => [`${id}->${DNS.id}:53`, `${id}->${ISTIOD.id}:15012`]).sort());
      expect([...open.flows(ports, { ...platformPods, protocol: 'UDP' })].sort()).toEqual(services.map(id => `${id}->${DNS.id}:53`).sort());

      // Quarantine a random non-empty subset of the services.
      const quarantined = new Set(spec.services.map((_, i) => i).filter(i => mask[i]));
      if (quarantined.size === 0) {
        quarantined.add(0);
      }
      const workloads = workloadsOf(spec, quarantined);
      // Among declared pods and the gateway, exactly the declared flows that touch no quarantined pod remain.
      const remaining = declaredFlows(spec, quarantined);
      expect(flowsAmong(objects, workloads, ports, [...services, GATEWAY.id], services)).toEqual(remaining);
      // ... on each side alone too: the exclusion is on the selected pods AND on the peers (design.md 3.6).
      expect(flowsAmong(objects, workloads, ports, services, services, 'Egress')).toEqual(remaining.filter(f => !f.startsWith(GATEWAY.id)));
      expect(flowsAmong(objects, workloads, ports, [...services, GATEWAY.id], services, 'Ingress')).toEqual(remaining);
      const isolated = new NetworkPolicyEvaluator(objects, workloads);
      const authz = objects.filter(o => o.kind === 'AuthorizationPolicy');
      for (const q of quarantined) {
        const qid = serviceId(spec, q);
        expect([isolated.allows(qid, DNS.id, 53, 'UDP'), isolated.allows(qid, DNS.id, 53, 'TCP'), isolated.allows(qid, ISTIOD.id, 15012)]).toEqual([false, false, false]);
        // Istio denies every request into it, even the declared ones.
        for (const caller of [GATEWAY, ...workloads.filter(w => w.id.startsWith('svc:') && w.id !== qid)]) {
          for (const port of spec.services[q].ports.map(p => p.targetPort)) {
            for (const [method, reqPath] of [[undefined, undefined], ['GET', '/a'], ['POST', '/api/x']]) {
              expectIstio(authz, workloads, qid, { principal: principal(caller), port, method, path: reqPath }, false);
            }
          }
        }
      }
    }), { numRuns: NUM_RUNS });
  });

  test('e. synthesis is deterministic: the same declaration in two fresh apps gives the same YAML', () => {
    fc.assert(fc.property(graphArb(), spec => {
      const [app1, app2] = [Testing.app(), Testing.app()];
      const [first, second] = [buildChart(spec, app1).chart, buildChart(spec, app2).chart];
      expect(JSON.stringify(second.toJson())).toBe(JSON.stringify(first.toJson()));
      expect(app2.synthYaml()).toBe(app1.synthYaml());
    }), { numRuns: NUM_RUNS / 2 });
  });

  test('every emitted object of generated graphs passes the schema validator', () => {
    fc.assert(fc.property(graphArb(12), spec => {
      expectValidManifests(synth(spec) as unknown as Record<string, unknown>[]);
    }), { numRuns: 10 });
  });

  test('the generator is not vacuous: it yields restricted, gateway and multi-namespace graphs', () => {
    const samples = fc.sample(graphArb(), { numRuns: 200, seed: 42 });
    expect(samples.some(s => s.allows.some(a => a.restriction !== undefined))).toBe(true);
    expect(samples.some(s => s.allows.some(a => a.caller === 'gateway'))).toBe(true);
    expect(samples.some(s => s.allows.some(a => a.ports !== undefined) && s.allows.some(a => a.ports === undefined))).toBe(true);
    expect(samples.some(s => new Set(s.services.map(x => x.namespace)).size === NAMESPACES.length)).toBe(true);
    expect(samples.some(s => s.services.some(x => x.ports.some(p => p.port !== p.targetPort)))).toBe(true);
    expect(samples.some(s => s.services.some(x => x.podLabels !== undefined) && s.services.some(x => x.serviceAccountName !== undefined))).toBe(true);
    expect(Math.max(...samples.map(s => s.services.length))).toBeGreaterThan(30);
  });
});
