import { Finding, FindingSeverity } from './finding';
import { cidrContains } from '../analysis/cidr';
import { EffectiveAccess } from '../analysis/effective-access';
import { LabelSelector, matchesSelector } from '../analysis/label-selector';
import { field, KubeObject, list, objectRef } from '../analysis/manifest';
import { portMatches } from '../analysis/network-policy-semantics';
import { Workload } from '../analysis/workload';

/** What the posture checks need to know about the platform. */
export interface PostureContext {
  readonly rootNamespace: string;
  readonly quarantineLabel: string;
  /** Ids of the platform workloads added for the checks (DNS, istiod), which are not judged themselves. */
  readonly platformIds: { readonly dns: string; readonly istiod: string };
  /** Labels of the ingress gateway pods: the one ALLOW without `from` that is expected. */
  readonly gatewayLabels: Readonly<Record<string, string>>;
}

const MUST = FindingSeverity.MUST.name;
const SHOULD = FindingSeverity.SHOULD.name;
const IMDS = '169.254.169.254';

/**
 * Checks the controls of controls.md that can be seen in Kubernetes objects: default deny
 * (NET-01), DNS (NET-02), IMDS (NET-04), STRICT mTLS (IST-01), allow-nothing (IST-02), positive
 * ALLOW by principal (IST-03) and quarantine wiring (IR-02, IR-03).
 */
export function postureFindings(objects: readonly KubeObject[], access: EffectiveAccess, ctx: PostureContext): Finding[] {
  const findings: Finding[] = [];
  const platform = new Set([ctx.platformIds.dns, ctx.platformIds.istiod]);
  const workloads = access.workloads.filter(w => !platform.has(w.id));
  const nps = objects.filter(o => o.kind === 'NetworkPolicy');
  const aps = objects.filter(o => o.kind === 'AuthorizationPolicy');
  const pas = objects.filter(o => o.kind === 'PeerAuthentication');
  const namespaces = [...new Set(workloads.map(w => w.namespace))].sort();

  for (const ns of namespaces) {
    const denyAll = nps.some(o => o.metadata?.namespace === ns && isDefaultDeny(o));
    if (!denyAll) {
      findings.push({ control: 'NET-01', severity: MUST, subject: `namespace ${ns}`, message: 'has no default-deny NetworkPolicy for Ingress and Egress', fix: 'add a NetworkPolicy with podSelector: {}, policyTypes: [Ingress, Egress] and no rules' });
    }
    const nsAllowNothing = aps.some(o => (o.metadata?.namespace === ns || o.metadata?.namespace === ctx.rootNamespace) && isAllowNothing(o));
    if (!nsAllowNothing) {
      findings.push({ control: 'IST-02', severity: MUST, subject: `namespace ${ns}`, message: 'is not default-deny for Istio: no allow-nothing AuthorizationPolicy applies', fix: `add an AuthorizationPolicy with spec: {} in ${ctx.rootNamespace} (mesh-wide) or in ${ns}` });
    }
  }

  for (const w of workloads) {
    const fromEverything = w.ports.filter(p => access.decide('external', w.id, p.port, p.protocol ?? 'TCP').network.allowed).map(p => p.port);
    if (fromEverything.length > 0) {
      findings.push({
        control: 'NET-01',
        severity: MUST,
        subject: `workload ${w.id}`,
        message: `is reachable from everything at the network layer on port ${[...new Set(fromEverything)].join(', ')} (its ingress is not isolated, or a rule admits every source)`,
        fix: 'isolate its ingress with a default deny and allow only named callers',
      });
    }
    const fromEveryPod = w.ports.filter(p => !fromEverything.includes(p.port) && ingressFromEveryPod(nps, w, p.port, p.protocol ?? 'TCP')).map(p => p.port);
    if (fromEveryPod.length > 0) {
      findings.push({
        control: 'NET-01',
        severity: MUST,
        subject: `workload ${w.id}`,
        message: `is reachable from every pod in the cluster on port ${[...new Set(fromEveryPod)].join(', ')} (an ingress rule with namespaceSelector: {} and no podSelector)`,
        fix: 'name the calling namespaces and pods in one peer (namespaceSelector AND podSelector)',
      });
    }
    if (!access.isEgressIsolated(w.id)) {
      findings.push({ control: 'NET-01', severity: MUST, subject: `workload ${w.id}`, message: 'has wide-open egress: no NetworkPolicy isolates it, so it can reach anything, the instance metadata service included', fix: 'isolate its egress with a default deny and allow only the destinations it needs' });
    } else if (egressCoversImds(nps, w)) {
      findings.push({ control: 'NET-04', severity: MUST, subject: `workload ${w.id}`, message: `can reach the instance metadata service (${IMDS}) through an egress rule`, fix: `remove the rule, or add ${IMDS}/32 to its ipBlock.except` });
    }
    for (const [dst, port, protocol] of [[ctx.platformIds.dns, 53, 'UDP'], [ctx.platformIds.dns, 53, 'TCP'], [ctx.platformIds.istiod, 15012, 'TCP']] as const) {
      if (w.meshed === false && dst === ctx.platformIds.istiod) {
        continue;
      }
      if (!access.decide(w.id, dst, port, protocol).network.allowed) {
        findings.push({ control: dst === ctx.platformIds.dns ? 'NET-02' : 'NET-01', severity: MUST, subject: `workload ${w.id}`, message: `cannot reach ${dst === ctx.platformIds.dns ? 'cluster DNS' : 'istiod'} on ${protocol} ${port}: the platform traffic it needs is blocked`, fix: `allow egress to ${dst === ctx.platformIds.dns ? 'kube-dns on UDP and TCP 53' : 'istiod on TCP 15012'}` });
      }
    }
    if (w.meshed === false) {
      findings.push({ control: 'IST-01', severity: MUST, subject: `workload ${w.id}`, message: 'has no sidecar, so it sends and accepts plaintext without an identity', fix: 'enable injection on its namespace (istio-injection=enabled)' });
      continue;
    }
    for (const p of w.ports.filter(x => (x.protocol ?? 'TCP') === 'TCP')) {
      const mode = access.decide('external', w.id, p.port).mtlsMode;
      if (mode !== 'STRICT') {
        findings.push({ control: 'IST-01', severity: MUST, subject: `workload ${w.id}`, message: `accepts ${mode} mTLS on port ${p.port}, so plaintext connections are accepted`, fix: `set a STRICT PeerAuthentication mesh-wide in ${ctx.rootNamespace} and remove PERMISSIVE/DISABLE overrides` });
      }
    }
  }

  if (!pas.some(o => o.metadata?.namespace === ctx.rootNamespace && field(o.spec, 'selector') === undefined && field(o.spec, 'mtls', 'mode') === 'STRICT')) {
    findings.push({ control: 'IST-01', severity: MUST, subject: `namespace ${ctx.rootNamespace}`, message: 'has no mesh-wide STRICT PeerAuthentication', fix: `add a PeerAuthentication without selector in ${ctx.rootNamespace} with mtls.mode STRICT` });
  }
  for (const o of pas) {
    const modes = [field<string>(o.spec, 'mtls', 'mode'), ...Object.values(field<Record<string, { mode?: string }>>(o.spec, 'portLevelMtls') ?? {}).map(v => v?.mode)];
    const weak = modes.filter(m => m === 'PERMISSIVE' || m === 'DISABLE');
    if (weak.length > 0) {
      findings.push({ control: 'IST-01', severity: MUST, subject: objectRef(o), message: `sets ${[...new Set(weak)].join(' and ')} mTLS`, fix: 'use STRICT (also in portLevelMtls)' });
    }
  }
  for (const o of aps) {
    findings.push(...allowPolicyFindings(o, ctx));
  }
  findings.push(...quarantineFindings(nps, aps, ctx));
  return findings;
}

