import { parse as parseYaml } from 'yaml';
import { goQuote, GoTemplateData, GoTime, KV, renderGoTemplate } from './go-template';
import {
  ALERT_MESSAGE_FORMAT, ALERT_RECEIVER, ALERT_SUBJECT_TEMPLATE, alertManagerDefinition, alertMessageTemplate, anomalySummary, prometheusRules,
  QUARANTINE_LABEL,
} from '../../lib/observability/prometheus-rules';
import * as handler from '../../lib/response/handler';
import * as fixture from '../response/fixtures/sns-alertmanager-anomaly.json';

/**
 * The alert manager definition of the Managed Prometheus workspace produces what the quarantine
 * responder parses. The SNS `message` and `subject` templates are rendered with a small substitute
 * for Go's text/template (go-template.ts: no Go template engine is in node_modules and no Go
 * toolchain is on the machine), against Alertmanager's template data for the request-rate anomaly
 * of shop/user; the result is exactly the fixture test/response/fixtures/sns-alertmanager-anomaly.json,
 * which test/response/quarantine-alerts.test.ts takes to a labelled pod on the loopback API server.
 */

const CLUSTER = 'shop-cluster';
const ALERT_TOPIC = 'arn:aws:sns:eu-west-1:111122223333:zero-trust-alerts';
const ALARM_TOPIC = 'arn:aws:sns:eu-west-1:111122223333:security-alarms';
/** The anomaly's summary as the rule's template renders it for shop/user with the default factor (2). */
const SUMMARY = anomalySummary(2).replace('{{ $labels.source_workload_namespace }}/{{ $labels.source_workload }}', 'shop/user');
const record = ((fixture as any).default ?? fixture).Records[0];

/** The alert the rule `MeshRequestRateAnomaly` raises for shop/user, as Alertmanager hands it to the template. */
function anomalyData(extra: Record<string, string> = {}, annotations: Record<string, string> = {}): GoTemplateData {
  const labels = new KV({
    alertname: 'MeshRequestRateAnomaly',
    quarantine: 'true',
    severity: 'warning',
    source_principal: 'spiffe://cluster.local/ns/shop/sa/user',
    source_workload: 'user',
    source_workload_namespace: 'shop',
    ...extra,
  });
  const alert = {
    Status: 'firing' as const,
    Labels: labels,
    Annotations: new KV({ summary: SUMMARY, ...annotations }),
    StartsAt: new GoTime('2026-03-01T12:00:00Z'),
    EndsAt: new GoTime('0001-01-01T00:00:00Z'),
    GeneratorURL: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/graph',
    Fingerprint: '3f9a1c2b7d4e5f60',
  };
  return {
    Receiver: ALERT_RECEIVER,
    Status: 'firing',
    Alerts: [alert],
    GroupLabels: new KV({ alertname: 'MeshRequestRateAnomaly', source_workload: 'user', source_workload_namespace: 'shop' }),
    CommonLabels: labels,
    CommonAnnotations: alert.Annotations,
    ExternalURL: '',
  };
}

/** The receiver's sns_configs entries, read from the definition as AMP reads it (YAML inside YAML). */
function snsConfigs(definition: string): Record<string, any>[] {
  const outer = parseYaml(definition);
  const config = parseYaml(outer.alertmanager_config);
  expect(config.route.receiver).toBe(ALERT_RECEIVER);
  expect(config.route.routes).toBeUndefined();
  expect(config.receivers).toHaveLength(1);
  expect(config.receivers[0].name).toBe(ALERT_RECEIVER);
  return config.receivers[0].sns_configs;
}

