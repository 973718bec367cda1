import { cidrContains, INTERNET_SAMPLES } from './cidr';
import { LabelSelector, matchesSelector } from './label-selector';
import { field, KubeObject, list, objectRef } from './manifest';
import { NamespaceLabels, Workload } from './workload';
import { addTo } from '../util/multimap';

/** The outside world, as a source or destination of traffic. */
export const EXTERNAL = 'external';

interface Peer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: string[] };
}

/** A NetworkPolicy port entry: protocol, and a number, a name or a range. */
export interface PortSpec {
  readonly protocol: string;
  readonly port?: number | string;
  readonly endPort?: number;
}

interface Rule {
  /** undefined: every peer (an absent or empty `from`/`to`). */
  readonly peers?: Peer[];
  /** undefined: every port (an absent or empty `ports`). */
  readonly ports?: PortSpec[];
}

/** A NetworkPolicy, read once. */
export interface ParsedNetworkPolicy {
  readonly ref: string;
  readonly namespace: string;
  readonly podSelector: LabelSelector;
  readonly ingressIsolates: boolean;
  readonly egressIsolates: boolean;
  readonly ingress: Rule[];
  readonly egress: Rule[];
}

/** One way a direction is allowed: a set of peers (or all), on matching ports, by a policy. */
interface Allowance {
  readonly ref: string;
  /** The rule's index in its policy's ingress or egress list. */
  readonly rule: number;
  /** undefined: any peer, inside or outside the cluster. */
  readonly peers?: Set<string>;
  /** The ipBlock CIDRs among the rule's peers. */
  readonly cidrs: string[];
  readonly ports?: PortSpec[];
}

/** An ipBlock CIDR that a NetworkPolicy admits. */
export interface AdmittedCidr {
  readonly cidr: string;
  /** The admitting policy (namespace/name). */
  readonly policy: string;
}

/** One egress rule that applies to a workload, as the analysis resolved it. */
export interface EgressAllowance {
  /** The policy (namespace/name). */
  readonly policy: string;
  /** The workload ids (and EXTERNAL) the rule's peers match; undefined: every destination. */
  readonly peers?: ReadonlySet<string>;
  /** The ipBlock CIDRs among the rule's peers. */
  readonly cidrs: readonly string[];
  /** The rule's ports; undefined: every port. */
  readonly ports?: readonly PortSpec[];
}

/** One ingress rule that applies to a workload, with its port specs, as the analysis resolved it. */
export interface IngressRule {
  /** The policy (namespace/name). */
  readonly policy: string;
  /** The rule's index in the policy's ingress list: with `policy`, identifies the rule. */
  readonly rule: number;
  /** The workload ids (and EXTERNAL) the rule's peers match; undefined: every source. */
  readonly peers?: ReadonlySet<string>;
  /** The rule's ports; undefined: every port. */
  readonly ports?: readonly PortSpec[];
}

/** The decision of the NetworkPolicy layer for one connection. */
export interface NetworkDecision {
  readonly allowed: boolean;
  /** The policies that decided: the allowing ones, or the isolating ones when denied. */
  readonly policies: string[];
}

/**
 * Reads a NetworkPolicy. policyTypes defaults to Ingress, plus Egress when the policy has egress
 * rules (kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/).
 */
export function parseNetworkPolicy(o: KubeObject): ParsedNetworkPolicy {
  const spec = o.spec;
  const egress = field<unknown[]>(spec, 'egress');
  const declared = field<string[]>(spec, 'policyTypes');
  const types = declared ?? ['Ingress', ...(Array.isArray(egress) && egress.length > 0 ? ['Egress'] : [])];
  const readRules = (key: 'ingress' | 'egress'): Rule[] => list<Record<string, unknown>>(spec, key).map(r => {
    const peers = list<Peer>(r, key === 'ingress' ? 'from' : 'to');
    const ports = list<{ protocol?: string; port?: number | string; endPort?: number }>(r, 'ports');
    return {
      // An empty or absent from/to matches all sources/destinations (NetworkPolicyIngressRule.from).
      peers: peers.length === 0 ? undefined : peers,
      // An empty or absent ports list matches all ports (NetworkPolicyIngressRule.ports).
      ports: ports.length === 0 ? undefined : ports.map(p => ({ protocol: p.protocol ?? 'TCP', port: p.port, endPort: p.endPort })),
    };
  });
  return {
    ref: objectRef(o),
    namespace: o.metadata?.namespace ?? 'default',
    podSelector: field<LabelSelector>(spec, 'podSelector') ?? {},
    ingressIsolates: types.includes('Ingress'),
    egressIsolates: types.includes('Egress'),
    ingress: readRules('ingress'),
    egress: readRules('egress'),
  };
}

