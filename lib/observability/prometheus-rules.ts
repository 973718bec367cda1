/** Thresholds of the Prometheus alerting rules. */
export interface PrometheusRuleOptions {
  /** Denied requests per second (per source workload, over 5 minutes) above which to alert. */
  readonly denialRateThreshold: number;
  /** A source workload's request rate above this multiple of its one-day average is an anomaly. */
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
 * The rules file (Prometheus rule-file YAML) for the workspace: recording rules for authorization
 * denials and request rates per source workload, and alerts on denials, request-rate anomalies and
 * xDS configurations rejected by proxies (`pilot_total_xds_rejects`, controls.md OBS-05).
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

/** The alert manager definition: every alert to one SNS topic. */
export function alertManagerDefinition(topicArn: string, region: string): string {
  return [
    'alertmanager_config: |',
    '  route:',
    '    receiver: alarm-topic',
    '    group_by: [alertname]',
    '  receivers:',
    '    - name: alarm-topic',
    '      sns_configs:',
    `        - topic_arn: ${topicArn}`,
    '          sigv4:',
    `            region: ${region}`,
    '',
  ].join('\n');
}
