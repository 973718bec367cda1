import { EffectiveAccess, FlowDecision } from './effective-access';
import { KubeObject } from './manifest';
import { EXTERNAL } from './network-policy-semantics';
import { Workload } from './workload';
import { Microservice } from '../model/microservice';
import { PolicyModel } from '../model/policy-model';

/** Ids of the platform workloads the check adds next to the declared services. */
export const PLATFORM_IDS = { gateway: 'platform/ingress-gateway', dns: 'platform/cluster-dns', istiod: 'platform/istiod' } as const;

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
export function verifyDeclaration(model: PolicyModel, objects: readonly KubeObject[]): string[] {
  const access = EffectiveAccess._fromObjects(objects, {
    rootNamespace: model.platform.rootNamespace,
    trustDomain: model.trustDomain,
    workloads: declaredWorkloads(model),
  });
  const expected = declaredFlows(model);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const flow of access.flows(model.services.map(serviceId))) {
    const key = `${flow.source}|${flow.destination}|${flow.port}`;
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