function isDefaultDeny(o: KubeObject): boolean {
  const sel = field<Record<string, unknown>>(o.spec, 'podSelector') ?? {};
  const types = field<string[]>(o.spec, 'policyTypes') ?? [];
  return Object.keys(sel).every(k => (Array.isArray(sel[k]) ? (sel[k] as unknown[]).length === 0 : Object.keys(sel[k] as object ?? {}).length === 0))
    && types.includes('Ingress') && types.includes('Egress')
    && list(o.spec, 'ingress').length === 0 && list(o.spec, 'egress').length === 0;
}

function isAllowNothing(o: KubeObject): boolean {
  return field(o.spec, 'selector') === undefined && (field<string>(o.spec, 'action') ?? 'ALLOW') === 'ALLOW' && list(o.spec, 'rules').length === 0
    && field(o.spec, 'targetRef') === undefined && list(o.spec, 'targetRefs').length === 0;
}

/** Whether an ingress rule of a policy selecting the workload admits every pod of every namespace on this port. */
function ingressFromEveryPod(nps: KubeObject[], w: Workload, port: number, protocol: string): boolean {
  const selecting = nps.filter(o => o.metadata?.namespace === w.namespace && matchesSelector(field<LabelSelector>(o.spec, 'podSelector'), w.labels));
  const empty = (sel: unknown) => sel === undefined || (typeof sel === 'object' && sel !== null && Object.values(sel).every(v => (Array.isArray(v) ? v.length === 0 : Object.keys(v ?? {}).length === 0)));
  return selecting.some(o => list<Record<string, unknown>>(o.spec, 'ingress').some(rule => {
    const ports = list<{ port?: number | string; endPort?: number; protocol?: string }>(rule, 'ports')
      .map(x => ({ protocol: x.protocol ?? 'TCP', port: x.port, endPort: x.endPort }));
    return portMatches(ports.length === 0 ? undefined : ports, port, protocol, w) && list<Record<string, unknown>>(rule, 'from').some(peer => peer.namespaceSelector !== undefined && empty(peer.namespaceSelector) && empty(peer.podSelector));
  }));
}

