import { ALERT_MESSAGE_FORMAT, QUARANTINE_LABEL } from './alert-contract';

export { ALERT_MESSAGE_FORMAT, QUARANTINE_LABEL };

/** Thresholds of the Prometheus alerting rules. */
export interface PrometheusRuleOptions {
  /** Denied requests per second (per source workload, over 5 minutes) above which to alert. */
  readonly denialRateThreshold: number;
  /** A source workload's 5-minute request rate above this multiple of its highest 5-minute rate of the previous day is an anomaly. */
  readonly anomalyFactor: number;
  /** ...and only when the rate is above this many requests per second (quiet workloads stay quiet). */
  readonly anomalyMinimumRate: number;
}

/** Recording rule names, for dashboards and queries. */
export const RECORDING_RULES = {
  denials: 'zero_trust:istio_requests_denied:rate5m',
  requests: 'zero_trust:istio_requests_by_source:rate5m',
} as const;

/**
 * The baseline of `MeshRequestRateAnomaly`: a source's recorded rate over the day before, leaving
 * out the last `offset` (so that the anomaly, through its 5-minute rate window and its 10 minutes
 * of `for`, is never part of its own baseline), and the history it needs: the recording group is
 * evaluated every minute (`interval`), 1440 samples a day; a series needs `minimumSamples` of them
 * in that day (90%: a day of history, with up to 2.4 hours of gaps), so that a new workload, a new
 * caller or a new service account (a new series) is not an anomaly on its first day.
 */
export const ANOMALY_BASELINE = {
  interval: '1m',
  range: '1d',
  offset: '30m',
  minimumSamples: 1296,
  for: '10m',
} as const;

/**
 * The rules file (Prometheus rule-file YAML) for the workspace: recording rules for authorization
 * denials and request rates per source workload, and alerts on denials, request-rate anomalies and
 * xDS configurations rejected by proxies (`pilot_total_xds_rejects`, controls.md OBS-05).
 *
 * Only `MeshRequestRateAnomaly` is marked for quarantine (`quarantine="true"`): its labels name the
 * sending workload (`source_workload_namespace`, `source_workload`), and a workload that suddenly
 * sends several times its usual traffic is what a compromised pod looks like. Because it acts, it
 * is built against false positives: a source's 5-minute rate must exceed `anomalyFactor` times the
 * highest 5-minute rate the same source (same `source_workload_namespace`, `source_workload`,
 * `source_principal`) had over the previous day (`max_over_time` over `ANOMALY_BASELINE.range`,
 * `offset` `ANOMALY_BASELINE.offset`), so that a daily peak or a batch caller that ran yesterday
 * is its own baseline; the series must have about a day of history (`count_over_time` of at least
 * `ANOMALY_BASELINE.minimumSamples` recorded samples), so that a brand-new series is not an anomaly;
 * the rate must be above `anomalyMinimumRate`; and all of it must hold for 10 minutes. `MeshAuthorizationDenials`
 * is not: the mesh already stops the caller, and a denial is as often a missing allow during a
 * rollout; quarantining on it would cut off healthy workloads. `IstioXdsRejects` names no workload.
 *
 * Denials: Istio answers a request its AuthorizationPolicies deny with HTTP 403 at the destination
 * sidecar, so `istio_requests_total{reporter="destination", response_code="403"}` counts them with
 * the caller's `source_workload`/`source_principal` (from mTLS). Opaque TCP denials close the
 * connection instead and are not counted here (the access log shows them).
 */
export function prometheusRules(o: PrometheusRuleOptions): string {
  const bySource = 'source_workload_namespace, source_workload, source_principal';
  return [
    'groups:',
    '  - name: zero-trust-recording',
    `    interval: ${ANOMALY_BASELINE.interval}`,
    '    rules:',
    `      - record: ${RECORDING_RULES.denials}`,
    `        expr: sum by (${bySource}, destination_workload_namespace, destination_workload) `
      + '(rate(istio_requests_total{reporter="destination", response_code="403"}[5m]))',
    `      - record: ${RECORDING_RULES.requests}`,
    `        expr: sum by (${bySource}) (rate(istio_requests_total{reporter="destination"}[5m]))`,
    '  - name: zero-trust-alerts',
    '    rules:',
    '      - alert: MeshAuthorizationDenials',
    `        expr: ${RECORDING_RULES.denials} > ${o.denialRateThreshold}`,
    '        for: 2m',
    '        labels:',
    '          severity: warning',
    '        annotations:',
    '          summary: "{{ $labels.source_workload_namespace }}/{{ $labels.source_workload }} is denied by the mesh calling '
      + '{{ $labels.destination_workload_namespace }}/{{ $labels.destination_workload }}"',
    '      - alert: MeshRequestRateAnomaly',
    `        expr: ${anomalyExpression(o)}`,
    `        for: ${ANOMALY_BASELINE.for}`,
    '        labels:',
    '          severity: warning',
    `          ${QUARANTINE_LABEL.name}: "${QUARANTINE_LABEL.value}"`,
    '        annotations:',
    `          summary: "${anomalySummary(o.anomalyFactor)}"`,
    '      - alert: IstioXdsRejects',
    '        expr: sum(increase(pilot_total_xds_rejects[10m])) > 0',
    '        labels:',
    '          severity: critical',
    '        annotations:',
    '          summary: "proxies rejected configuration from istiod (pilot_total_xds_rejects): a policy may not be in force"',
    '',
  ].join('\n');
}

