/**
 * An independent evaluator of Kubernetes NetworkPolicies and Istio AuthorizationPolicies, written
 * from the upstream documentation (not from this library's renderers, which it must not import):
 * given plain JSON objects and the pods that would run, it says which connections and requests
 * would pass. It evaluates any well-formed policy, not only the shapes this library emits, and
 * throws on fields it does not model rather than silently ignoring them.
 */

/** A pod that would run in the cluster. */
export interface Workload {
  readonly id: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  /** Named container ports (for NetworkPolicy ports given by name). */
  readonly namedPorts?: Readonly<Record<string, number>>;
}

/** An L4 protocol as NetworkPolicy names it. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A request as the destination's sidecar sees it. `method`/`path` absent: plain TCP traffic. */
export interface IstioRequest {
  /** The caller's mTLS principal; absent for plaintext. */
  readonly principal?: string;
  readonly port: number;
  readonly method?: string;
  readonly path?: string;
}

/** Options of `NetworkPolicyEvaluator.flows`. */
export interface FlowOptions {
  /** @default 'TCP' */
  readonly protocol?: Protocol;
  /** Evaluate one side only. @default - both */
  readonly only?: 'Egress' | 'Ingress';
  /** Source ids. @default - every workload */
  readonly from?: readonly string[];
  /** Destination ids. @default - every workload */
  readonly to?: readonly string[];
}

/** Options of the Istio evaluation. */
export interface IstioOptions {
  /** The mesh root namespace: policies there apply to every namespace. @default 'istio-system' */
  readonly rootNamespace?: string;
}

interface LabelSelectorRequirement { readonly key: string; readonly operator: string; readonly values?: readonly string[] }
/** `metav1.LabelSelector`. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}
interface NetworkPolicyPeer { readonly podSelector?: LabelSelector; readonly namespaceSelector?: LabelSelector; readonly ipBlock?: unknown }
interface NetworkPolicyPort { readonly protocol?: Protocol; readonly port?: number | string; readonly endPort?: number }
type PortList = readonly NetworkPolicyPort[] | undefined;
interface NetworkPolicyIngressRule { readonly from?: readonly NetworkPolicyPeer[]; readonly ports?: readonly NetworkPolicyPort[] }
interface NetworkPolicyEgressRule { readonly to?: readonly NetworkPolicyPeer[]; readonly ports?: readonly NetworkPolicyPort[] }
interface NetworkPolicySpec {
  readonly podSelector: LabelSelector;
  readonly policyTypes?: readonly ('Ingress' | 'Egress')[];
  readonly ingress?: readonly NetworkPolicyIngressRule[];
  readonly egress?: readonly NetworkPolicyEgressRule[];
}
interface IstioSource { readonly [field: string]: readonly string[] | undefined }
interface IstioOperation { readonly [field: string]: readonly string[] | undefined }
interface IstioRule {
  readonly from?: readonly { readonly source?: IstioSource }[];
  readonly to?: readonly { readonly operation?: IstioOperation }[];
  readonly when?: unknown;
}
interface AuthorizationPolicySpec {
  readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> };
  readonly action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  readonly rules?: readonly IstioRule[];
  readonly targetRef?: unknown;
  readonly targetRefs?: unknown;
}

interface Obj {
  readonly kind?: unknown;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly spec?: unknown;
}
interface Parsed<S> { readonly name: string; readonly namespace: string; readonly spec: S }

function fail(message: string): never {
  throw new Error(message);
}

function objectsOf<S>(objects: readonly unknown[], kind: string): Parsed<S>[] {
  return (objects as readonly Obj[])
    .filter(o => o !== null && typeof o === 'object' && o.kind === kind)
    .map(o => ({ name: o.metadata?.name ?? '', namespace: o.metadata?.namespace ?? 'default', spec: (o.spec ?? {}) as S }));
}

// ---- Label selectors (apimachinery semantics) ----

/** Whether a label selector matches a label set: matchLabels AND every matchExpression. `{}` matches all. */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) {
      return false;
    }
  }
  return (selector.matchExpressions ?? []).every(e => requirementMatches(e, labels));
}

function requirementMatches(e: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, e.key);
  switch (e.operator) {
    case 'In': return has && (e.values ?? []).includes(labels[e.key]);
    case 'NotIn': return !has || !(e.values ?? []).includes(labels[e.key]);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    default: throw new Error(`unsupported label selector operator '${e.operator}'`);
  }
}

// ---- NetworkPolicy ----

