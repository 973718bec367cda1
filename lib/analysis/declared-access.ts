import { cidrContains, prefixLength } from './cidr';
import { EffectiveAccess, FlowDecision } from './effective-access';
import { KubeObject } from './manifest';
import { EgressAllowance, EXTERNAL, IngressRule, PortSpec } from './network-policy-semantics';
import { impersonator, isImpersonator, isQuarantinedCopy, quarantinedCopy, quarantinedId, strangerId, strangers, UNMANAGED_NAMESPACE } from './probes';
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
 * an impersonator of every service and platform pod (its labels, in the unmanaged namespace) and
 * a quarantined copy of every service. Checked:
 * - every flow into a service, from any workload or the outside world, is declared, with exactly
 *   the declared requests; every declared flow is open at both layers;
 * - no ipBlock admits an address range into a service's declared ports;
 * - no ingress rule of a service's pods (quarantined or not) opens a port other than its declared
 *   ones and the sidecar metrics ports: a missing port list, a protocol other than TCP, a port
 *   range reaching outside, an undeclared number;
 * - no rule of a service's pods names a port: declared ports have numbers only, so the check
 *   cannot tell what a named port opens (the library writes numbers);
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
  // Platform pods too: a peer with the DNS pods' labels in every namespace lets any look-alike answer DNS.
  const impersonators = declared.map(impersonator);
  const strangerNamespaces = [...model.services.map(s => s.namespace), p.rootNamespace, p.gatewayNamespace, p.dnsNamespace, 'default', UNMANAGED_NAMESPACE];
  const access = EffectiveAccess._fromObjects(objects, {
    rootNamespace: p.rootNamespace,
    trustDomain: model.trustDomain,
    workloads: [...declared, ...strangers(strangerNamespaces), ...copies, ...impersonators],
  });
  const isMetricsFlow = (dst: string, port: number) => (metricsPortsOf.get(dst) ?? []).includes(port);
  const expected = declaredFlows(model);
  const problems: string[] = [];
  const seen = new Set<string>();
  const flows = access.flows([...serviceIds, ...copies.map(c => c.id)]);
  // An impersonator's flow that the unmanaged stranger has too, through the same policies, is reported once: for the stranger.
  const unmanaged = strangerId(UNMANAGED_NAMESPACE);
  const strangerFlows = new Map(flows.filter(f => f.source === unmanaged).map(f => [`${f.destination}|${f.port}|${f.protocol}`, openLayers(f)]));
  for (const flow of flows) {
    const key = `${flow.source}|${flow.destination}|${flow.port}`;
    if (isImpersonator(flow.source) && strangerFlows.get(`${flow.destination}|${flow.port}|${flow.protocol}`) === openLayers(flow)) {
      continue;
    }
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
  problems.push(...verifyIngressPorts(model, access));
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
        const sameAsStranger = r.peers.has(strangerId(UNMANAGED_NAMESPACE));
        for (const peer of [...r.peers].sort()) {
          if (sameAsStranger && isImpersonator(peer)) {
            continue; // reported for the stranger, whom the same rule admits
          }
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
 * a port range, to an undeclared pod (a stranger, an impersonator, a quarantined pod, a service
 * it does not call), or to an address range no declared endpoint covers, is reported, and so is
 * a named port: declared pods have unnamed ports, so what it opens is unknown.
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
      for (const x of a.ports ?? []) {
        if (typeof x.port === 'string') {
          problems.push(namedPortFinding(x.port, a.policy, `egress of ${id}`));
        }
      }
      if (a.peers === undefined) {
        problems.push(`undeclared egress: ${id} may reach every destination${portsText(a.ports)} (${a.policy})`);
        continue;
      }
      const specs = a.ports?.filter((x): x is NumberedPort => typeof x.port !== 'string');
      if (specs === undefined || specs.some(x => x.port === undefined || x.endPort !== undefined)) {
        problems.push(`undeclared egress: ${id} may reach [${[...a.peers].sort().join(', ')}] on${portsText(specs)} (${a.policy})`);
        continue;
      }
      const sameAsStranger = a.peers.has(strangerId(UNMANAGED_NAMESPACE));
      for (const peer of [...a.peers].sort()) {
        if (peer === EXTERNAL || peer === id || (sameAsStranger && isImpersonator(peer))) {
          continue; // an impersonator the same rule admits with the unmanaged stranger: reported for the stranger
        }
        for (const spec of specs) {
          if (!allowed.has(`${peer}|${spec.port}|${spec.protocol}`)) {
            problems.push(`undeclared egress ${id} -> ${peer}:${spec.port}/${spec.protocol} is open: NetworkPolicy (${a.policy})`);
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

/** A NetworkPolicy port spec with a number (or none: every port of its protocol), not a name. */
interface NumberedPort {
  readonly protocol: string;
  readonly port?: number;
  readonly endPort?: number;
}

/** A named port in a rule: declared pods have unnamed ports, so what it opens is unknown. */
function namedPortFinding(name: string, policy: string, where: string): string {
  return `named port '${name}' in ${policy}: the self-check cannot resolve it; name the port number (${where})`;
}

/**
 * Every ingress rule of a service's pods, on any port, opens only the declared target ports and
 * the sidecar metrics ports (TCP): the flows above are decided on those ports only, so a rule
 * that opens another port (to anyone, even a declared caller) is found here, by its ports alone.
 * A named port is reported as unverifiable. A quarantined pod's rules are checked likewise,
 * unless the rule also applies to the service's own pods (then it is reported once, for them).
 */
function verifyIngressPorts(model: PolicyModel, access: EffectiveAccess): string[] {
  const problems: string[] = [];
  const metrics = `the sidecar metrics ports TCP ${SIDECAR_METRICS_PORTS.join(', ')}`;
  for (const s of model.services) {
    const id = serviceId(s);
    const declared = [...new Set(s.ports.map(x => x.targetPort))].sort((a, b) => a - b);
    const open = [...new Set([...declared, ...SIDECAR_METRICS_PORTS])];
    const which = declared.length > 0 ? `which declares only TCP ${declared.join(', ')} and ${metrics}` : `which declares no port, only ${metrics}`;
    const own = access._ingressRules(id) ?? [];
    for (const r of own) {
      for (const w of widerPorts(r, open)) {
        problems.push(w.named !== undefined ? namedPortFinding(w.named, r.policy, `ingress of ${id}`) : `undeclared ingress port: ${r.policy} admits ${w.text} into ${id}, ${which}`);
      }
    }
    const ownRules = new Set(own.map(r => `${r.policy}#${r.rule}`));
    const copy = quarantinedId(id);
    for (const r of (access._ingressRules(copy) ?? []).filter(x => !ownRules.has(`${x.policy}#${x.rule}`))) {
      for (const w of widerPorts(r, open)) {
        problems.push(w.named !== undefined ? namedPortFinding(w.named, r.policy, `ingress of ${copy}`) : `quarantine broken: ${r.policy} admits ${w.text} into ${copy}`);
      }
    }
  }
  return problems;
}

/** What an ingress rule admits beyond the `open` TCP ports: one entry per offending port spec. */
function widerPorts(r: IngressRule, open: readonly number[]): Array<{ text: string; named?: string }> {
  if (r.ports === undefined) {
    return [{ text: 'every port' }];
  }
  const out: Array<{ text: string; named?: string }> = [];
  for (const spec of r.ports) {
    const text = portText(spec);
    if (typeof spec.port === 'string') {
      out.push({ text, named: spec.port });
    } else if (spec.port === undefined) {
      out.push({ text });
    } else if (spec.protocol !== 'TCP') {
      out.push({ text });
    } else if (spec.endPort !== undefined) {
      // A range port..endPort stays inside when every port of it is open (endPort < port is rejected by the API server).
      const from = spec.port;
      const to = spec.endPort;
      if (to - from + 1 > open.filter(p => p >= from && p <= to).length) {
        out.push({ text });
      }
    } else if (!open.includes(spec.port)) {
      out.push({ text });
    }
  }
  return out;
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
  return ' ' + ports.map(portText).join(', ');
}

/** One port entry in words: 'TCP 8443', 'TCP 8000-9000', 'TCP http', or 'every UDP port'. */
function portText(spec: PortSpec): string {
  return spec.port === undefined ? `every ${spec.protocol} port` : `${spec.protocol} ${spec.port}${spec.endPort !== undefined ? `-${spec.endPort}` : ''}`;
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
