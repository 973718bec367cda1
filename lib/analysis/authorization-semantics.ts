import { cidrContains } from './cidr';
import { istioPathMatch, istioStringMatch, listMatches } from './istio-match';
import { matchesIstioSelector } from './label-selector';
import { field, KubeObject, list, objectRef } from './manifest';
import { Workload } from './workload';
import { addTo } from '../util/multimap';

interface Source {
  principals?: string[];
  notPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}
interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}
interface Condition { key: string; values?: string[]; notValues?: string[] }
interface Rule { from?: { source?: Source }[]; to?: { operation?: Operation }[]; when?: Condition[] }

/** An AuthorizationPolicy, read once. */
export interface ParsedAuthorizationPolicy {
  readonly ref: string;
  readonly namespace: string;
  readonly selector?: Record<string, string>;
  readonly action: string;
  readonly rules: Rule[];
  /** Policies attached by targetRef apply to gateways and waypoints, not to sidecars. */
  readonly targeted: boolean;
}

/** Who sends a request, as the destination's sidecar sees it. */
export interface RequestSource {
  /** The mTLS peer principal; undefined for plaintext. */
  readonly principal?: string;
  readonly ip?: string;
}

/** The decision of the Istio layer for a source, destination and port, for every request. */
export interface MeshDecision {
  /** Whether any request may pass. */
  readonly allowed: boolean;
  /** The policies that decided. */
  readonly policies: string[];
  /**
   * The requests allowed, as canonical restrictions ('*' = any request; else e.g.
   * 'methods=POST paths=/charge'), sorted. Empty when denied.
   */
  readonly requests: string[];
  /** Restrictions that DENY policies carve out of what is allowed, sorted. */
  readonly deniedRequests: string[];
  /** A CUSTOM (external authorizer) policy also decides: allowed requests may still be refused. */
  readonly external: boolean;
}

/** Reads an AuthorizationPolicy; an absent action is ALLOW. */
export function parseAuthorizationPolicy(o: KubeObject): ParsedAuthorizationPolicy {
  return {
    ref: objectRef(o),
    namespace: o.metadata?.namespace ?? 'default',
    selector: field<Record<string, string>>(o.spec, 'selector', 'matchLabels'),
    action: field<string>(o.spec, 'action') ?? 'ALLOW',
    rules: list<Rule>(o.spec, 'rules'),
    targeted: field<unknown>(o.spec, 'targetRef') !== undefined || list<unknown>(o.spec, 'targetRefs').length > 0,
  };
}

/** Keys of `when` conditions that describe the request (L7) rather than the connection. */
const L7_KEYS = /^(request\.|experimental\.|connection\.sni)/;

/**
 * Istio authorization for one destination workload. Policies in the root namespace apply
 * mesh-wide, others to their namespace; a selector narrows them to matching workloads. CUSTOM
 * is evaluated first, then DENY, then ALLOW; when no ALLOW policy applies the request is allowed,
 * otherwise it must match one; an ALLOW policy without rules matches nothing
 * (istio.io/latest/docs/concepts/security/#implicit-enablement, #allow-nothing-deny-all-and-allow-all-policy).
 */
export class AuthorizationLayer {
  private readonly byNamespace = new Map<string, ParsedAuthorizationPolicy[]>();

  constructor(policies: ParsedAuthorizationPolicy[], private readonly rootNamespace: string) {
    for (const p of policies.filter(x => !x.targeted)) {
      addTo(this.byNamespace, p.namespace, p);
    }
  }

  /** The policies that apply to a workload. */
  public applicable(dst: Workload): ParsedAuthorizationPolicy[] {
    // A policy in the root namespace applies to every workload of the mesh; elsewhere to its own namespace
    // (istio.io/latest/docs/reference/config/security/authorization-policy/, "root namespace").
    const local = dst.namespace === this.rootNamespace ? [] : this.byNamespace.get(dst.namespace) ?? [];
    const scoped = [...(this.byNamespace.get(this.rootNamespace) ?? []), ...local];
    return scoped.filter(p => matchesIstioSelector(p.selector, dst.labels));
  }

  /** Decides every request from `src` to `dst` on `port`; `http` says whether Istio parses HTTP there. */
  public decide(src: RequestSource, dst: Workload, port: number, http: boolean): MeshDecision {
    const policies = this.applicable(dst);
    // Order of evaluation: CUSTOM, then DENY, then ALLOW (istio.io/latest/docs/concepts/security/#implicit-enablement).
    const customs = policies.filter(p => p.action === 'CUSTOM' && p.rules.some(r => this.connectionMatches(r, src, port)));
    const denies: string[] = [];
    const deniedRequests = new Set<string>();
    for (const p of policies.filter(x => x.action === 'DENY')) {
      for (const rule of p.rules) {
        if (!this.connectionMatches(rule, src, port)) {
          continue;
        }
        // On a TCP port a DENY rule's HTTP-only fields are ignored, so it denies the connection
        // (istio.io/latest/docs/ops/configuration/security/authorization-policies/ "TCP traffic").
        const l7 = http ? requestRestriction(rule) : '*';
        denies.push(p.ref);
        if (l7 === '*') {
          return { allowed: false, policies: [p.ref], requests: [], deniedRequests: ['*'], external: false };
        }
        deniedRequests.add(l7);
      }
    }
    const allows = policies.filter(p => p.action === 'ALLOW');
    const external = customs.length > 0;
    const extra = [...customs.map(p => p.ref), ...new Set(denies)];
    if (allows.length === 0) {
      return { allowed: true, policies: extra, requests: ['*'], deniedRequests: [...deniedRequests].sort(), external };
    }
    const requests = new Set<string>();
    const deciding = new Set<string>();
    for (const p of allows) {
      for (const rule of p.rules) {
        if (!this.connectionMatches(rule, src, port)) {
          continue;
        }
        const l7 = requestRestriction(rule);
        // On a TCP port an ALLOW rule with HTTP-only fields never matches (same page).
        if (!http && l7 !== '*') {
          continue;
        }
        requests.add(l7);
        deciding.add(p.ref);
      }
    }
    if (requests.size === 0) {
      return { allowed: false, policies: [...allows.map(p => p.ref), ...extra], requests: [], deniedRequests: [...deniedRequests].sort(), external };
    }
    const allowed = requests.has('*') ? ['*'] : [...requests].sort();
    return { allowed: true, policies: [...deciding, ...extra], requests: allowed, deniedRequests: [...deniedRequests].sort(), external };
  }

