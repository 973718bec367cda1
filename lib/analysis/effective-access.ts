import { AuthorizationLayer, MeshDecision, parseAuthorizationPolicy } from './authorization-semantics';
import { KubeObject } from './manifest';
import { AdmittedCidr, EgressAllowance, EXTERNAL, IngressRule, NetworkDecision, NetworkPolicyLayer, parseNetworkPolicy } from './network-policy-semantics';
import { parsePeerAuthentication, PeerAuthenticationLayer } from './peer-authentication-semantics';
import { isHttpPort, namespacesOf, Workload, WorkloadPort, workloadsOf } from './workload';
import { addTo } from '../util/multimap';

/** Options of an effective-access analysis. */
export interface EffectiveAccessOptions {
  /**
   * The mesh root namespace: AuthorizationPolicies and PeerAuthentications there apply mesh-wide.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * The trust domain of workload principals.
   * @default 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The workloads to decide flows between.
   * @default - one per Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and CronJob in the manifests
   */
  readonly workloads?: Workload[];
}

/** The decision of the NetworkPolicy layer. */
export interface NetworkLayerDecision {
  readonly allowed: boolean;
  /** The allowing policies, or the isolating ones when denied. */
  readonly policies: string[];
}

/** The decision of the Istio layer. */
export interface MeshLayerDecision {
  /** False when the destination has no sidecar or the protocol bypasses the proxy (UDP). */
  readonly enforced: boolean;
  readonly allowed: boolean;
  readonly policies: string[];
  /** Allowed requests: ['*'] for any, else canonical restrictions like 'methods=POST paths=/charge'. */
  readonly requests: string[];
  /** Requests DENY policies carve out. */
  readonly deniedRequests: string[];
  /** A CUSTOM policy (external authorizer) also decides. */
  readonly external: boolean;
}

/** Everything the analysis knows about one (source, destination, port). */
export interface FlowDecision {
  /** Source workload id, or 'external' for the outside world. */
  readonly source: string;
  readonly destination: string;
  readonly port: number;
  readonly protocol: string;
  readonly network: NetworkLayerDecision;
  readonly mesh: MeshLayerDecision;
  /** STRICT, PERMISSIVE or DISABLE. */
  readonly mtlsMode: string;
  /** The PeerAuthentication that set the mode, if any. */
  readonly mtlsPolicy?: string;
  /** Whether a connection succeeds: both layers allow, and STRICT mTLS is met. */
  readonly allowed: boolean;
}

/**
 * Effective access between workloads, re-derived from Kubernetes and Istio objects alone:
 * NetworkPolicy, AuthorizationPolicy and PeerAuthentication semantics, each cited where it is
 * implemented. Use `flows()` for every flow open at either layer, `decide()` for one.
 */
export class EffectiveAccess {
  /**
   * Analyzes parsed objects.
   * @internal
   */
  public static _fromObjects(objects: readonly KubeObject[], options: EffectiveAccessOptions = {}): EffectiveAccess {
    return new EffectiveAccess(objects, options);
  }

  /** The workloads analyzed. */
  public readonly workloads: Workload[];
  private readonly byId = new Map<string, Workload>();
  private readonly byPrincipal = new Map<string, string[]>();
  private readonly network: NetworkPolicyLayer;
  private readonly authz: AuthorizationLayer;
  private readonly mtls: PeerAuthenticationLayer;
  private readonly trustDomain: string;

  private constructor(objects: readonly KubeObject[], options: EffectiveAccessOptions) {
    const root = options.rootNamespace ?? 'istio-system';
    this.trustDomain = options.trustDomain ?? 'cluster.local';
    const declaredNamespaces = (options.workloads ?? []).map(w => w.namespace);
    const namespaces = namespacesOf(objects, declaredNamespaces);
    this.workloads = options.workloads ?? workloadsOf(objects, namespaces);
    for (const w of this.workloads) {
      if (this.byId.has(w.id) || w.id === EXTERNAL) {
        throw new Error(`EffectiveAccess: workload id '${w.id}' is used twice or reserved; give every workload a unique id`);
      }
      this.byId.set(w.id, w);
      const principal = this.principalOf(w);
      if (principal) {
        addTo(this.byPrincipal, principal, w.id);
      }
    }
    const ofKind = (kind: string) => objects.filter(o => o.kind === kind);
    this.network = new NetworkPolicyLayer(ofKind('NetworkPolicy').map(parseNetworkPolicy), this.workloads, namespaces);
    this.authz = new AuthorizationLayer(ofKind('AuthorizationPolicy').filter(isIstioSecurity).map(parseAuthorizationPolicy), root);
    this.mtls = new PeerAuthenticationLayer(ofKind('PeerAuthentication').filter(isIstioSecurity).map(parsePeerAuthentication), root);
  }

  /** The principal a workload presents: none without a sidecar. */
  public principalOf(w: Workload): string | undefined {
    return w.meshed === false ? undefined : `${this.trustDomain}/ns/${w.namespace}/sa/${w.serviceAccountName}`;
  }

  /** Whether some NetworkPolicy isolates the workload's egress. */
  public isEgressIsolated(id: string): boolean {
    return this.network.isEgressIsolated(this.workload(id).id);
  }

