/**
 * Parsing of the responder's inputs into quarantine requests. Internal to the Lambda handler:
 * plain TypeScript, not part of the jsii API.
 *
 * Two inputs are understood:
 * - An EventBridge event carrying a GuardDuty finding (`source: aws.guardduty`,
 *   `detail-type: GuardDuty Finding`, the finding in `detail`). Field names follow the GuardDuty
 *   finding format: https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html
 *   (`severity`, `type`, `id`, `resource`), API_Resource.html (`resourceType`, `eksClusterDetails`,
 *   `kubernetesDetails`), API_EksClusterDetails.html (`name`, `arn`) and
 *   API_KubernetesWorkloadDetails.html (`name`, `type`, `uid`, `namespace`).
 * - An SNS notification (`Records[].Sns.Message`) whose message is an anomaly alert:
 *   `{ "cluster", "namespace", "pod" | "workload": { "kind", "name" }, "uid"?, "severity"?, "reason"?, "time"? }`.
 *
 * @internal
 */

/** The kinds of owner the responder resolves to pods. */
export type WorkloadKind = 'Pod' | 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job';

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
  /** The finding id or SNS message id. */
  readonly id: string;
  /** The finding type or alert reason. */
  readonly reason: string;
  readonly cluster: string;
  /** GuardDuty severity (0-10); undefined for an alert that states none. */
  readonly severity?: number;
  /** When the event happened (epoch ms): EventBridge `time`, the alert's `time`, or the SNS timestamp. */
  readonly eventTime: number;
  /** The target, or why the finding names none the responder can act on. */
  readonly target: QuarantineTarget | { readonly unsupported: string };
}

/** A record that could not be understood: it is logged and dropped, never retried. */
export interface MalformedInput {
  readonly malformed: string;
  readonly id?: string;
}

export type ParsedInput = QuarantineRequest | MalformedInput;

export function isMalformed(p: ParsedInput): p is MalformedInput {
  return (p as MalformedInput).malformed !== undefined;
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

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Json : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Parses a Lambda input: an EventBridge GuardDuty event or an SNS event (one request per record). */
export function parseInput(input: unknown): ParsedInput[] {
  const event = obj(input);
  if (!event) {
    return [{ malformed: 'input is not a JSON object' }];
  }
  if (Array.isArray(event.Records)) {
    if (event.Records.length === 0) {
      return [{ malformed: 'SNS event has no records' }];
    }
    return event.Records.map(parseSnsRecord);
  }
  if (event.source === 'aws.guardduty' || event['detail-type'] === 'GuardDuty Finding') {
    return [parseGuardDutyEvent(event)];
  }
  return [{ malformed: `unknown input (source ${JSON.stringify(event.source)}, detail-type ${JSON.stringify(event['detail-type'])})`, id: str(event.id) }];
}

function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') {
    return undefined;
  }
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

function parseGuardDutyEvent(event: Json): ParsedInput {
  const eventId = str(event.id);
  if (event['detail-type'] !== 'GuardDuty Finding') {
    return { malformed: `detail-type ${JSON.stringify(event['detail-type'])} is not 'GuardDuty Finding'`, id: eventId };
  }
  const finding = obj(event.detail);
  if (!finding) {
    return { malformed: 'GuardDuty event has no detail', id: eventId };
  }
  const id = str(finding.id) ?? eventId;
  const severity = finding.severity;
  if (typeof severity !== 'number' || !Number.isFinite(severity)) {
    return { malformed: `finding severity ${JSON.stringify(severity)} is not a number`, id };
  }
  const eventTime = parseTime(event.time) ?? parseTime(finding.updatedAt);
  if (eventTime === undefined) {
    return { malformed: 'event has no parsable time', id };
  }
  const resource = obj(finding.resource);
  if (!resource) {
    return { malformed: 'finding has no resource', id };
  }
  const cluster = str(obj(resource.eksClusterDetails)?.name);
  if (!cluster) {
    return { malformed: `finding resource (${JSON.stringify(resource.resourceType)}) names no EKS cluster (resource.eksClusterDetails.name)`, id };
  }
  const base = { source: 'guardduty' as const, id: id ?? 'unknown', reason: str(finding.type) ?? 'unknown finding type', cluster, severity, eventTime };
  const workload = obj(obj(resource.kubernetesDetails)?.kubernetesWorkloadDetails);
  if (!workload) {
    return { ...base, target: { unsupported: 'the finding names no Kubernetes workload (resource.kubernetesDetails.kubernetesWorkloadDetails)' } };
  }
  return { ...base, target: targetOf(workload.type, workload.namespace, workload.name, workload.uid) };
}

function targetOf(type: unknown, namespace: unknown, name: unknown, uid: unknown): QuarantineTarget | { unsupported: string } {
  const kind = workloadKind(type);
  if (!kind) {
    return { unsupported: `workload type ${JSON.stringify(type)} is not one of Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job` };
  }
  const ns = str(namespace);
  const n = str(name);
  if (!ns || !n) {
    return { unsupported: `the ${kind} has no namespace or name` };
  }
  return { kind, namespace: ns, name: n, uid: str(uid) };
}

function parseSnsRecord(record: unknown): ParsedInput {
  const sns = obj(obj(record)?.Sns);
  if (!sns) {
    return { malformed: 'record has no Sns object' };
  }
  const id = str(sns.MessageId);
  let alert: Json | undefined;
  try {
    alert = obj(JSON.parse(String(sns.Message)));
  } catch {
    alert = undefined;
  }
  if (!alert) {
    return { malformed: 'SNS message is not a JSON object', id };
  }
  const cluster = str(alert.cluster);
  if (!cluster) {
    return { malformed: 'alert names no cluster', id };
  }
  const eventTime = parseTime(alert.time) ?? parseTime(sns.Timestamp);
  if (eventTime === undefined) {
    return { malformed: 'alert has no parsable time (message time or Sns.Timestamp)', id };
  }
  if (alert.severity !== undefined && (typeof alert.severity !== 'number' || !Number.isFinite(alert.severity))) {
    return { malformed: `alert severity ${JSON.stringify(alert.severity)} is not a number`, id };
  }
  const workload = obj(alert.workload);
  const target = workload
    ? targetOf(workload.kind, alert.namespace, workload.name, workload.uid ?? alert.uid)
    : alert.pod !== undefined
      ? targetOf('Pod', alert.namespace, alert.pod, alert.uid)
      : { unsupported: 'the alert names neither a pod nor a workload' };
  return {
    source: 'sns',
    id: id ?? 'unknown',
    reason: str(alert.reason) ?? str(alert.alert) ?? 'anomaly alert',
    cluster,
    severity: alert.severity as number | undefined,
    eventTime,
    target,
  };
}
