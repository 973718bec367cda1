import { matchesIstioSelector } from './label-selector';
import { field, KubeObject, objectRef } from './manifest';
import { Workload } from './workload';
import { addTo } from '../util/multimap';

/** A PeerAuthentication, read once. */
export interface ParsedPeerAuthentication {
  readonly ref: string;
  readonly namespace: string;
  readonly selector?: Record<string, string>;
  /** STRICT, PERMISSIVE, DISABLE, or UNSET (inherit). */
  readonly mode: string;
  /** Target port -> mode; honoured only on a policy with a selector. */
  readonly portModes: Record<string, string>;
}

/** The effective mTLS mode of a workload port, and the policy that set it. */
export interface MtlsDecision {
  readonly mode: string;
  readonly policy?: string;
}

/** Reads a PeerAuthentication. */
export function parsePeerAuthentication(o: KubeObject): ParsedPeerAuthentication {
  const portLevel = field<Record<string, { mode?: string }>>(o.spec, 'portLevelMtls') ?? {};
  return {
    ref: objectRef(o),
    namespace: o.metadata?.namespace ?? 'default',
    selector: field<Record<string, string>>(o.spec, 'selector', 'matchLabels'),
    mode: field<string>(o.spec, 'mtls', 'mode') ?? 'UNSET',
    portModes: Object.fromEntries(Object.entries(portLevel).map(([port, v]) => [port, v?.mode ?? 'UNSET'])),
  };
}

/**
 * mTLS precedence: a workload-specific policy wins over the namespace-wide one, which wins over
 * the mesh-wide one in the root namespace; UNSET inherits from the next level; port-level modes
 * apply only with a selector; with nothing set, Istio's default is PERMISSIVE
 * (istio.io/latest/docs/reference/config/security/peer_authentication/).
 */
export class PeerAuthenticationLayer {
  private readonly byNamespace = new Map<string, ParsedPeerAuthentication[]>();

  constructor(policies: ParsedPeerAuthentication[], private readonly rootNamespace: string) {
    // Istio picks the oldest of competing policies; manifests carry no age, so name order stands in.
    for (const p of [...policies].sort((a, b) => (a.ref < b.ref ? -1 : 1))) {
      addTo(this.byNamespace, p.namespace, p);
    }
  }

  /** The mode that applies to traffic into `dst` on `port`. */
  public decide(dst: Workload, port: number): MtlsDecision {
    const local = this.byNamespace.get(dst.namespace) ?? [];
    const workload = local.find(p => p.selector !== undefined && matchesIstioSelector(p.selector, dst.labels));
    const namespace = local.find(p => p.selector === undefined);
    const mesh = (this.byNamespace.get(this.rootNamespace) ?? []).find(p => p.selector === undefined);
    const portMode = workload?.portModes[String(port)];
    if (workload && portMode !== undefined && portMode !== 'UNSET') {
      return { mode: portMode, policy: workload.ref };
    }
    for (const p of [workload, namespace, mesh]) {
      if (p && p.mode !== 'UNSET') {
        return { mode: p.mode, policy: p.ref };
      }
    }
    return { mode: 'PERMISSIVE' };
  }
}