/**
 * Effective NetworkPolicy access between workloads. A pod is isolated in a direction when some
 * policy selecting it lists that direction; an isolated pod admits exactly the union of the
 * rules of the policies that select it: policies are additive and never conflict
 * (kubernetes.io/docs/concepts/services-networking/network-policies/#the-two-sorts-of-pod-isolation).
 * A connection needs both the source's egress and the destination's ingress.
 */
export class NetworkPolicyLayer {
  private readonly ingress = new Map<string, Allowance[] | undefined>();
  private readonly egress = new Map<string, Allowance[] | undefined>();
  private readonly isolating = new Map<string, { ingress: string[]; egress: string[] }>();
  private readonly byId = new Map<string, Workload>();
  /** label key -> value -> namespaces: a selector with matchLabels starts from the smallest candidate set. */
  private readonly namespaceIndex = new Map<string, Map<string, NamespaceLabels[]>>();
  /** namespace -> label key -> value -> workloads, likewise for podSelectors. */
  private readonly podIndex = new Map<string, Map<string, Map<string, Workload[]>>>();

  constructor(policies: ParsedNetworkPolicy[], private readonly workloads: Workload[], private readonly namespaces: Map<string, NamespaceLabels>) {
    for (const ns of namespaces.values()) {
      for (const [k, v] of Object.entries(ns.labels)) {
        const byValue = this.namespaceIndex.get(k) ?? new Map<string, NamespaceLabels[]>();
        addTo(byValue, v, ns);
        this.namespaceIndex.set(k, byValue);
      }
    }
    const byNamespace = new Map<string, Workload[]>();
    for (const w of workloads) {
      this.byId.set(w.id, w);
      addTo(byNamespace, w.namespace, w);
      const index = this.podIndex.get(w.namespace) ?? new Map<string, Map<string, Workload[]>>();
      for (const [k, v] of Object.entries(w.labels)) {
        const byValue = index.get(k) ?? new Map<string, Workload[]>();
        addTo(byValue, v, w);
        index.set(k, byValue);
      }
      this.podIndex.set(w.namespace, index);
    }
    // Peers resolve through the label indexes, so each costs a lookup or two: no cache needed.
    const resolve = (peer: Peer, policyNamespace: string): Set<string> => this.peerSet(peer, policyNamespace, byNamespace);
    const policiesByNamespace = new Map<string, ParsedNetworkPolicy[]>();
    for (const p of policies) {
      addTo(policiesByNamespace, p.namespace, p);
    }
    for (const w of workloads) {
      const selecting = (policiesByNamespace.get(w.namespace) ?? []).filter(p => matchesSelector(p.podSelector, w.labels));
      const inPolicies = selecting.filter(p => p.ingressIsolates);
      const outPolicies = selecting.filter(p => p.egressIsolates);
      this.isolating.set(w.id, { ingress: inPolicies.map(p => p.ref), egress: outPolicies.map(p => p.ref) });
      // A pod no policy isolates for a direction allows everything in that direction.
      this.ingress.set(w.id, inPolicies.length === 0 ? undefined : inPolicies.flatMap(p => p.ingress.map((r, i) => allowance(p, r, i, resolve))));
      this.egress.set(w.id, outPolicies.length === 0 ? undefined : outPolicies.flatMap(p => p.egress.map((r, i) => allowance(p, r, i, resolve))));
    }
  }

