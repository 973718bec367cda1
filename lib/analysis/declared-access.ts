import { cidrContains, prefixLength } from './cidr';
import { EffectiveAccess, FlowDecision } from './effective-access';
import { KubeObject } from './manifest';
import { EgressAllowance, EXTERNAL } from './network-policy-semantics';
import { isQuarantinedCopy, quarantinedCopy, strangerId, strangers, UNMANAGED_NAMESPACE } from './probes';
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
 * no declared pod loses DNS or istiod. Besides the declared and platform workloads, the analysis
 * places probes (probes.ts): a stranger pod in every namespace involved and in an unmanaged one,
 * and a quarantined copy of every service. Checked:
 * - every flow into a service, from any workload or the outside world, is declared, with exactly
 *   the declared requests; every declared flow is open at both layers;
 * - no ipBlock admits an address range into a service's declared ports;
 * - every service port is under STRICT mTLS;
 * - every service's egress is isolated and admits only its declared callees, DNS, istiod and
 *   its declared external endpoints (CIDRs and port);
 * - a quarantined pod has no flow in or out at the NetworkPolicy layer, and Istio denies every
 *   request into it;
 * - the sidecar metrics ports admit exactly the scraper subnets.
 * Returns one line per difference; empty when exact.
 */
export function verifyDeclaration(model: PolicyModel, objects: readonly KubeObject[], platformFlows: PlatformFlows = {}): string[] {
  const p = model.platform;
  // Every service pod also listens on the sidecar metrics ports: check them like declared ports.
  const metricsPortsOf = new Map(model.services.map(s =>
    [serviceId(s), SIDECAR_METRICS_PORTS.filter(port => !s.ports.some(d => d.targetPort === port))]));
  const declared = declaredWorkloads(model).map(w => {
    const extra = metricsPortsOf.get(w.id) ?? [];
    return extra.length === 0 ? w : { ...w, ports: [...w.ports, ...extra.map(port => ({ port, protocol: 'TCP', appProtocol: 'http' }))] };
  });
  const serviceIds = model.services.map(serviceId);
  const serviceIdSet = new Set(serviceIds);
  const copies = declared.filter(w => serviceIdSet.has(w.id)).map(w => quarantinedCopy(w, p.quarantineLabel));
  const strangerNamespaces = [...model.services.map(s => s.namespace), p.rootNamespace, p.gatewayNamespace, p.dnsNamespace, 'default', UNMANAGED_NAMESPACE];
  const access = EffectiveAccess._fromObjects(objects, {
    rootNamespace: p.rootNamespace,
    trustDomain: model.trustDomain,
    workloads: [...declared, ...strangers(strangerNamespaces), ...copies],
  });
  const isMetricsFlow = (dst: string, port: number) => (metricsPortsOf.get(dst) ?? []).includes(port);
  const expected = declaredFlows(model);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const flow of access.flows([...serviceIds, ...copies.map(c => c.id)])) {
    const key = `${flow.source}|${flow.destination}|${flow.port}`;
    if (isQuarantinedCopy(flow.destination)) {
      problems.push(`quarantine broken: ${describe(flow)} into a quarantined pod is open: ${openLayers(flow)}`);
      continue;
    }
    if (isQuarantinedCopy(flow.source)) {
      // Istio decides at the destination and cannot see the caller's labels: only NetworkPolicy stops it (design.md 3.6).
      if (flow.network.allowed) {
        problems.push(`quarantine broken: ${describe(flow)} out of a quarantined pod is open: NetworkPolicy (${flow.network.policies.join(', ') || 'not isolated'})`);
      }
      continue;
    }
    if (flow.source === EXTERNAL && isMetricsFlow(flow.destination, flow.port)) {
      continue; // address ranges on the metrics ports: checked below, CIDR by CIDR
    }
    const want = expected.get(key);
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
  problems.push(...verifyServicePorts(model, access, expected));
  problems.push(...verifyMetricsPorts(model, access, metricsPortsOf, platformFlows.scraperCidrs ?? []));
  problems.push(...verifyEgress(model, access, expected));
  problems.push(...verifyQuarantinedEgress(access, copies));
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
 * Each declared port of a service: STRICT mTLS (a workload- or port-level PERMISSIVE would let
 * plaintext in); no ipBlock peer (declared callers are pods, admitted by identity and selector,
 * never by address: pod addresses are not known at synthesis); and the ingress rules admit only
 * declared callers, checked on their own, so that a wide ingress rule hidden behind the callers'
 * default-deny egress is still found.
 */
function verifyServicePorts(model: PolicyModel, access: EffectiveAccess, expected: Map<string, string[]>): string[] {
  const problems: string[] = [];
  for (const s of model.services) {
    const id = serviceId(s);
    for (const port of [...new Set(s.ports.map(x => x.targetPort))].sort((a, b) => a - b)) {
      const d = access.decide(strangerId(s.namespace), id, port);
      if (d.mtlsMode !== 'STRICT') {
        problems.push(`mTLS on ${id}:${port}/TCP is ${d.mtlsMode}${d.mtlsPolicy ? ` (${d.mtlsPolicy})` : ''}, not STRICT`);
      }
      for (const a of access._ingressCidrs(id, port) ?? []) {
        problems.push(`undeclared ingress into ${id}:${port}/TCP from ipBlock ${a.cidr} (${a.policy})`);
      }
      // The ingress side on its own: a rule may admit only declared callers, whatever their egress allows.
      const rules = access._ingressRulesOn(id, port);
      if (rules === undefined) {
        problems.push(`ingress of ${id} is not isolated: no NetworkPolicy with policyTypes Ingress selects its pods`);
        continue;
      }
      for (const r of rules) {
        if (r.peers === undefined) {
          problems.push(`undeclared ingress into ${id}:${port}/TCP from every source (${r.policy})`);
          continue;
        }
        for (const peer of [...r.peers].sort()) {
          if (peer !== EXTERNAL && !expected.has(`${peer}|${id}|${port}`)) {
            problems.push(`undeclared ingress into ${id}:${port}/TCP from ${peer} (${r.policy})`);
          }
        }
      }
    }
  }
  return problems;
}

/**
 * A service's egress admits exactly its declared callees (on their declared ports), DNS, istiod
 * and its declared external endpoints. An egress rule open to every destination, every port or
 * a port range, to an undeclared pod (a stranger, a quarantined pod, a service it does not
 * call), or to an address range no declared endpoint covers, is reported.
 */
function verifyEgress(model: PolicyModel, access: EffectiveAccess, expected: Map<string, string[]>): string[] {
  const p = model.platform;
  const problems: string[] = [];
  const outOf = new Map<string, Set<string>>();
  for (const key of expected.keys()) {
    const [source, destination, port] = key.split('|');
    const set = outOf.get(source) ?? new Set<string>();
    set.add(`${destination}|${port}|TCP`);
    outOf.set(source, set);
  }
  const platform = [`${PLATFORM_IDS.dns}|${p.dnsPort}|UDP`, `${PLATFORM_IDS.dns}|${p.dnsPort}|TCP`, `${PLATFORM_IDS.istiod}|${p.istiodXdsPort}|TCP`];
  const workloads = new Map(access.workloads.map(w => [w.id, w]));
  for (const s of model.services) {
    const id = serviceId(s);
    const allowances = access._egressAllowances(id);
    if (allowances === undefined) {
      problems.push(`egress of ${id} is not isolated: no NetworkPolicy with policyTypes Egress selects its pods`);
      continue;
    }
    const allowed = new Set([...(outOf.get(id) ?? []), ...platform]);
    const endpoints = s._externalEndpoints();
    for (const a of allowances) {
      if (a.peers === undefined) {
        problems.push(`undeclared egress: ${id} may reach every destination${portsText(a.ports)} (${a.policy})`);
        continue;
      }
      const specs = a.ports;
      if (specs === undefined || specs.some(x => x.port === undefined || x.endPort !== undefined)) {
        problems.push(`undeclared egress: ${id} may reach [${[...a.peers].sort().join(', ')}] on${portsText(specs)} (${a.policy})`);
        continue;
      }
      for (const peer of [...a.peers].sort()) {
        if (peer === EXTERNAL || peer === id) {
          continue;
        }
        for (const spec of specs) {
          const ports = typeof spec.port === 'number'
            ? [spec.port]
            : (workloads.get(peer)?.ports ?? []).filter(x => x.name === spec.port && (x.protocol ?? 'TCP') === spec.protocol).map(x => x.port);
          for (const port of ports) {
            if (!allowed.has(`${peer}|${port}|${spec.protocol}`)) {
              problems.push(`undeclared egress ${id} -> ${peer}:${port}/${spec.protocol} is open: NetworkPolicy (${a.policy})`);
            }
          }
        }
      }
      for (const cidr of a.cidrs) {
        for (const spec of specs) {
          const covered = spec.protocol === 'TCP' && endpoints.some(e => e.port === spec.port && e.cidrs.some(c => cidrWithin(cidr, c)));
          if (!covered) {
            problems.push(`undeclared egress: ${id} may reach ipBlock ${cidr} on ${spec.protocol} ${spec.port}, which no external endpoint it calls declares (${a.policy})`);
          }
        }
      }
    }
  }
  return problems;
}

/** A quarantined pod's egress is isolated and no rule admits anything out of it. */
function verifyQuarantinedEgress(access: EffectiveAccess, copies: readonly { id: string }[]): string[] {
  const problems: string[] = [];
  for (const c of copies) {
    const allowances = access._egressAllowances(c.id);
    if (allowances === undefined) {
      problems.push(`quarantine broken: egress of ${c.id} is not isolated`);
      continue;
    }
    for (const a of allowances) {
      const peers = a.peers === undefined ? 'every destination' : `[${[...a.peers].sort().join(', ')}]`;
      problems.push(`quarantine broken: ${c.id} may still reach ${peers}${portsText(a.ports)} (${a.policy})`);
    }
  }
  return problems;
}

function portsText(ports: EgressAllowance['ports']): string {
  if (ports === undefined) {
    return ' every port';
  }
  return ' ' + ports.map(x => (x.port === undefined ? `every ${x.protocol} port` : `${x.protocol} ${x.port}${x.endPort !== undefined ? `-${x.endPort}` : ''}`)).join(', ');
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
