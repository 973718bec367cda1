import { IgnoredInput, Json, MalformedInput, namedTarget, obj, ParsedInput, parseTime, QuarantineRequest, str, workloadKind } from './requests';
import { ALERT_MESSAGE_FORMAT, QUARANTINE_LABEL } from '../../observability/alert-contract';

/**
 * Parsing of SNS notifications from the Amazon Managed Service for Prometheus alert manager.
 * Internal to the Lambda handler.
 *
 * The alert manager's default SNS message is a text list, which no program should parse. The
 * library's alert manager definition (`alertManagerDefinition`, lib/observability/prometheus-rules.ts)
 * gives its SNS receiver a `message` template that renders the notification as JSON:
 *
 * ```json
 * { "format": "zero-trust-eks/alertmanager-sns/v1", "cluster": "<EKS cluster>", "receiver": "...", "status": "firing",
 *   "alerts": [ { "status": "firing", "labels": { "alertname": "...", ... }, "annotations": { ... },
 *                 "startsAt": "2026-03-01T12:00:00.000Z", "fingerprint": "..." } ] }
 * ```
 *
 * Only a message whose `format` is exactly that (`ALERT_MESSAGE_FORMAT`) is read; every other SNS
 * message (a CloudWatch alarm, the alert manager's default text, JSON of another shape) is dropped:
 * logged and published as dropped, never retried. The format tells messages apart, it proves no
 * origin: the topic's policy does (`ManagedPrometheus.alertTopic`, which only the workspace may
 * publish to).
 *
 * One notification carries every alert of its group; each alert becomes one request. An alert acts
 * only when it is firing and its rule marks it with the label `quarantine="true"`; every other alert
 * is recorded (logged) and ignored. The target comes from the alert's labels:
 * - when any Istio `source_*` label is present (the series is about a sender): only
 *   `source_workload_namespace` and `source_workload` (a mesh workload name: the Deployment's in
 *   most cases), of the kind `workload_kind` when the rule states one, else resolved by the
 *   responder. `namespace`, `pod` and `workload` are not used then: on `istio_requests_total`
 *   reported by the destination the scrape sets them to the reporting pod, the destination, which
 *   is the victim, not the sender. Without a known source workload there is no target;
 * - with no `source_*` label: `namespace` with `pod` (a pod name), else with `workload` (of the
 *   kind `workload_kind`, else resolved);
 * - the cluster is the label `cluster`, else the message's `cluster` (the template writes the
 *   workspace's cluster there).
 * @internal
 */

export { ALERT_MESSAGE_FORMAT };

/** The label, and its value, by which a rule marks its alerts for quarantine (one definition with the rules). */
export const QUARANTINE_MARK = { label: QUARANTINE_LABEL.name, value: QUARANTINE_LABEL.value } as const;

/** Parses one SNS record of a Lambda SNS event. */
export function parseSnsRecord(record: unknown): ParsedInput[] {
  const sns = obj(obj(record)?.Sns);
  if (!sns) {
    return [{ malformed: 'record has no Sns object' }];
  }
  const id = str(sns.MessageId);
  let message: Json | undefined;
  try {
    message = obj(JSON.parse(String(sns.Message)));
  } catch {
    message = undefined;
  }
  if (!message) {
    return [{ malformed: 'SNS message is not a JSON object (an alert manager without the library\'s message template sends a text list)', id }];
  }
  if (message.format !== ALERT_MESSAGE_FORMAT) {
    const what = str(message.AlarmName) && str(message.NewStateValue)
      ? `a CloudWatch alarm notification (${message.AlarmName}: ${message.NewStateValue})` : 'SNS message';
    const format = message.format === undefined ? 'no format' : `format ${JSON.stringify(message.format)}`;
    return [{
      malformed: `${what} has ${format}, not "${ALERT_MESSAGE_FORMAT}" (the library's alert manager template): not a quarantine request. `
        + `The responder must subscribe to ManagedPrometheus.alertTopic only${str(sns.TopicArn) ? ` (this came from ${sns.TopicArn})` : ''}`,
      id,
    }];
  }
  return parseAlertmanagerMessage(message, id, parseTime(sns.Timestamp));
}