  /** The decision for `src` (a workload id or EXTERNAL) connecting to `dst` on `port`/`protocol`. */
  public decide(src: string, dst: string, port: number, protocol = 'TCP'): NetworkDecision {
    const dstWorkload = this.byId.get(dst);
    const open: NetworkDecision = { allowed: true, policies: [] };
    const out = src === EXTERNAL ? open : this.check(this.egress.get(src), this.isolating.get(src)?.egress ?? [], dst, dstWorkload, port, protocol);
    const inn = dst === EXTERNAL ? open : this.check(this.ingress.get(dst), this.isolating.get(dst)?.ingress ?? [], src, dstWorkload, port, protocol);
    if (!out.allowed || !inn.allowed) {
      return { allowed: false, policies: [...new Set([...(out.allowed ? [] : out.policies), ...(inn.allowed ? [] : inn.policies)])] };
    }
    return { allowed: true, policies: [...new Set([...out.policies, ...inn.policies])] };
  }

  /**
   * The sources that the destination's ingress admits on this port: undefined when any may
   * connect (not isolated, or a rule without peers).
   */
  public ingressSources(dst: string, port: number, protocol = 'TCP'): Set<string> | undefined {
    const allowances = this.ingress.get(dst);
    if (allowances === undefined) {
      return undefined;
    }
    const out = new Set<string>();
    for (const a of allowances) {
      if (!portMatches(a.ports, port, protocol, this.byId.get(dst))) {
        continue;
      }
      if (a.peers === undefined) {
        return undefined;
      }
      a.peers.forEach(p => out.add(p));
    }
    return out;
  }

  /**
   * The ipBlock CIDRs that the destination's ingress admits on this port, with the admitting
   * policies: undefined when any source may connect (not isolated, or a rule without peers).
   * An ipBlock of private addresses matches no declared workload (pods have no known IP), so
   * this is how a check sees which address ranges reach a port.
   */
  public ingressCidrs(dst: string, port: number, protocol = 'TCP'): AdmittedCidr[] | undefined {
    const allowances = this.ingress.get(dst);
    if (allowances === undefined) {
      return undefined;
    }
    const out: AdmittedCidr[] = [];
    for (const a of allowances.filter(x => portMatches(x.ports, port, protocol, this.byId.get(dst)))) {
      if (a.peers === undefined) {
        return undefined;
      }
      a.cidrs.forEach(cidr => out.push({ cidr, policy: a.ref }));
    }
    return out;
  }

  /**
   * The egress rules that apply to a workload: undefined when no policy isolates its egress
   * (then every destination is allowed).
   */
  public egressAllowances(src: string): EgressAllowance[] | undefined {
    return this.egress.get(src)?.map(a => ({ policy: a.ref, peers: a.peers, cidrs: a.cidrs, ports: a.ports }));
  }

  /**
   * The ingress rules of a workload that admit this port, each with the peers it admits
   * (undefined: every source); undefined when no policy isolates its ingress.
   */
  public ingressRulesOn(dst: string, port: number, protocol = 'TCP'): Array<{ policy: string; peers?: ReadonlySet<string> }> | undefined {
    const allowances = this.ingress.get(dst);
    return allowances?.filter(a => portMatches(a.ports, port, protocol, this.byId.get(dst))).map(a => ({ policy: a.ref, peers: a.peers }));
  }

  /**
   * Every ingress rule that applies to a workload, whatever its ports, with its peers and port
   * specs: undefined when no policy isolates its ingress (then every source and port is allowed).
   */
  public ingressRules(dst: string): IngressRule[] | undefined {
    return this.ingress.get(dst)?.map(a => ({ policy: a.ref, rule: a.rule, peers: a.peers, ports: a.ports }));
  }

  /** Whether the destination is isolated for ingress. */
  public isIngressIsolated(id: string): boolean {
    return this.ingress.get(id) !== undefined;
  }

  /** Whether the workload is isolated for egress. */
  public isEgressIsolated(id: string): boolean {
    return this.egress.get(id) !== undefined;
  }

  private check(
    allowances: Allowance[] | undefined, isolating: string[], peer: string, dstWorkload: Workload | undefined, port: number, protocol: string,
  ): NetworkDecision {
    if (allowances === undefined) {
      return { allowed: true, policies: [] };
    }
    const matched = allowances.filter(a => (a.peers === undefined || a.peers.has(peer)) && portMatches(a.ports, port, protocol, dstWorkload));
    return matched.length > 0 ? { allowed: true, policies: [...new Set(matched.map(a => a.ref))] } : { allowed: false, policies: isolating };
  }