/** Labels of each namespace: `kubernetes.io/metadata.name` (set by the API server) plus any Namespace object's labels. */
function namespaceLabels(objects: readonly unknown[], workloads: readonly Workload[]): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const w of workloads) {
    out.set(w.namespace, { 'kubernetes.io/metadata.name': w.namespace });
  }
  for (const o of objects as readonly Obj[]) {
    if (o && o.kind === 'Namespace' && o.metadata?.name) {
      out.set(o.metadata.name, { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name });
    }
  }
  return out;
}

/**
 * The policy types a NetworkPolicy affects. Unset (or empty), the API server defaults them to
 * Ingress, plus Egress when the policy has egress rules (`SetDefaults_NetworkPolicy`).
 */
export function policyTypesOf(spec: NetworkPolicySpec): ('Ingress' | 'Egress')[] {
  if (spec.policyTypes && spec.policyTypes.length > 0) {
    return [...spec.policyTypes];
  }
  return (spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** Precomputed NetworkPolicy state for one set of objects and workloads. */
export class NetworkPolicyEvaluator {
  private readonly policies: Parsed<NetworkPolicySpec>[];
  private readonly nsLabels: Map<string, Record<string, string>>;
  private readonly byId: Map<string, Workload>;
  private readonly selectingCache = new Map<string, Parsed<NetworkPolicySpec>[]>();

  constructor(objects: readonly unknown[], private readonly workloads: readonly Workload[]) {
    this.policies = objectsOf<NetworkPolicySpec>(objects, 'NetworkPolicy');
    this.nsLabels = namespaceLabels(objects, workloads);
    this.byId = new Map(workloads.map(w => [w.id, w]));
  }

  /** Whether a connection from `srcId` to `dstId` on `port`/`protocol` is allowed. */
  public allows(srcId: string, dstId: string, port: number, protocol: Protocol = 'TCP'): boolean {
    const src = this.workload(srcId);
    const dst = this.workload(dstId);
    return sideAllows(this.matchingPortLists(src, dst, 'Egress'), port, protocol, dst)
      && sideAllows(this.matchingPortLists(src, dst, 'Ingress'), port, protocol, dst);
  }

  /**
   * `srcId->dstId:port` for every allowed pair of distinct workloads and every candidate port.
   * `options.only` evaluates just one side (e.g. 'Egress': what the source's policies alone let out);
   * `options.from`/`options.to` restrict the sources/destinations (ids).
   */
  public flows(ports: readonly number[], options: FlowOptions = {}): Set<string> {
    const { protocol = 'TCP', only } = options;
    const pick = (ids: readonly string[] | undefined): Workload[] => ids ? ids.map(id => this.workload(id)) : [...this.workloads];
    const out = new Set<string>();
    for (const src of pick(options.from)) {
      for (const dst of pick(options.to)) {
        if (src.id === dst.id) {
          continue; // a pod can always reach itself; not a flow between workloads
        }
        // The port lists of the rules whose peers match, per direction (undefined: not isolated).
        const egress = only === 'Ingress' ? undefined : this.matchingPortLists(src, dst, 'Egress');
        const ingress = only === 'Egress' ? undefined : this.matchingPortLists(src, dst, 'Ingress');
        for (const port of ports) {
          if (sideAllows(egress, port, protocol, dst) && sideAllows(ingress, port, protocol, dst)) {
            out.add(`${src.id}->${dst.id}:${port}`);
          }
        }
      }
    }
    return out;
  }

  private workload(id: string): Workload {
    return this.byId.get(id) ?? fail(`unknown workload '${id}'`);
  }

  /** The policies in the pod's namespace that select it and affect `direction` (cached). */
  private selecting(pod: Workload, direction: 'Ingress' | 'Egress'): Parsed<NetworkPolicySpec>[] {
    const key = `${direction}|${pod.id}`;
    const found = this.selectingCache.get(key) ?? this.policies.filter(p => p.namespace === pod.namespace
      && policyTypesOf(p.spec).includes(direction) && selectorMatches(p.spec.podSelector ?? {}, pod.labels));
    this.selectingCache.set(key, found);
    return found;
  }

  /**
   * For the side that `direction` isolates (src for Egress, dst for Ingress): undefined when no
   * policy isolates it, else the port lists of every rule whose peers match the other side.
   */
  private matchingPortLists(src: Workload, dst: Workload, direction: 'Ingress' | 'Egress'): PortList[] | undefined {
    const [subject, other] = direction === 'Egress' ? [src, dst] : [dst, src];
    const policies = this.selecting(subject, direction);
    if (policies.length === 0) {
      return undefined;
    }
    const lists: PortList[] = [];
    for (const p of policies) {
      const rules = direction === 'Egress'
        ? (p.spec.egress ?? []).map(r => ({ peers: r.to, ports: r.ports }))
        : (p.spec.ingress ?? []).map(r => ({ peers: r.from, ports: r.ports }));
      for (const rule of rules) {
        if (this.peersMatch(rule.peers, p.namespace, other)) {
          lists.push(rule.ports);
        }
      }
    }
    return lists;
  }

  /** A missing or empty peer list matches everything; otherwise any one peer must match. */
  private peersMatch(peers: readonly NetworkPolicyPeer[] | undefined, policyNamespace: string, pod: Workload): boolean {
    return !peers || peers.length === 0 || peers.some(peer => this.peerMatches(peer, policyNamespace, pod));
  }

  private peerMatches(peer: NetworkPolicyPeer, policyNamespace: string, pod: Workload): boolean {
    if (peer.ipBlock !== undefined) {
      return false; // addresses, not pods: treated as matching no pod
    }
    if (peer.podSelector === undefined && peer.namespaceSelector === undefined) {
      throw new Error(`a NetworkPolicy peer needs podSelector, namespaceSelector or ipBlock (got ${JSON.stringify(peer)})`);
    }
    const nsOk = peer.namespaceSelector === undefined
      ? pod.namespace === policyNamespace
      : selectorMatches(peer.namespaceSelector, this.nsLabels.get(pod.namespace) ?? { 'kubernetes.io/metadata.name': pod.namespace });
    return nsOk && (peer.podSelector === undefined || selectorMatches(peer.podSelector, pod.labels));
  }
}

/** One side allows a port when it is not isolated (undefined) or some matching rule's ports match. */
function sideAllows(lists: PortList[] | undefined, port: number, protocol: Protocol, dst: Workload): boolean {
  return lists === undefined || lists.some(l => portsMatch(l, port, protocol, dst));
}

/** A missing or empty port list matches every port; a port entry defaults to TCP and any port number. */
function portsMatch(ports: PortList, port: number, protocol: Protocol, dst: Workload): boolean {
  return !ports || ports.length === 0 || ports.some(p => (p.protocol ?? 'TCP') === protocol && (
    p.port === undefined
    || (typeof p.port === 'string' ? dst.namedPorts?.[p.port] === port // a named port resolves on the destination pod
      : p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port)));
}

/** Every allowed `srcId->dstId:port` among distinct workloads over the candidate ports (TCP by default). */
export function networkFlows(objects: readonly unknown[], workloads: readonly Workload[], ports: readonly number[], protocol: Protocol = 'TCP'): Set<string> {
  return new NetworkPolicyEvaluator(objects, workloads).flows(ports, { protocol });
}

/** Whether NetworkPolicies allow one connection. */
export function networkAllows(objects: readonly unknown[], workloads: readonly Workload[], srcId: string, dstId: string, port: number, protocol: Protocol = 'TCP'): boolean {
  return new NetworkPolicyEvaluator(objects, workloads).allows(srcId, dstId, port, protocol);
}

// ---- Istio AuthorizationPolicy ----

/** A workload's SPIFFE principal as Istio writes it: `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
export function principalOf(w: Workload, trustDomain = 'cluster.local'): string {
  return `${trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`;
}

/** Istio string match: `*` (any non-empty), `prefix*`, `*suffix`, or exact. */
export function istioStringMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) {
    return false;
  }
  if (pattern === '*') {
    return value.length > 0;
  }
  if (pattern.endsWith('*')) {
    return value.startsWith(pattern.slice(0, -1));
  }
  if (pattern.startsWith('*')) {
    return value.endsWith(pattern.slice(1));
  }
  return value === pattern;
}

