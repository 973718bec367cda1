import { Caller, callerKey, InboundAllow } from '../../model/inbound-allow';
import { Microservice } from '../../model/microservice';
import { PolicyModel } from '../../model/policy-model';
import { restrictionKey, RequestRestriction } from '../../model/request-restriction';

/** A workload on the other end of a flow, as the renderers address it. */
export interface Peer {
  /** Stable sort key. */
  readonly key: string;
  readonly namespace: string;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly principal: string;
  /** The declared service, when the peer is one. */
  readonly service?: Microservice;
}

/** Ports that one peer may use, whatever the request restriction. */
export interface PortGrant {
  readonly peer: Peer;
  readonly ports: number[];
}

/** One Istio rule: these principals, on these ports, with this restriction (cross product is exact). */
export interface PrincipalRule {
  readonly principals: string[];
  readonly ports: number[];
  readonly restriction?: RequestRestriction;
}

/** The peer of a caller. */
export function callerPeer(model: PolicyModel, caller: Caller): Peer {
  if (caller.kind === 'service') {
    return servicePeer(caller.service);
  }
  const p = model.platform;
  return {
    key: callerKey(caller),
    namespace: p.gatewayNamespace,
    podLabels: p.gatewayLabels,
    principal: model.principalOf(p.gatewayNamespace, p.gatewayServiceAccount),
  };
}

/** The peer of a declared service. */
export function servicePeer(service: Microservice): Peer {
  return { key: callerKey({ kind: 'service', service }), namespace: service.namespace, podLabels: service.podLabels, principal: service.principal, service };
}

/** Per caller of `callee`: the target ports it may reach (NetworkPolicy is blind to L7). Sorted. */
export function ingressGrants(model: PolicyModel, callee: Microservice): PortGrant[] {
  return groupPorts(callee._inboundAllows().map(a => ({ peer: callerPeer(model, a.caller), port: a.port })));
}

/** Per declared caller: the callees and ports it may reach. */
export function egressGrants(model: PolicyModel): Map<Microservice, PortGrant[]> {
  const byCaller = new Map<Microservice, { peer: Peer; port: number }[]>();
  for (const callee of model.services) {
    for (const allow of callee._inboundAllows()) {
      if (allow.caller.kind !== 'service') {
        continue;
      }
      const list = byCaller.get(allow.caller.service) ?? [];
      list.push({ peer: servicePeer(callee), port: allow.port });
      byCaller.set(allow.caller.service, list);
    }
  }
  const out = new Map<Microservice, PortGrant[]>();
  for (const [caller, list] of byCaller) {
    out.set(caller, groupPorts(list));
  }
  return out;
}

/** The callees of every service in `namespace`, sorted and unique. */
export function calleesOfNamespace(egress: Map<Microservice, PortGrant[]>, namespace: string): Microservice[] {
  const callees = new Set<Microservice>();
  for (const [caller, grants] of egress) {
    if (caller.namespace !== namespace) {
      continue;
    }
    for (const g of grants) {
      if (g.peer.service) {
        callees.add(g.peer.service);
      }
    }
  }
  return [...callees].sort((a, b) => compare(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
}

/**
 * Istio rules for `callee`: allows with the same restriction are grouped, then principals with the
 * same port set share a rule, so every rule's cross product is exactly what was declared.
 */
export function principalRules(model: PolicyModel, callee: Microservice): PrincipalRule[] {
  const byRestriction: RestrictionGroups = new Map();
  for (const allow of callee._inboundAllows()) {
    addAllow(model, byRestriction, allow);
  }
  const rules: PrincipalRule[] = [];
  for (const { restriction, ports } of byRestriction.values()) {
    const byPortSet = new Map<string, { ports: number[]; principals: string[] }>();
    for (const [principal, set] of ports) {
      const sorted = [...set].sort((a, b) => a - b);
      const key = sorted.join(',');
      const entry = byPortSet.get(key) ?? { ports: sorted, principals: [] };
      entry.principals.push(principal);
      byPortSet.set(key, entry);
    }
    for (const entry of byPortSet.values()) {
      rules.push({ principals: entry.principals.sort(), ports: entry.ports, restriction });
    }
  }
  return rules.sort((a, b) => compare(ruleKey(a), ruleKey(b)));
}

/** Allows grouped by restriction key, then principal -> ports. */
type RestrictionGroups = Map<string, { restriction?: RequestRestriction; ports: Map<string, Set<number>> }>;

function addAllow(model: PolicyModel, byRestriction: RestrictionGroups, allow: InboundAllow): void {
  const rKey = restrictionKey(allow.restriction);
  const entry = byRestriction.get(rKey) ?? { restriction: allow.restriction, ports: new Map<string, Set<number>>() };
  const principal = callerPeer(model, allow.caller).principal;
  const set = entry.ports.get(principal) ?? new Set<number>();
  set.add(allow.port);
  entry.ports.set(principal, set);
  byRestriction.set(rKey, entry);
}

function ruleKey(r: PrincipalRule): string {
  return `${restrictionKey(r.restriction)}|${r.ports.join(',')}|${r.principals.join(',')}`;
}

function groupPorts(list: { peer: Peer; port: number }[]): PortGrant[] {
  const byPeer = new Map<string, { peer: Peer; ports: Set<number> }>();
  for (const { peer, port } of list) {
    const entry = byPeer.get(peer.key) ?? { peer, ports: new Set<number>() };
    entry.ports.add(port);
    byPeer.set(peer.key, entry);
  }
  return [...byPeer.values()]
    .map(e => ({ peer: e.peer, ports: [...e.ports].sort((a, b) => a - b) }))
    .sort((a, b) => compare(a.peer.key, b.peer.key));
}

/** Code-unit order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