/**
 * The expression of `MeshRequestRateAnomaly` (see `prometheusRules`): per source series, the
 * 5-minute rate above `anomalyFactor` times the previous day's highest, above the floor, with a
 * day of history. `and` matches on every label, so each term is about the same source.
 */
export function anomalyExpression(o: Pick<PrometheusRuleOptions, 'anomalyFactor' | 'anomalyMinimumRate'>): string {
  const r = RECORDING_RULES.requests;
  const window = `${r}[${ANOMALY_BASELINE.range}] offset ${ANOMALY_BASELINE.offset}`;
  return `(${r} > ${o.anomalyFactor} * max_over_time(${window})) `
    + `and (${r} > ${o.anomalyMinimumRate}) `
    + `and (count_over_time(${window}) >= ${ANOMALY_BASELINE.minimumSamples})`;
}

/** The summary annotation of `MeshRequestRateAnomaly` (a Prometheus template). */
export function anomalySummary(factor: number): string {
  return `{{ $labels.source_workload_namespace }}/{{ $labels.source_workload }} sends more than ${factor}x its highest request rate of the previous day`;
}

/**
 * The SNS `message` template (Go template, Alertmanager data): the notification as one line of
 * JSON, which the quarantine responder parses (lib/response/handler/alertmanager.ts):
 * `{ format, cluster, receiver, status, alerts: [{ status, labels, annotations, startsAt, fingerprint }] }`.
 *
 * Label and annotation names and values are quoted with `printf "%q"` (Go's strconv.Quote), which
 * is valid JSON for every printable string; a control character in a value would make the message
 * unparsable, and the responder would drop it (logged and published as dropped). Alertmanager has no
 * JSON function on every version AMP runs, hence `%q`. `startsAt` is RFC 3339 with milliseconds;
 * status and fingerprint need no quoting (`firing`/`resolved`, hexadecimal).
 */
export function alertMessageTemplate(clusterName: string): string {
  const pairs = (field: string) => `{{- range $j, $p := $a.${field}.SortedPairs }}{{ if $j }},{{ end }}`
    + '{{ printf "%q" $p.Name }}:{{ printf "%q" $p.Value }}{{ end -}}';
  return [
    `{"format":"${ALERT_MESSAGE_FORMAT}","cluster":"${clusterName}","receiver":{{ printf "%q" .Receiver }},"status":{{ printf "%q" .Status }},"alerts":[`,
    '{{- range $i, $a := .Alerts }}{{ if $i }},{{ end }}{"status":{{ printf "%q" $a.Status }},"labels":{',
    pairs('Labels'),
    '},"annotations":{',
    pairs('Annotations'),
    '},"startsAt":"{{ $a.StartsAt.Format "2006-01-02T15:04:05.000Z07:00" }}","fingerprint":"{{ $a.Fingerprint }}"}',
    '{{- end }}]}',
  ].join('\n');
}

/** The SNS subject template: short and single-line (SNS refuses a subject of 100 characters or more, or with a line break). */
export const ALERT_SUBJECT_TEMPLATE = 'zero-trust alert {{ .Status }}: {{ .GroupLabels.alertname }}';

/** Where the alert manager sends its notifications. */
export interface AlertDestinations {
  /**
   * The dedicated alert topic (`ManagedPrometheus.alertTopic`), which only this workspace's alert
   * manager may publish to: the one a `QuarantineResponder` subscribes to.
   */
  readonly alertTopicArn: string;
  /** The human alarm topic (`ZeroTrustObservability.alarmTopic`), which gets the same notifications; none when absent. */
  readonly alarmTopicArn?: string;
}

/** The name of the alert manager's one receiver (the `receiver` of every message). */
export const ALERT_RECEIVER = 'zero-trust-alerts';

/**
 * The alert manager definition: every alert to the dedicated alert topic, and the same
 * notification to the alarm topic when there is one (two `sns_configs` of one receiver: Alertmanager
 * sends and retries each on its own), as the JSON of `alertMessageTemplate` with a short subject.
 * Alerts are grouped per alert name and source workload, so that one notification names one
 * workload and a new anomaly is sent after the group wait (30 s by default) rather than held for
 * the interval of a group already notified (5 min). Resolved alerts are sent too (`send_resolved`):
 * the responder records and ignores them.
 */
export function alertManagerDefinition(destinations: AlertDestinations, region: string, clusterName: string): string {
  const message = alertMessageTemplate(clusterName).split('\n').map(l => `            ${l}`);
  const topics = [destinations.alertTopicArn, ...(destinations.alarmTopicArn !== undefined ? [destinations.alarmTopicArn] : [])];
  return [
    'alertmanager_config: |',
    '  route:',
    `    receiver: ${ALERT_RECEIVER}`,
    '    group_by: [alertname, source_workload_namespace, source_workload]',
    '  receivers:',
    `    - name: ${ALERT_RECEIVER}`,
    '      sns_configs:',
    ...topics.flatMap(arn => [
      `        - topic_arn: ${arn}`,
      '          sigv4:',
      `            region: ${region}`,
      '          send_resolved: true',
      `          subject: '${ALERT_SUBJECT_TEMPLATE}'`,
      '          message: |-',
      ...message,
    ]),
    '',
  ].join('\n');
}
