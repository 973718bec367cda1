import { cidrContains, prefixLength } from './cidr';
import { EffectiveAccess, FlowDecision } from './effective-access';
import { KubeObject } from './manifest';
import { EXTERNAL } from './network-policy-semantics';
import { Workload } from './workload';
import { Microservice } from '../model/microservice';
import { PolicyModel } from '../model/policy-model';

/** Ids of the platform workloads the check adds next to the declared services. */
export const PLATFORM_IDS = { gateway: 'platform/ingress-gateway', dns: 'platform/cluster-dns', istiod: 'platform/istiod' } as const;

/**
 * The sidecar's Prometheus ports (pilot-agent's merged metrics, Envoy's own). Istio serves them
 * outside its inbound listeners, so only NetworkPolicy guards them; the check owns this list
 * rather than reading the renderer's.
 */
export const SIDECAR_METRICS_PORTS: readonly number[] = [15020, 15090];

/** What the platform may open besides the declared flows. */
export interface PlatformFlows {
  /**
   * Subnets of the metrics scraper: the only sources allowed on the sidecar metrics ports.
   * @default - none: the metrics ports must stay closed
   */
  readonly scraperCidrs?: string[];
}

/** The workload id of a declared service. */
export function serviceId(s: Microservice): string {
  return `${s.namespace}/${s.name}`;
}

/**
 * The workloads of a declaration: one per service (its pods as declared, meshed), plus the
 * platform pods (ingress gateway as a caller, cluster DNS, istiod).
 */
export function declaredWorkloads(model: PolicyModel): Workload[] {
  const p = model.platform;
  return [
    ...model.services.map(s => ({
      id: serviceId(s),
      namespace: s.namespace,
      labels: { ...s.podLabels },
      serviceAccountName: s.serviceAccountName,
      ports: s.ports.map(port => ({ port: port.targetPort, protocol: 'TCP', appProtocol: port.protocol.appProtocol })),
      meshed: true,
    })),
    {
      id: PLATFORM_IDS.gateway,
      namespace: p.gatewayNamespace,
      labels: { ...p.gatewayLabels },
      serviceAccountName: p.gatewayServiceAccount,
      ports: [],
      meshed: true,
    },
    {
      id: PLATFORM_IDS.dns,
      namespace: p.dnsNamespace,
      labels: { ...p.dnsLabels },
      serviceAccountName: 'coredns',
      ports: [{ port: p.dnsPort, protocol: 'UDP' }, { port: p.dnsPort, protocol: 'TCP' }],
      meshed: false,
    },
    { id: PLATFORM_IDS.istiod, namespace: p.rootNamespace, labels: { ...p.istiodLabels }, serviceAccountName: 'istiod', ports: [{ port: p.istiodXdsPort, protocol: 'TCP' }], meshed: false },
  ];
}

/** Declared flows: `source|destination|port` -> the allowed requests, canonical and sorted ('*' = any). */
export function declaredFlows(model: PolicyModel): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const callee of model.services) {
    for (const allow of callee._inboundAllows()) {
      const source = allow.caller.kind === 'service' ? serviceId(allow.caller.service) : PLATFORM_IDS.gateway;
      const key = `${source}|${serviceId(callee)}|${allow.port}`;
      const set = out.get(key) ?? new Set<string>();
      const r = allow.restriction;
      set.add(r ? [r.methods ? `methods=${r.methods.join(',')}` : '', r.paths ? `paths=${r.paths.join(',')}` : ''].filter(x => x).join(' ') : '*');
      out.set(key, set);
    }
  }
  return new Map([...out].map(([k, v]) => [k, v.has('*') ? ['*'] : [...v].sort()]));
}

/**
 * Proves that `objects` allow exactly what `model` declares, at each layer on its own, and that
 * no declared pod loses DNS or istiod. Returns one line per difference; empty when exact.
 */