  /**
   * The workloads (and EXTERNAL) a peer matches. podSelector alone: pods in the policy's
   * namespace; namespaceSelector alone: every pod in matching namespaces; both in one peer:
   * pods matching both (AND), while separate peers are ORed (network-policies/#behavior-of-to-and-from-selectors).
   * ipBlock: addresses in the CIDR but not in `except`; pods match only by a known IP.
   */
  /** Namespaces that may match a selector: those carrying its first matchLabels entry, else all. */
  private namespaceCandidates(selector: LabelSelector): NamespaceLabels[] {
    const first = firstLabel(selector);
    return first ? this.namespaceIndex.get(first[0])?.get(first[1]) ?? [] : [...this.namespaces.values()];
  }

  private peerSet(peer: Peer, policyNamespace: string, byNamespace: Map<string, Workload[]>): Set<string> {
    const out = new Set<string>();
    if (peer.ipBlock) {
      // ipBlock: inside cidr and outside every except range (kubernetes.io/docs/reference/kubernetes-api/policy-resources/network-policy-v1/#IPBlock).
      const inBlock = (ip: string) => cidrContains(peer.ipBlock!.cidr, ip) && !(peer.ipBlock!.except ?? []).some(e => cidrContains(e, ip));
      for (const w of this.workloads) {
        if (w.ip && inBlock(w.ip)) {
          out.add(w.id);
        }
      }
      if (INTERNET_SAMPLES.some(inBlock)) {
        out.add(EXTERNAL);
      }
      return out;
    }
    // namespaceSelector and podSelector in one peer: pods matching both; separate peers are ORed
    // (kubernetes.io/docs/concepts/services-networking/network-policies/#behavior-of-to-and-from-selectors).
    const namespaces = peer.namespaceSelector === undefined
      ? [policyNamespace]
      : this.namespaceCandidates(peer.namespaceSelector).filter(ns => matchesSelector(peer.namespaceSelector, ns.labels)).map(ns => ns.name);
    for (const ns of namespaces) {
      const first = peer.podSelector ? firstLabel(peer.podSelector) : undefined;
      const candidates = first ? this.podIndex.get(ns)?.get(first[0])?.get(first[1]) ?? [] : byNamespace.get(ns) ?? [];
      for (const w of candidates) {
        if (peer.podSelector === undefined || matchesSelector(peer.podSelector, w.labels)) {
          out.add(w.id);
        }
      }
    }
    return out;
  }
}

function firstLabel(selector: LabelSelector): [string, string] | undefined {
  const labels = selector.matchLabels;
  if (!labels || typeof labels !== 'object') {
    return undefined;
  }
  const key = Object.keys(labels)[0];
  return key === undefined ? undefined : [key, labels[key]];
}

function allowance(p: ParsedNetworkPolicy, r: Rule, rule: number, resolve: (peer: Peer, ns: string) => Set<string>): Allowance {
  if (r.peers === undefined) {
    return { ref: p.ref, rule, cidrs: [], ports: r.ports };
  }
  const peers = new Set<string>();
  for (const peer of r.peers) {
    resolve(peer, p.namespace).forEach(id => peers.add(id));
  }
  const cidrs = r.peers.filter(peer => peer.ipBlock !== undefined).map(peer => peer.ipBlock!.cidr);
  return { ref: p.ref, rule, peers, cidrs, ports: r.ports };
}

/**
 * Whether a rule's ports admit `port`/`protocol` on the destination. A port may be a number, a
 * range with endPort, or a name resolved against the destination's container ports; a rule
 * without a port admits every port of its protocol (NetworkPolicyPort).
 */
export function portMatches(ports: PortSpec[] | undefined, port: number, protocol: string, dst: Workload | undefined): boolean {
  if (ports === undefined) {
    return true;
  }
  return ports.some(spec => {
    if (spec.protocol !== protocol) {
      return false;
    }
    if (spec.port === undefined) {
      return true;
    }
    if (typeof spec.port === 'string') {
      const named = dst?.ports.find(p => p.name === spec.port && (p.protocol ?? 'TCP') === protocol);
      return named !== undefined && named.port === port;
    }
    // endPort makes port..endPort a range (kubernetes.io/docs/concepts/services-networking/network-policies/#targeting-a-range-of-ports).
    return spec.endPort !== undefined ? port >= spec.port && port <= spec.endPort : port === spec.port;
  });
}