/** Whether an egress rule of a policy selecting the workload admits the metadata address. */
function egressCoversImds(nps: KubeObject[], w: Workload): boolean {
  const selecting = nps.filter(o => o.metadata?.namespace === w.namespace && matchesSelector(field<LabelSelector>(o.spec, 'podSelector'), w.labels));
  return selecting.some(o => list<Record<string, unknown>>(o.spec, 'egress').some(rule => {
    const to = list<Record<string, unknown>>(rule, 'to');
    return to.length === 0 || to.some(peer => {
      const cidr = field<string>(peer, 'ipBlock', 'cidr');
      const except = list<string>(peer, 'ipBlock', 'except');
      return cidr !== undefined && cidrContains(cidr, IMDS) && !except.some(e => cidrContains(e, IMDS));
    });
  }));
}

function allowPolicyFindings(o: KubeObject, ctx: PostureContext): Finding[] {
  const out: Finding[] = [];
  const action = field<string>(o.spec, 'action') ?? 'ALLOW';
  if (action !== 'ALLOW') {
    return out;
  }
  const selector = field<Record<string, string>>(o.spec, 'selector', 'matchLabels');
  const isGateway = selector !== undefined && Object.entries(ctx.gatewayLabels).every(([k, v]) => selector[k] === v);
  for (const [i, rule] of list<Record<string, unknown>>(o.spec, 'rules').entries()) {
    const sources = list<Record<string, unknown>>(rule, 'from').map(f => (field<Record<string, unknown>>(f, 'source') ?? {}));
    if (sources.length === 0 && !isGateway) {
      out.push({ control: 'IST-03', severity: MUST, subject: objectRef(o), message: `rule ${i} has no 'from', so it admits every caller`, fix: 'name the callers with source.principals' });
    }
    for (const s of sources) {
      const principals = (s.principals as string[] | undefined) ?? [];
      if (principals.some(p => p === '*' || p.startsWith('*') || p.endsWith('*'))) {
        out.push({ control: 'IST-03', severity: MUST, subject: objectRef(o), message: `rule ${i} admits a wildcard principal (${principals.filter(p => p.includes('*')).join(', ')})`, fix: 'list the exact principals <trustDomain>/ns/<ns>/sa/<sa>' });
      } else if (principals.length === 0 && !isGateway) {
        out.push({ control: 'IST-03', severity: MUST, subject: objectRef(o), message: `rule ${i} matches sources without naming principals`, fix: 'authorize by source.principals, not by namespace or IP' });
      }
      const negative = Object.keys(s).filter(k => k.startsWith('not'));
      if (negative.length > 0) {
        out.push({ control: 'IST-03', severity: MUST, subject: objectRef(o), message: `rule ${i} uses negative matches (${negative.join(', ')}) in an ALLOW policy`, fix: 'use positive matches in ALLOW and negative ones only in DENY' });
      }
    }
  }
  return out;
}

function quarantineFindings(nps: KubeObject[], aps: KubeObject[], ctx: PostureContext): Finding[] {
  const out: Finding[] = [];
  const excludes = (selector: unknown) => list<{ key: string; operator: string }>(selector, 'matchExpressions').some(e => e.key === ctx.quarantineLabel && e.operator === 'DoesNotExist');
  for (const o of nps) {
    const rules = [...list<Record<string, unknown>>(o.spec, 'ingress'), ...list<Record<string, unknown>>(o.spec, 'egress')];
    if (rules.length === 0) {
      continue;
    }
    const peers = rules.flatMap(r => [...list<Record<string, unknown>>(r, 'from'), ...list<Record<string, unknown>>(r, 'to')]).filter(p => field(p, 'ipBlock') === undefined);
    if (!excludes(field(o.spec, 'podSelector')) || peers.some(p => !excludes(field(p, 'podSelector')))) {
      out.push({ control: 'IR-02', severity: MUST, subject: objectRef(o), message: `allows traffic for pods that carry the quarantine label '${ctx.quarantineLabel}', so quarantine would not isolate them (NetworkPolicies are additive)`, fix: `add matchExpressions [{key: ${ctx.quarantineLabel}, operator: DoesNotExist}] to podSelector and to every peer's podSelector` });
    }
  }
  const meshDeny = aps.some(o => o.metadata?.namespace === ctx.rootNamespace && field(o.spec, 'action') === 'DENY' && field(o.spec, 'selector', 'matchLabels', ctx.quarantineLabel) === 'true');
  if (!meshDeny) {
    out.push({ control: 'IR-03', severity: SHOULD, subject: `namespace ${ctx.rootNamespace}`, message: 'has no mesh-wide DENY for quarantined pods', fix: `add an AuthorizationPolicy with action DENY, selector {${ctx.quarantineLabel}: "true"} and rules: [{}] in ${ctx.rootNamespace}` });
  }
  return out;
}