/** One request (or ignored or malformed input) per alert of an alert manager notification. */
export function parseAlertmanagerMessage(message: Json, messageId: string | undefined, timestamp: number | undefined): ParsedInput[] {
  if (!Array.isArray(message.alerts)) {
    return [{ malformed: 'SNS message has no alerts array (not an alert manager notification rendered by the library\'s template)', id: messageId }];
  }
  if (message.alerts.length === 0) {
    return [{ malformed: 'alert manager notification has no alerts', id: messageId }];
  }
  return message.alerts.map((a, i) => parseAlert(a, i, message, messageId, timestamp));
}

function parseAlert(a: unknown, index: number, message: Json, messageId: string | undefined, timestamp: number | undefined): ParsedInput {
  const alert = obj(a);
  const fallbackId = `${messageId ?? 'unknown'}#${index}`;
  if (!alert) {
    return { malformed: `alert ${index} is not a JSON object`, id: fallbackId };
  }
  const labels = strings(alert.labels);
  const annotations = strings(alert.annotations);
  const id = str(alert.fingerprint) ? `alertmanager:${alert.fingerprint}` : fallbackId;
  const name = labels.alertname ?? 'unnamed alert';
  const reason = annotations.summary ? `${name}: ${annotations.summary}` : name;
  const cluster = str(labels.cluster) ?? str(message.cluster);
  const ignore = (why: string): IgnoredInput => ({ ignored: why, source: 'sns', id, reason, cluster });
  if (labels[QUARANTINE_MARK.label] !== QUARANTINE_MARK.value) {
    return ignore(`alert ${name} is not marked for quarantine (its rule has no label ${QUARANTINE_MARK.label}="${QUARANTINE_MARK.value}"): recorded, no action`);
  }
  if (alert.status !== 'firing') {
    return ignore(`alert ${name} is ${JSON.stringify(alert.status)}, not firing: no action (a resolved alert releases nothing; release is a documented manual step)`);
  }
  const malformed = (why: string): MalformedInput => ({ malformed: `alert ${name}: ${why}`, id });
  if (!cluster) {
    return malformed('marked for quarantine but names no cluster (label cluster, or the message\'s cluster)');
  }
  const eventTime = parseTime(alert.startsAt) ?? timestamp;
  if (eventTime === undefined) {
    return malformed('no parsable time (startsAt, or Sns.Timestamp)');
  }
  const request: Omit<QuarantineRequest, 'target'> = { source: 'sns', id, reason, cluster, eventTime };
  return { ...request, target: targetOfLabels(labels) };
}

/** The pod or workload an alert's labels name (see the top of this file for the order). */
function targetOfLabels(labels: Record<string, string>): QuarantineRequest['target'] {
  const sourceLabels = Object.keys(labels).filter(k => k.startsWith('source_')).sort();
  if (sourceLabels.length > 0) {
    const namespace = known(labels.source_workload_namespace);
    const workload = known(labels.source_workload);
    if (!namespace || !workload) {
      return {
        unsupported: `the alert has Istio source labels (${sourceLabels.join(', ')}) but no known source_workload_namespace and source_workload `
          + `(got ${JSON.stringify(labels.source_workload_namespace ?? null)}/${JSON.stringify(labels.source_workload ?? null)}); `
          + 'its namespace, pod and workload labels may name the destination, so they are not used',
      };
    }
    return ofKind(namespace, workload, labels.workload_kind);
  }
  const namespace = known(labels.namespace);
  const pod = known(labels.pod);
  if (pod) {
    return namedTarget('Pod', namespace, pod, undefined);
  }
  const workload = known(labels.workload);
  if (!workload) {
    return { unsupported: 'the alert has no source_workload, pod or workload label (or Istio reported it as "unknown")' };
  }
  return ofKind(namespace, workload, labels.workload_kind);
}

/** A workload of the kind the rule states, else a mesh workload name the responder resolves. */
function ofKind(namespace: string | undefined, workload: string, workloadKindLabel: string | undefined): QuarantineRequest['target'] {
  if (workloadKindLabel === undefined) {
    return namedTarget('Workload', namespace, workload, undefined);
  }
  const kind = workloadKind(workloadKindLabel);
  if (!kind) {
    return { unsupported: `label workload_kind ${JSON.stringify(workloadKindLabel)} is not one of Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job` };
  }
  return namedTarget(kind, namespace, workload, undefined);
}

/** Istio writes "unknown" for a peer it could not identify: that names nothing. */
function known(v: string | undefined): string | undefined {
  return v !== undefined && v !== '' && v !== 'unknown' ? v : undefined;
}

function strings(v: unknown): Record<string, string> {
  const o = obj(v) ?? {};
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