  /**
   * The ipBlock CIDRs admitted into `destination` on this port by NetworkPolicy, with the
   * admitting policy; undefined when every source is admitted.
   * @internal
   */
  public _ingressCidrs(destination: string, port: number, protocol = 'TCP'): AdmittedCidr[] | undefined {
    return this.network.ingressCidrs(this.workload(destination).id, port, protocol);
  }

  /**
   * The egress rules that apply to a workload's pods; undefined when their egress is not isolated.
   * @internal
   */
  public _egressAllowances(source: string): EgressAllowance[] | undefined {
    return this.network.egressAllowances(this.workload(source).id);
  }

  /**
   * The ingress rules of a workload that admit this port, with their peers; undefined when its
   * ingress is not isolated.
   * @internal
   */
  public _ingressRulesOn(destination: string, port: number, protocol = 'TCP'): Array<{ policy: string; peers?: ReadonlySet<string> }> | undefined {
    return this.network.ingressRulesOn(this.workload(destination).id, port, protocol);
  }

  /**
   * Every ingress rule that applies to a workload's pods, on any port, with its peers and port
   * specs; undefined when their ingress is not isolated.
   * @internal
   */
  public _ingressRules(destination: string): IngressRule[] | undefined {
    return this.network.ingressRules(this.workload(destination).id);
  }

  /** Decides one flow. `source` may be 'external'. */
  public decide(source: string, destination: string, port: number, protocol = 'TCP'): FlowDecision {
    const dst = this.workload(destination);
    const src = source === EXTERNAL ? undefined : this.workload(source);
    const network: NetworkDecision = this.network.decide(source, destination, port, protocol);
    const dstPort: WorkloadPort | undefined = dst.ports.find(p => p.port === port && (p.protocol ?? 'TCP') === protocol);
    const meshed = dst.meshed !== false;
    const { mode, policy } = meshed ? this.mtls.decide(dst, port) : { mode: 'DISABLE', policy: undefined };
    const plaintext = src === undefined || src.meshed === false;
    const enforced = meshed && protocol === 'TCP';
    const meshDecision: MeshDecision = enforced
      ? this.authz.decide({ principal: plaintext ? undefined : this.principalOf(src!), ip: src?.ip }, dst, port, isHttpPort(dstPort))
      : { allowed: true, policies: [], requests: ['*'], deniedRequests: [], external: false };
    // STRICT rejects plaintext: a source without a sidecar cannot connect (PeerAuthentication STRICT).
    const mtlsOk = !(enforced && mode === 'STRICT' && plaintext);
    return {
      source,
      destination,
      port,
      protocol,
      network: { allowed: network.allowed, policies: network.policies },
      mesh: { enforced, ...meshDecision },
      mtlsMode: mode,
      mtlsPolicy: policy,
      allowed: network.allowed && meshDecision.allowed && mtlsOk,
    };
  }

  /**
   * Every (source, destination, port) open at either layer, sorted, over the destinations'
   * declared ports. Candidates come from the policies themselves (ingress peers, ALLOW
   * principals), so the cost follows what is open rather than the square of the workloads.
   * @param destinations only these destinations (default: every workload)
   */
  public flows(destinations?: string[]): FlowDecision[] {
    const out: FlowDecision[] = [];
    const wanted = destinations === undefined ? this.workloads : destinations.map(id => this.workload(id));
    for (const dst of wanted) {
      for (const p of dst.ports) {
        const protocol = p.protocol ?? 'TCP';
        for (const source of this.candidates(dst, p.port, protocol)) {
          if (source === dst.id) {
            continue;
          }
          const d = this.decide(source, dst.id, p.port, protocol);
          if (d.network.allowed || (d.mesh.enforced && d.mesh.allowed)) {
            out.push(d);
          }
        }
      }
    }
    const keyed = out.map(f => ({ f, k: flowKey(f) }));
    keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    return keyed.map(x => x.f);
  }

  private candidates(dst: Workload, port: number, protocol: string): Set<string> {
    const all = () => new Set([EXTERNAL, ...this.workloads.map(w => w.id)]);
    const net = this.network.ingressSources(dst.id, port, protocol);
    if (net === undefined) {
      return all();
    }
    const out = new Set(net);
    if (dst.meshed === false || protocol !== 'TCP') {
      return out;
    }
    const allows = this.authz.applicable(dst).filter(p => p.action === 'ALLOW');
    if (allows.length === 0) {
      return all();
    }
    for (const rule of allows.flatMap(p => p.rules)) {
      const sources = rule.from?.map(f => f.source ?? {});
      if (sources === undefined || sources.some(s => s.principals === undefined)) {
        return all();
      }
      for (const principal of sources.flatMap(s => s.principals ?? [])) {
        if (principal.includes('*')) {
          return all();
        }
        (this.byPrincipal.get(principal) ?? []).forEach(id => out.add(id));
      }
    }
    return out;
  }

  private workload(id: string): Workload {
    const w = this.byId.get(id);
    if (!w) {
      throw new Error(`EffectiveAccess: no workload '${id}' (have ${[...this.byId.keys()].slice(0, 10).join(', ')}...)`);
    }
    return w;
  }
}

function isIstioSecurity(o: KubeObject): boolean {
  return (o.apiVersion ?? '').startsWith('security.istio.io/');
}

function flowKey(f: FlowDecision): string {
  return `${f.source}\u0000${f.destination}\u0000${String(f.port).padStart(5, '0')}\u0000${f.protocol}`;
}
