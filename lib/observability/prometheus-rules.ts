/** Thresholds of the Prometheus alerting rules. */
export interface PrometheusRuleOptions {
  /** Denied requests per second (per source workload, over 5 minutes) above which to alert. */
  readonly denialRateThreshold: number;
  /** A source workload's request rate above this multiple of its one-day average is an anomaly. */
  readonly anomalyFactor: number;
  /** ...and only when the rate is above this many requests per second (quiet workloads stay quiet). */
  readonly anomalyMinimumRate: number;
}

/**
 * The label, and its value, by which an alerting rule marks its alerts for quarantine: the
 * quarantine responder acts on a firing alert only when it carries it, and records and ignores
 * every other alert. Add it to a rule of your own to have the responder act on it.
 */
export const QUARANTINE_LABEL = { name: 'quarantine', value: 'true' } as const;

/** The `format` of the JSON the alert manager's SNS message template renders (the responder checks nothing else by it). */
export const ALERT_MESSAGE_FORMAT = 'zero-trust-eks/alertmanager-sns/v1';

/** Recording rule names, for dashboards and queries. */
export const RECORDING_RULES = {
  denials: 'zero_trust:istio_requests_denied:rate5m',
  requests: 'zero_trust:istio_requests_by_source:rate5m',
} as const;

/**
 * The rules file (Prometheus rule-file YAML) for the workspace: recording rules for authorization
 * denials and request rates per source workload, and alerts on denials, request-rate anomalies and
 * xDS configurations rejected by proxies (`pilot_total_xds_rejects`, controls.md OBS-05).
 *
 * Only `MeshRequestRateAnomaly` is marked for quarantine (`quarantine="true"`): its labels name the
 * sending workload (`source_workload_namespace`, `source_workload`), and a workload that suddenly
 * sends several times its usual traffic is what a compromised pod looks like. `MeshAuthorizationDenials`
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
    `        expr: (${RECORDING_RULES.requests} > ${o.anomalyFactor} * avg_over_time(${RECORDING_RULES.requests}[1d])) `
      + `and (${RECORDING_RULES.requests} > ${o.anomalyMinimumRate})`,
    '        for: 10m',
    '        labels:',
    '          severity: warning',
    `          ${QUARANTINE_LABEL.name}: "${QUARANTINE_LABEL.value}"`,
    '        annotations:',
    `          summary: "{{ $labels.source_workload_namespace }}/{{ $labels.source_workload }} sends more than ${o.anomalyFactor}x its daily average request rate"`,
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

/**
 * The alert manager definition: every alert to one SNS topic, as the JSON of `alertMessageTemplate`
 * with a short subject. Alerts are grouped per alert name and source workload, so that one
 * notification names one workload and a new anomaly is sent after the group wait (30 s by default)
 * rather than held for the interval of a group already notified (5 min). Resolved alerts are sent
 * too (`send_resolved`): the responder records and ignores them.
 */
export function alertManagerDefinition(topicArn: string, region: string, clusterName: string): string {
  const message = alertMessageTemplate(clusterName).split('\n').map(l => `            ${l}`);
  return [
    'alertmanager_config: |',
    '  route:',
    '    receiver: alarm-topic',
    '    group_by: [alertname, source_workload_namespace, source_workload]',
    '  receivers:',
    '    - name: alarm-topic',
    '      sns_configs:',
    `        - topic_arn: ${topicArn}`,
    '          sigv4:',
    `            region: ${region}`,
    '          send_resolved: true',
    `          subject: '${ALERT_SUBJECT_TEMPLATE}'`,
    '          message: |-',
    ...message,
    '',
  ].join('\n');
}
