/**
 * What the responder's inputs are parsed into (events.ts: GuardDuty findings; alertmanager.ts: SNS
 * alert notifications), and the small JSON helpers both parsers share. Internal to the Lambda
 * handler: plain TypeScript, not part of the jsii API.
 * @internal
 */

/**
 * The kinds of owner the responder resolves to pods. `Workload` is a mesh workload name of unknown
 * kind (Istio's `source_workload`: the Deployment's name in most cases, else the StatefulSet's,
 * DaemonSet's, Job's, or the bare pod's own name), resolved by looking each kind up.
 */
export type WorkloadKind = 'Pod' | 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'Workload';

/** What an alert or finding asks to quarantine. */
export interface QuarantineTarget {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  /** The UID the finding saw; when given, the live object must have it. */
  readonly uid?: string;
}

/** A well-formed request from one finding or alert. */
export interface QuarantineRequest {
  readonly source: 'guardduty' | 'sns';
  /** The finding id, or the alert's Alertmanager fingerprint. */
  readonly id: string;
  /** The finding type or alert reason. */
  readonly reason: string;
  readonly cluster: string;
  /** GuardDuty severity (0-10); undefined for an alert, which states none as a number. */
  readonly severity?: number;
  /** When the event happened (epoch ms): EventBridge `time`, the alert's `startsAt`, or the SNS timestamp. */
  readonly eventTime: number;
  /** The target, or why the finding names none the responder can act on. */
  readonly target: QuarantineTarget | { readonly unsupported: string };
}

/** A record that could not be understood: it is logged and dropped, never retried. */
export interface MalformedInput {
  readonly malformed: string;
  readonly id?: string;
}

/**
 * A well-formed input that asks for no quarantine: an alert not marked for quarantine, a resolved
 * alert. Logged, not published, never retried.
 */
export interface IgnoredInput {
  readonly ignored: string;
  readonly source: 'guardduty' | 'sns';
  readonly id?: string;
  /** The alert's name and summary, when it has them. */
  readonly reason?: string;
  readonly cluster?: string;
}

export type ParsedInput = QuarantineRequest | MalformedInput | IgnoredInput;

export function isMalformed(p: ParsedInput): p is MalformedInput {
  return (p as MalformedInput).malformed !== undefined;
}

export function isIgnored(p: ParsedInput): p is IgnoredInput {
  return (p as IgnoredInput).ignored !== undefined;
}

/** GuardDuty workload types ('Pods', 'pods', 'PODS', 'Deployment', ...) to Kubernetes kinds. */
const WORKLOAD_TYPES: Record<string, WorkloadKind> = {
  pod: 'Pod',
  deployment: 'Deployment',
  replicaset: 'ReplicaSet',
  statefulset: 'StatefulSet',
  daemonset: 'DaemonSet',
  job: 'Job',
};

export function workloadKind(type: unknown): WorkloadKind | undefined {
  if (typeof type !== 'string') {
    return undefined;
  }
  const key = type.toLowerCase().replace(/s$/, '');
  return WORKLOAD_TYPES[key];
}

export type Json = Record<string, unknown>;

export function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Json : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

export function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') {
    return undefined;
  }
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/** A target from a kind, namespace, name and uid, or why there is none. */
export function targetOf(type: unknown, namespace: unknown, name: unknown, uid: unknown): QuarantineTarget | { unsupported: string } {
  const kind = workloadKind(type);
  if (!kind) {
    return { unsupported: `workload type ${JSON.stringify(type)} is not one of Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job` };
  }
  return namedTarget(kind, namespace, name, uid);
}

/** A target of a known kind, or why there is none (no namespace or name). */
export function namedTarget(kind: WorkloadKind, namespace: unknown, name: unknown, uid: unknown): QuarantineTarget | { unsupported: string } {
  const ns = str(namespace);
  const n = str(name);
  if (!ns || !n) {
    return { unsupported: `the ${kind} has no namespace or name` };
  }
  return { kind, namespace: ns, name: n, uid: str(uid) };
}
