import { ApiObject, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { SelfCheck, ServicePort, ZeroTrustPolicyChart } from '../lib';
import { NetworkPolicyEvaluator, selectorMatches, Workload } from './support/flow-evaluator';
import { find, has, Manifest, newChart, NOT_QUARANTINED, ofKind, synth } from './support/manifests';
import { graphArb, GraphSpec, NAMESPACES, podLabelsOf, serviceAccountOf } from './support/random-graph';
import { expectValidManifests, validateManifest } from './support/schema-validator';
import { MeshAccessLogging } from '../lib/policy/mesh-access-logging';

/** Sidecar metrics (design.md 7) and mesh access logs (controls.md OBS-05) in the Kubernetes layer. */
const SCRAPER = ['10.0.68.224/28', '10.0.68.240/28'];
const NET = {
  controlPlaneCidrs: ['10.0.68.192/28', '10.0.68.208/28'],
  loadBalancerCidrs: ['10.0.68.0/26', '10.0.68.64/26'],
  scraperCidrs: SCRAPER,
};
const METRICS_PORTS = [15020, 15090].map(port => ({ port, protocol: 'TCP' }));

function declare(scraperCidrs: string[] | undefined, selfCheck?: SelfCheck) {
  const chart = newChart({ platformNetwork: { ...NET, scraperCidrs }, selfCheck });
  const web = chart.addService('web', { ports: [ServicePort.http(8080)] });
  const api = chart.addService('api', { namespace: 'api', ports: [ServicePort.http(9000)] });
  web.allowFromIngressGateway();
  api.allowFrom(web);
  return { chart, web, api };
}

function extra(chart: ZeroTrustPolicyChart, id: string, namespace: string, spec: Record<string, unknown>) {
  new ApiObject(chart, id, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: id.toLowerCase(), namespace }, spec });
}