  /** Whether a rule's connection-level fields (source identity, namespace, IP, port) match. */
  // A rule matches when one `from` entry, one `to` entry and every `when` condition match; a not-field matches
  // values outside its list (istio.io/latest/docs/reference/config/security/authorization-policy/#Rule).
  private connectionMatches(rule: Rule, src: RequestSource, port: number): boolean {
    const namespace = src.principal?.match(/\/ns\/([^/]+)\//)?.[1];
    if (rule.from !== undefined) {
      const anySource = rule.from.some(f => {
        const s = f.source ?? {};
        return listMatches(s.principals, s.notPrincipals, src.principal)
          && listMatches(s.namespaces, s.notNamespaces, namespace)
          && ipListMatches(s.ipBlocks, s.notIpBlocks, src.ip)
          && ipListMatches(s.remoteIpBlocks, s.notRemoteIpBlocks, src.ip);
      });
      if (!anySource) {
        return false;
      }
    }
    if (rule.to !== undefined) {
      const anyOperation = rule.to.some(t => listMatches(t.operation?.ports, t.operation?.notPorts, String(port), (a, b) => a === b));
      if (!anyOperation) {
        return false;
      }
    }
    for (const c of rule.when ?? []) {
      if (L7_KEYS.test(c.key)) {
        continue;
      }
      if (c.key === 'source.ip' || c.key === 'remote.ip') {
        if (!ipListMatches(c.values, c.notValues, src.ip)) {
          return false;
        }
        continue;
      }
      const actual: Record<string, string | undefined> = { 'source.principal': src.principal, 'source.namespace': namespace, 'destination.port': String(port) };
      if (!listMatches(c.values, c.notValues, actual[c.key])) {
        return false;
      }
    }
    return true;
  }
}

/** The request-level (L7) part of a rule as a canonical string; '*' when the rule has none. */
export function requestRestriction(rule: Rule): string {
  const parts: string[] = [];
  const ops = rule.to ?? [];
  const opText = ops.map(t => {
    const o = t.operation ?? {};
    const fields: [string, string[] | undefined][] = [
      ['hosts', o.hosts], ['notHosts', o.notHosts], ['methods', o.methods], ['notMethods', o.notMethods], ['paths', o.paths], ['notPaths', o.notPaths],
    ];
    return fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${[...v!].sort().join(',')}`).join(' ');
  }).filter(t => t.length > 0);
  if (opText.length > 0 && opText.length === ops.length) {
    parts.push(opText.length === 1 ? opText[0] : `any(${opText.join(' | ')})`);
  }
  for (const f of rule.from ?? []) {
    const s = f.source ?? {};
    if (s.requestPrincipals || s.notRequestPrincipals) {
      parts.push(`requestPrincipals=${(s.requestPrincipals ?? []).join(',')}${s.notRequestPrincipals ? ` not=${s.notRequestPrincipals.join(',')}` : ''}`);
    }
  }
  for (const c of rule.when ?? []) {
    if (L7_KEYS.test(c.key)) {
      parts.push(`when ${c.key}=${(c.values ?? []).join(',')}${c.notValues ? ` not=${c.notValues.join(',')}` : ''}`);
    }
  }
  return parts.length === 0 ? '*' : parts.join(' ');
}

/** Whether a request path and method fall in a canonical restriction (for concrete checks). */
export function requestMatches(restriction: string, method: string, path: string): boolean {
  if (restriction === '*') {
    return true;
  }
  const get = (k: string) => restriction.match(new RegExp(`(?:^| )${k}=(\\S+)`))?.[1]?.split(',');
  return listMatches(get('methods'), get('notMethods'), method, istioStringMatch)
    && listMatches(get('paths'), get('notPaths'), path, istioPathMatch);
}

function ipListMatches(blocks: string[] | undefined, notBlocks: string[] | undefined, ip: string | undefined): boolean {
  const inAny = (cidrs: string[]) => ip !== undefined && cidrs.some(b => (b.includes('/') ? cidrContains(b, ip) : b === ip));
  if (blocks !== undefined && !inAny(blocks)) {
    return false;
  }
  return !(notBlocks !== undefined && inAny(notBlocks));
}