export function verifyDeclaration(model: PolicyModel, objects: readonly KubeObject[], platformFlows: PlatformFlows = {}): string[] {
  // Every service pod also listens on the sidecar metrics ports: check them like declared ports.
  const metricsPortsOf = new Map(model.services.map(s => [serviceId(s), SIDECAR_METRICS_PORTS.filter(p => !s.ports.some(d => d.targetPort === p))]));
  const workloads = declaredWorkloads(model).map(w => {
    const extra = metricsPortsOf.get(w.id) ?? [];
    return extra.length === 0 ? w : { ...w, ports: [...w.ports, ...extra.map(port => ({ port, protocol: 'TCP', appProtocol: 'http' }))] };
  });
  const access = EffectiveAccess._fromObjects(objects, {
    rootNamespace: model.platform.rootNamespace,
    trustDomain: model.trustDomain,
    workloads,
  });
  const isMetricsFlow = (dst: string, port: number) => (metricsPortsOf.get(dst) ?? []).includes(port);
  const expected = declaredFlows(model);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const flow of access.flows(model.services.map(serviceId))) {
    const key = `${flow.source}|${flow.destination}|${flow.port}`;
    const want = expected.get(key);
    if (flow.source === EXTERNAL && isMetricsFlow(flow.destination, flow.port)) {
      continue; // address ranges on the metrics ports: checked below, CIDR by CIDR
    }
    if (!want) {
      problems.push(`undeclared flow ${describe(flow)} is open: ${openLayers(flow)}`);
      continue;
    }
    seen.add(key);
    problems.push(...compareDeclared(flow, want));
  }
  for (const [key, want] of expected) {
    if (!seen.has(key)) {
      const [source, destination, port] = key.split('|');
      problems.push(...compareDeclared(access.decide(source, destination, Number(port)), want));
    }
  }
  problems.push(...verifyMetricsPorts(model, access, metricsPortsOf, platformFlows.scraperCidrs ?? []));
  const p = model.platform;
  for (const s of model.services) {
    for (const [dst, port, protocol] of [[PLATFORM_IDS.dns, p.dnsPort, 'UDP'], [PLATFORM_IDS.dns, p.dnsPort, 'TCP'], [PLATFORM_IDS.istiod, p.istiodXdsPort, 'TCP']] as const) {
      const d = access.decide(serviceId(s), dst, port, protocol);
      if (!d.network.allowed) {
        problems.push(`platform necessity blocked: ${serviceId(s)} cannot reach ${dst} on ${protocol} ${port} (${d.network.policies.join(', ')})`);
      }
    }
  }
  return problems;
}

/**
 * The sidecar metrics ports admit exactly the scraper subnets: every admitted ipBlock lies inside
 * one of them (an ipBlock of private addresses matches no declared pod, so flows alone would not
 * show a VPC-wide block), and each scraper subnet gets in.
 */
function verifyMetricsPorts(model: PolicyModel, access: EffectiveAccess, metricsPortsOf: Map<string, number[]>, scraperCidrs: string[]): string[] {
  const problems: string[] = [];
  for (const s of model.services) {
    const id = serviceId(s);
    for (const port of metricsPortsOf.get(id) ?? []) {
      const admitted = access._ingressCidrs(id, port);
      if (admitted === undefined) {
        problems.push(`sidecar metrics port ${id}:${port}/TCP is open to every source (no NetworkPolicy restricts it)`);
        continue;
      }
      for (const a of admitted.filter(x => !scraperCidrs.some(sc => cidrWithin(x.cidr, sc)))) {
        problems.push(`sidecar metrics port ${id}:${port}/TCP admits ipBlock ${a.cidr} (${a.policy}), `
          + `which is not inside the scraper subnets [${scraperCidrs.join(', ')}]`);
      }
      for (const sc of scraperCidrs.filter(c => !admitted.some(x => cidrWithin(c, x.cidr)))) {
        problems.push(`platform necessity blocked: the scraper subnet ${sc} cannot reach ${id} on TCP ${port}`);
      }
    }
  }
  return problems;
}

/** Whether every address of `inner` lies in `outer`. */
function cidrWithin(inner: string, outer: string): boolean {
  const a = prefixLength(inner);
  const b = prefixLength(outer);
  return a !== undefined && b !== undefined && a >= b && cidrContains(outer, inner.split('/')[0]);
}

function compareDeclared(flow: FlowDecision, want: string[]): string[] {
  const problems: string[] = [];
  if (!flow.network.allowed) {
    problems.push(`declared flow ${describe(flow)} is blocked by NetworkPolicy (${flow.network.policies.join(', ') || 'no rule admits it'})`);
  }
  if (!flow.mesh.allowed) {
    problems.push(`declared flow ${describe(flow)} is denied by Istio (${flow.mesh.policies.join(', ')})`);
  } else if (flow.mesh.requests.join(' | ') !== want.join(' | ') || flow.mesh.deniedRequests.length > 0) {
    problems.push(`declared flow ${describe(flow)} allows requests [${flow.mesh.requests.join(' | ')}] but the declaration allows [${want.join(' | ')}]`);
  }
  return problems;
}

function openLayers(flow: FlowDecision): string {
  const layers: string[] = [];
  if (flow.network.allowed) {
    layers.push(`NetworkPolicy (${flow.network.policies.join(', ') || 'not isolated'})`);
  }
  if (flow.mesh.enforced && flow.mesh.allowed) {
    layers.push(`Istio (${flow.mesh.policies.join(', ') || 'no ALLOW policy applies'})`);
  }
  return layers.join(' and ');
}

function describe(flow: FlowDecision): string {
  return `${flow.source === EXTERNAL ? 'the outside world' : flow.source} -> ${flow.destination}:${flow.port}/${flow.protocol}`;
}