describe('sidecar metrics ports (design.md section 7)', () => {
  test('every service namespace admits TCP 15020 and 15090 from exactly the scraper CIDRs, for non-quarantined pods only', () => {
    const objects = synth(declare(SCRAPER).chart);
    for (const ns of ['shop', 'api']) {
      const np = find(objects, 'NetworkPolicy', ns, 'zero-trust.sidecar-metrics');
      expect(np.spec).toEqual({
        podSelector: { matchExpressions: NOT_QUARANTINED },
        ingress: [{ from: SCRAPER.map(cidr => ({ ipBlock: { cidr } })), ports: METRICS_PORTS }],
        policyTypes: ['Ingress'],
      });
    }
    // Nowhere else: the platform namespaces keep their own policies (istiod gets 15014, not the sidecar ports).
    const metricsPolicies = ofKind(objects, 'NetworkPolicy').filter(o => JSON.stringify(o.spec).includes('15090'));
    expect(metricsPolicies.map(o => `${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual(['api/zero-trust.sidecar-metrics', 'shop/zero-trust.sidecar-metrics']);
    expectValidManifests(objects);
  });

  test('no scraperCidrs (or an empty list): no sidecar-metrics policy, and the self-check still passes', () => {
    for (const cidrs of [undefined, []]) {
      const { chart } = declare(cidrs);
      const objects = synth(chart);
      expect(ofKind(objects, 'NetworkPolicy').filter(o => o.metadata.name === 'zero-trust.sidecar-metrics')).toEqual([]);
      expect(chart.selfCheckFindings).toEqual([]);
    }
  });

  test('pods (declared or not, quarantined or not) get no flow on the metrics ports: an ipBlock matches no pod IP of the cluster', () => {
    const objects = synth(declare(SCRAPER).chart);
    const pods: Workload[] = [
      { id: 'web', namespace: 'shop', labels: { 'app.kubernetes.io/name': 'web' }, serviceAccount: 'web' },
      { id: 'api', namespace: 'api', labels: { 'app.kubernetes.io/name': 'api' }, serviceAccount: 'api' },
      { id: 'stray', namespace: 'shop', labels: { app: 'stray' }, serviceAccount: 'stray' },
    ];
    expect([...new NetworkPolicyEvaluator(objects, pods).flows([15020, 15090])]).toEqual([]);
  });

  test('the self-check accepts the scraper CIDRs and reports a wider ipBlock on a metrics port', () => {
    const { chart } = declare(SCRAPER);
    expect(synth(chart)).toBeDefined();
    expect(chart.selfCheckFindings).toEqual([]);

    const wide = declare(SCRAPER).chart;
    extra(wide, 'VpcWide', 'api', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16' } }], ports: [{ port: 15090, protocol: 'TCP' }] }], policyTypes: ['Ingress'] });
    expect(() => wide.toJson()).toThrow(
      'sidecar metrics port api/api:15090/TCP admits ipBlock 10.0.0.0/16 (NetworkPolicy/api/vpcwide), which is not inside the scraper subnets [10.0.68.224/28, 10.0.68.240/28]');
  });

  test('the self-check reports a metrics port opened to pods, or to everyone', () => {
    const pods = declare(SCRAPER, SelfCheck.WARN).chart;
    extra(pods, 'FromPods', 'api', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 15020, protocol: 'TCP' }] }], policyTypes: ['Ingress'] });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      pods.toJson();
    } finally {
      stderr.mockRestore();
    }
    // web's own egress is default-deny, so the pods that get in are those whose egress nothing isolates: cluster DNS and
    // the self-check's stranger pods in namespaces without policies; the rule also admits them to a quarantined api pod.
    const sources = ['platform/cluster-dns', 'probe/stranger/default', 'probe/stranger/kube-system', 'probe/stranger/zero-trust-probe-unmanaged'];
    expect(pods.selfCheckFindings).toEqual(sources.flatMap(s => [
      `undeclared flow ${s} -> api/api:15020/TCP is open: NetworkPolicy (NetworkPolicy/api/frompods)`,
      `quarantine broken: ${s} -> probe/quarantined/api/api:15020/TCP into a quarantined pod is open: NetworkPolicy (NetworkPolicy/api/frompods)`,
    ]));

    const open = declare(SCRAPER).chart;
    extra(open, 'Anyone', 'shop', { podSelector: {}, ingress: [{ ports: [{ port: 15020, protocol: 'TCP' }] }], policyTypes: ['Ingress'] });
    expect(() => open.toJson()).toThrow('sidecar metrics port shop/web:15020/TCP is open to every source (no NetworkPolicy restricts it)');
  });

  test('the self-check reports a scraper subnet that cannot reach the metrics ports', () => {
    const { chart } = declare(SCRAPER);
    // Pretend the renderer forgot one subnet: verify the rendered objects against a wider declaration.
    const objects = synth(chart);
    const { verifyDeclaration } = jest.requireActual('../lib/analysis/declared-access');
    const model = (chart as unknown as { model: unknown }).model;
    const findings: string[] = verifyDeclaration(model, objects, { scraperCidrs: [...SCRAPER, '10.0.69.0/28'] });
    expect(findings).toContain('platform necessity blocked: the scraper subnet 10.0.69.0/28 cannot reach shop/web on TCP 15020');
  });

  test.each([
    ['10.0.0.0/8', 'is wider than a /16, so it would admit pod addresses to the sidecar metrics ports'],
    ['0.0.0.0/0', 'is wider than a /16'],
    ['10.0.68.300/28', 'must be a concrete IPv4 CIDR'],
    ['subnet-123', 'must be a concrete IPv4 CIDR'],
  ])('rejects scraperCidrs %s naming the chart, the field, the value and a fix', (cidr, problem) => {
    expect(() => newChart({ platformNetwork: { ...NET, scraperCidrs: [cidr] } }))
      .toThrow(new RegExp(`^ZeroTrustPolicyChart 'shop': platformNetwork\\.scraperCidrs ${problem.replace(/[/.]/g, '\\$&')}.*\\(got '${cidr.replace(/[.]/g, '\\.')}'\\)\\. Fix: `));
  });
});

describe('mesh access logs (controls.md OBS-05)', () => {
  test('a mesh-wide Telemetry in the root namespace logs every request through the envoy provider, valid against the Istio CRD', () => {
    const objects = synth(declare(SCRAPER).chart);
    const telemetry = find(objects, 'Telemetry', 'istio-system', 'mesh-default');
    expect(telemetry.apiVersion).toBe('telemetry.istio.io/v1');
    // No selector (mesh-wide) and no filter: allowed and denied requests alike.
    expect(telemetry.spec).toEqual({ accessLogging: [{ providers: [{ name: 'envoy' }] }] });
    expect(validateManifest(telemetry)).toEqual([]);
    expect(ofKind(objects, 'Telemetry')).toHaveLength(1);
  });

  test('the Telemetry follows a moved mesh root and is absent with MeshAccessLogging.NONE', () => {
    const moved = synth(newChart({ platform: { rootNamespace: 'mesh' } }));
    expect(has(moved, 'Telemetry', 'mesh', 'mesh-default')).toBe(true);
    expect(ofKind(synth(newChart({ accessLogging: MeshAccessLogging.NONE })), 'Telemetry')).toEqual([]);
  });

  test('the CRD validator rejects a misspelt Telemetry field (it is not a rubber stamp)', () => {
    const telemetry = find(synth(newChart()), 'Telemetry', 'istio-system', 'mesh-default');
    const typo = JSON.parse(JSON.stringify(telemetry).replace('"providers"', '"provider"'));
    expect(validateManifest(typo).join('\n')).toMatch(/provider/);
  });
});

describe('properties of random service graphs with a scraper', () => {
  function build(spec: GraphSpec): ZeroTrustPolicyChart {
    const chart = new ZeroTrustPolicyChart(Testing.app(), 'graph', { namespace: NAMESPACES[0], platformNetwork: NET });
    const services = spec.services.map(s => chart.addService(s.name, {
      namespace: s.namespace,
      ports: s.ports.map(p => ServicePort.tcp(p.port, { targetPort: p.targetPort })),
      podLabels: s.podLabels ? { ...s.podLabels } : undefined,
      serviceAccountName: s.serviceAccountName,
    }));
    for (const a of spec.allows) {
      const ports = a.ports ? { ports: [...a.ports] } : {};
      if (a.caller === 'gateway') {
        services[a.callee].allowFromIngressGateway(ports);
      } else {
        services[a.callee].allowFrom(services[a.caller], ports);
      }
    }
    return chart;
  }

  test('each service namespace: one metrics policy, scraper ipBlocks only; no pod reaches a metrics port; quarantined pods are not selected', () => {
    fc.assert(fc.property(graphArb(20), fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), (spec, mask) => {
      const chart = build(spec);
      const objects = chart.toJson() as Manifest[];
      expect(chart.selfCheckFindings).toEqual([]);
      const namespaces = [...new Set(spec.services.map(s => s.namespace))].sort();
      const metrics = ofKind(objects, 'NetworkPolicy').filter(o => JSON.stringify(o.spec).includes('15020'));
      expect(metrics.map(o => o.metadata.namespace).sort()).toEqual(namespaces);
      for (const np of metrics) {
        expect(np.spec.ingress).toEqual([{ from: SCRAPER.map(cidr => ({ ipBlock: { cidr } })), ports: METRICS_PORTS }]);
      }
      const pods: Workload[] = spec.services.map((s, i) => ({
        id: s.name,
        namespace: s.namespace,
        serviceAccount: serviceAccountOf(s),
        labels: { ...podLabelsOf(s), ...(mask[i] ? { 'zero-trust.cdk.io/quarantine': 'true' } : {}) },
      }));
      expect([...new NetworkPolicyEvaluator(objects, pods).flows([15020, 15090])]).toEqual([]);
      for (const [i, pod] of pods.entries()) {
        const selected = metrics.some(np => np.metadata.namespace === pod.namespace && selectorMatches(np.spec.podSelector, pod.labels));
        expect(selected).toBe(!mask[i]);
      }
    }), { numRuns: 40 });
  });
});