describe('the alert manager definition', () => {
  const definition = alertManagerDefinition({ alertTopicArn: ALERT_TOPIC, alarmTopicArn: ALARM_TOPIC }, 'eu-west-1', CLUSTER);
  const configs = snsConfigs(definition);
  const sns = configs[0];

  test('one receiver, two SNS configurations: the dedicated alert topic first, then the alarm topic, with the same templates', () => {
    expect(configs.map(c => c.topic_arn)).toEqual([ALERT_TOPIC, ALARM_TOPIC]);
    // Alertmanager sends to (and retries) each sns_config of a receiver on its own: people get every alert the responder gets.
    expect({ ...configs[1], topic_arn: ALERT_TOPIC }).toEqual(configs[0]);
  });

  test('without an alarm topic, the alert topic alone', () => {
    expect(snsConfigs(alertManagerDefinition({ alertTopicArn: ALERT_TOPIC }, 'eu-west-1', CLUSTER)).map(c => c.topic_arn)).toEqual([ALERT_TOPIC]);
  });

  test('the SNS receiver uses only Alertmanager sns_config fields AMP allows, with a message and a subject template', () => {
    // Alertmanager's SNSConfig: api_url, sigv4, topic_arn, phone_number, target_arn, subject, message, attributes,
    // send_resolved, http_config. AMP refuses api_url and http_config, and needs sigv4.region.
    for (const c of configs) {
      expect(Object.keys(c).sort()).toEqual(['message', 'send_resolved', 'sigv4', 'subject', 'topic_arn']);
      expect(c.sigv4).toEqual({ region: 'eu-west-1' });
      expect(c.send_resolved).toBe(true);
      expect(c.message).toBe(alertMessageTemplate(CLUSTER));
      expect(c.subject).toBe(ALERT_SUBJECT_TEMPLATE);
    }
  });

  test('alerts are grouped per alert name and source workload (one workload per notification)', () => {
    const route = parseYaml(parseYaml(definition).alertmanager_config).route;
    expect(route.group_by).toEqual(['alertname', 'source_workload_namespace', 'source_workload']);
  });

  test('the message template renders the anomaly alert to exactly the fixture\'s SNS message, and the subject to its subject', () => {
    const data = anomalyData();
    expect(renderGoTemplate(sns.message, data)).toBe(record.Sns.Message);
    const subject = renderGoTemplate(sns.subject, data);
    expect(subject).toBe(record.Sns.Subject);
    // SNS: under 100 printable ASCII characters, no line break.
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  test('the rendered message is the JSON shape the responder parses: one request for the mesh workload shop/user', () => {
    const message = JSON.parse(record.Sns.Message);
    expect(message).toEqual({
      format: ALERT_MESSAGE_FORMAT,
      cluster: CLUSTER,
      receiver: ALERT_RECEIVER,
      status: 'firing',
      alerts: [{
        status: 'firing',
        labels: {
          alertname: 'MeshRequestRateAnomaly',
          quarantine: 'true',
          severity: 'warning',
          source_principal: 'spiffe://cluster.local/ns/shop/sa/user',
          source_workload: 'user',
          source_workload_namespace: 'shop',
        },
        annotations: { summary: SUMMARY },
        startsAt: '2026-03-01T12:00:00.000Z',
        fingerprint: '3f9a1c2b7d4e5f60',
      }],
    });
    expect(handler.parseInput({ Records: [record] })).toEqual([{
      source: 'sns',
      id: 'alertmanager:3f9a1c2b7d4e5f60',
      reason: `MeshRequestRateAnomaly: ${SUMMARY}`,
      cluster: CLUSTER,
      eventTime: Date.parse('2026-03-01T12:00:00.000Z'),
      target: { kind: 'Workload', namespace: 'shop', name: 'user' },
    }]);
  });

  test('the producer and the consumer agree on the format and on the quarantine mark', () => {
    expect(handler.ALERT_MESSAGE_FORMAT).toBe(ALERT_MESSAGE_FORMAT);
    expect(handler.QUARANTINE_MARK).toEqual({ label: QUARANTINE_LABEL.name, value: QUARANTINE_LABEL.value });
  });

  test('several alerts, and quotes, backslashes and non-ASCII text in labels and annotations, still render valid JSON', () => {
    const data = anomalyData({ note: 'say "hi" \\ bye' }, { summary: 'débit ×3 — 🚨' });
    const second = { ...data.Alerts[0], Status: 'resolved' as const, Fingerprint: 'aaaaaaaaaaaaaaaa', Labels: new KV({ alertname: 'MeshAuthorizationDenials' }) };
    const message = JSON.parse(renderGoTemplate(sns.message, { ...data, Alerts: [data.Alerts[0], second] }));
    expect(message.alerts.map((a: any) => [a.status, a.labels.alertname])).toEqual([['firing', 'MeshRequestRateAnomaly'], ['resolved', 'MeshAuthorizationDenials']]);
    expect(message.alerts[0].labels.note).toBe('say "hi" \\ bye');
    expect(message.alerts[0].annotations.summary).toBe('débit ×3 — 🚨');
    expect(message.alerts[1].annotations).toEqual({ summary: 'débit ×3 — 🚨' });
    expect(Object.keys(message.alerts[0].labels)[0]).toBe('alertname');
  });

  test('the known limit: a control character in a value makes Go\'s %q write \\x.., which is not JSON; the responder drops that message', () => {
    const rendered = renderGoTemplate(sns.message, anomalyData({}, { summary: 'bell\u0007 and escape\u001b' }));
    expect(rendered).toContain('bell\\a and escape\\x1b');
    expect(() => JSON.parse(rendered)).toThrow();
    const parsed = handler.parseInput({ Records: [{ ...record, Sns: { ...record.Sns, Message: rendered } }] });
    expect(parsed).toEqual([expect.objectContaining({ malformed: expect.stringContaining('not a JSON object') })]);
  });
});

describe('the rules mark only the request-rate anomaly for quarantine', () => {
  const rules = parseYaml(prometheusRules({ denialRateThreshold: 0, anomalyFactor: 2, anomalyMinimumRate: 1 }));
  const alerts = rules.groups.flatMap((g: any) => g.rules).filter((r: any) => r.alert);

  test('MeshRequestRateAnomaly carries quarantine="true" (a string, as Prometheus labels are); no other alert does', () => {
    expect(alerts.map((r: any) => [r.alert, r.labels.quarantine])).toEqual([
      ['MeshAuthorizationDenials', undefined],
      ['MeshRequestRateAnomaly', 'true'],
      ['IstioXdsRejects', undefined],
    ]);
  });

  test('its series name the sending workload: the recorded rate is summed by source_workload_namespace and source_workload', () => {
    const recorded = rules.groups[0].rules.find((r: any) => r.record === 'zero_trust:istio_requests_by_source:rate5m');
    expect(recorded.expr).toMatch(/^sum by \(source_workload_namespace, source_workload, source_principal\) /);
    const anomaly = alerts.find((r: any) => r.alert === 'MeshRequestRateAnomaly');
    expect(anomaly.expr).toContain('zero_trust:istio_requests_by_source:rate5m');
  });
});

describe('the Go template substitute behaves as text/template for what the templates use', () => {
  test('trim markers remove all adjacent white space; range gives index and element; if follows Go\'s truth', () => {
    const t = '[\n  {{- range $i, $x := .Items }}{{ if $i }},{{ end }}{{ $x.Name }}{{ end -}}\n  ]{{ if .Empty }}no{{ end }}{{ if .Zero }}no{{ end }}';
    expect(renderGoTemplate(t, { Items: [{ Name: 'a' }, { Name: 'b' }], Empty: '', Zero: 0 })).toBe('[a,b]');
  });

  test('KV.SortedPairs puts alertname first, then sorts; a missing key is the empty string', () => {
    expect(new KV({ b: '2', alertname: 'X', a: '1' }).SortedPairs().map(p => p.Name)).toEqual(['alertname', 'a', 'b']);
    expect(renderGoTemplate('<{{ .L.missing }}>', { L: new KV({}) })).toBe('<>');
  });

  test('%q is strconv.Quote; unsupported constructs fail instead of rendering wrongly', () => {
    expect(goQuote('a"b\\c\n\u0000é')).toBe('"a\\"b\\\\c\\n\\x00é"');
    expect(goQuote('\u200b')).toBe('"\\u200b"');
    expect(() => renderGoTemplate('{{ .A | printf "%q" }}', { A: 'x' })).toThrow(/pipes/);
    expect(() => renderGoTemplate('{{ if .A }}x{{ else }}y{{ end }}', { A: 'x' })).toThrow(/not supported/);
    expect(() => renderGoTemplate('{{ toUpper .A }}', { A: 'x' })).toThrow(/not supported/);
    expect(() => new GoTime('2026-03-01T12:00:00Z').Format('2006-01-02')).toThrow(/layout/);
  });
});