/** Istio path match: a path with `{*}`/`{**}` is an Envoy URI template; otherwise an Istio string match. */
export function istioPathMatches(pattern: string, path: string | undefined): boolean {
  if (path === undefined) {
    return false;
  }
  if (!pattern.includes('{*}') && !pattern.includes('{**}')) {
    return istioStringMatches(pattern, path);
  }
  const want = pattern.split('/');
  const got = path.split('/');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '{**}') {
      return i === want.length - 1 && got.length > i && got.slice(i).every(s => s.length > 0); // one or more segments
    }
    if (i >= got.length || (want[i] === '{*}' ? got[i].length === 0 : want[i] !== got[i])) {
      return false;
    }
  }
  return got.length === want.length;
}

const SOURCE_FIELDS = new Set(['principals', 'notPrincipals', 'namespaces', 'notNamespaces']);
const OPERATION_FIELDS = new Set(['ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths']);
const HTTP_ONLY = new Set(['methods', 'notMethods', 'paths', 'notPaths']);

function namespaceOfPrincipal(principal: string | undefined): string | undefined {
  return principal?.match(/\/ns\/([^/]+)\/sa\//)?.[1];
}

/** One field of a source/operation: `values` (any may match) or `notValues` (none may match). */
function fieldMatches(field: string, values: readonly string[], value: string | undefined, path: boolean): boolean {
  const negated = field.startsWith('not');
  const any = values.some(v => path ? istioPathMatches(v, value) : istioStringMatches(v, value));
  return negated ? !any : any;
}

function sourceMatches(source: IstioSource, request: IstioRequest): boolean {
  return Object.entries(source).every(([field, values]) => {
    if (!SOURCE_FIELDS.has(field)) {
      throw new Error(`AuthorizationPolicy source field '${field}' is not modelled by the evaluator`);
    }
    const value = field.toLowerCase().includes('principals') ? request.principal : namespaceOfPrincipal(request.principal);
    return fieldMatches(field, values ?? [], value, false);
  });
}

/**
 * HTTP-only fields on plain TCP traffic: an ALLOW rule that uses them never matches, a DENY rule
 * ignores them (both make the result stricter), as Istio documents.
 */
function operationMatches(operation: IstioOperation, request: IstioRequest, action: 'ALLOW' | 'DENY'): boolean {
  return Object.entries(operation).every(([field, values]) => {
    if (!OPERATION_FIELDS.has(field)) {
      throw new Error(`AuthorizationPolicy operation field '${field}' is not modelled by the evaluator`);
    }
    if (HTTP_ONLY.has(field) && request.method === undefined) {
      return action === 'DENY';
    }
    const value = field.toLowerCase().includes('port') ? String(request.port)
      : field.toLowerCase().includes('method') ? request.method : request.path;
    return fieldMatches(field, values ?? [], value, field.toLowerCase().includes('path'));
  });
}

/** A rule matches when any `from` source matches AND any `to` operation matches; a missing list matches all. */
function ruleMatches(rule: IstioRule, request: IstioRequest, action: 'ALLOW' | 'DENY'): boolean {
  if (rule.when !== undefined) {
    throw new Error('AuthorizationPolicy `when` conditions are not modelled by the evaluator');
  }
  const fromOk = !rule.from || rule.from.length === 0 || rule.from.some(f => sourceMatches(f.source ?? {}, request));
  const toOk = !rule.to || rule.to.length === 0 || rule.to.some(t => operationMatches(t.operation ?? {}, request, action));
  return fromOk && toOk;
}

/** The AuthorizationPolicies that apply to a workload: its namespace's and the root namespace's, by selector. */
export function applicableAuthorizationPolicies(
  objects: readonly unknown[], dst: Workload, options: IstioOptions = {}): Parsed<AuthorizationPolicySpec>[] {
  const root = options.rootNamespace ?? 'istio-system';
  return objectsOf<AuthorizationPolicySpec>(objects, 'AuthorizationPolicy').filter(p => {
    if (p.spec.targetRef !== undefined || p.spec.targetRefs !== undefined) {
      throw new Error(`AuthorizationPolicy ${p.namespace}/${p.name}: targetRef(s) are not modelled by the evaluator`);
    }
    const inScope = p.namespace === dst.namespace || p.namespace === root;
    return inScope && selectorMatches({ matchLabels: p.spec.selector?.matchLabels }, dst.labels);
  });
}

/**
 * Whether Istio admits `request` into workload `dstId`: a matching DENY denies; else when any
 * ALLOW policy applies, some ALLOW rule must match (no rules = allow nothing); else allow.
 */
export function istioAllows(
  objects: readonly unknown[], workloads: readonly Workload[], dstId: string, request: IstioRequest, options: IstioOptions = {}): boolean {
  const dst = workloads.find(w => w.id === dstId) ?? fail(`unknown workload '${dstId}'`);
  const policies = applicableAuthorizationPolicies(objects, dst, options);
  const action = (p: Parsed<AuthorizationPolicySpec>): string => p.spec.action ?? 'ALLOW';
  if (policies.some(p => action(p) === 'CUSTOM')) {
    throw new Error('CUSTOM AuthorizationPolicies are not modelled by the evaluator');
  }
  const denies = policies.filter(p => action(p) === 'DENY');
  if (denies.some(p => (p.spec.rules ?? []).some(r => ruleMatches(r, request, 'DENY')))) {
    return false;
  }
  const allows = policies.filter(p => action(p) === 'ALLOW');
  if (allows.length === 0) {
    return true;
  }
  return allows.some(p => (p.spec.rules ?? []).some(r => ruleMatches(r, request, 'ALLOW')));
}
