import { FakeApiServer } from './fake-api-server';
import * as alertFixture from './fixtures/sns-alertmanager-anomaly.json';
import { createHandler, HttpKubeApi, QuarantineRecord, ResponderConfig } from '../../lib/response/handler';

/**
 * Alert manager notifications (the JSON that the library's SNS message template renders, see
 * test/observability/alert-message.test.ts for the template producing the fixture) through the
 * handler to the loopback API server: only firing alerts marked `quarantine="true"` act; the mesh
 * workload name they carry (Istio `source_workload`) is resolved to the one workload of that name.
 */

const LABEL = 'zero-trust.cdk.io/quarantine';
const SUMMARY = 'shop/user sends more than 2x its highest request rate of the previous day';
const FORMAT = 'zero-trust-eks/alertmanager-sns/v1';
const CLUSTER = 'shop-cluster';
const USER_POD = 'user-5c7b9d8f6-qq9zt';

let server: FakeApiServer;
let published: QuarantineRecord[];
let logLines: string[];

function handler(config: Partial<ResponderConfig> = {}) {
  const kube = new HttpKubeApi({ baseUrl: server.url, token: async () => 'test-token', timeoutMs: 2000 });
  return createHandler({ clusterName: CLUSTER, ...config }, {
    kube,
    publisher: { publish: async r => { published.push(r); } },
    log: line => logLines.push(line),
  });
}

/** The fixture, with its alert starting now, its message edited (`alerts` and the rest), re-serialised. */
function notification(edit: (message: any) => void = () => {}): any {
  const event = JSON.parse(JSON.stringify((alertFixture as any).default ?? alertFixture));
  const message = JSON.parse(event.Records[0].Sns.Message);
  for (const a of message.alerts) {
    a.startsAt = new Date().toISOString();
  }
  edit(message);
  event.Records[0].Sns.Message = JSON.stringify(message);
  return event;
}

const labels = (name: string, ns = 'shop') => server.pods.get(`${ns}/${name}`)?.metadata.labels;

beforeEach(async () => {
  server = await FakeApiServer.start();
  published = [];
  logLines = [];
  server.addWorkload('Deployment', 'shop', 'user', 'user-deploy-uid', { matchLabels: { app: 'user' } }, { replicas: 2 });
  server.addPod('shop', USER_POD, 'user-pod-uid', { 'app': 'user', 'pod-template-hash': '5c7b9d8f6' },
    { kind: 'ReplicaSet', name: 'user-5c7b9d8f6', uid: 'rs-user' });
  server.addPod('shop', 'order-7d9f8b6c5-x2x4p', 'order-pod-uid', { 'app': 'order', 'pod-template-hash': '7d9f8b6c5' },
    { kind: 'ReplicaSet', name: 'order-7d9f8b6c5', uid: 'rs-order' });
});

afterEach(async () => {
  await server.stop();
});

describe('alert manager notifications to a labelled pod', () => {
  test('the fixture (MeshRequestRateAnomaly for shop/user) labels the pods of Deployment shop/user, and only them', async () => {
    const records = await handler()(notification());
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({
      outcome: 'quarantined',
      source: 'sns',
      cluster: CLUSTER,
      findingId: 'alertmanager:3f9a1c2b7d4e5f60',
      findingType: `MeshRequestRateAnomaly: ${SUMMARY}`,
      target: { kind: 'Workload', namespace: 'shop', name: 'user' },
    });
    expect(record.resolution).toContain('the alert names the mesh workload shop/user, a Deployment: quarantining its 1 pod(s)');
    expect(record.pods).toEqual([expect.objectContaining({ name: USER_POD, result: 'labelled' })]);
    expect(labels(USER_POD)?.[LABEL]).toBe('true');
    expect(labels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
    expect(record.eventToLabelMs).toBeGreaterThanOrEqual(0);
    expect(record.eventToLabelMs).toBeLessThan(1000);
    // The name is looked up as each kind Istio can name (only the Deployment exists), then its pods by selector.
    expect(server.requests.map(r => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /apis/apps/v1/namespaces/shop/deployments/user 200',
      'GET /apis/apps/v1/namespaces/shop/statefulsets/user 404',
      'GET /apis/apps/v1/namespaces/shop/daemonsets/user 404',
      'GET /apis/batch/v1/namespaces/shop/jobs/user 404',
      'GET /api/v1/namespaces/shop/pods?labelSelector=app%3Duser 200',
      `GET /api/v1/namespaces/shop/pods/${USER_POD} 200`,
      `PATCH /api/v1/namespaces/shop/pods/${USER_POD} 200`,
    ]);
    expect(server.patches[0].contentType).toBe('application/merge-patch+json');
    expect(published).toEqual([record]);
  });

  test('duplicate delivery of the same notification: nothing is patched the second time', async () => {
    const h = handler();
    const event = notification();
    await h(event);
    const [second] = await h(event);
    expect(second.outcome).toBe('already-quarantined');
    expect(server.patches).toHaveLength(1);
  });

  test('an alert not marked quarantine="true" (MeshAuthorizationDenials) is recorded and ignored: no API call, no notification', async () => {
    const [record] = await handler()(notification(m => {
      m.alerts[0].labels = { alertname: 'MeshAuthorizationDenials', severity: 'warning', source_workload: 'user', source_workload_namespace: 'shop' };
    }));
    expect(record.outcome).toBe('ignored');
    expect(record.reason).toBe('alert MeshAuthorizationDenials is not marked for quarantine (its rule has no label quarantine="true"): recorded, no action');
    expect(server.requests).toHaveLength(0);
    expect(published).toHaveLength(0);
    expect(JSON.parse(logLines[0])).toMatchObject({ outcome: 'ignored', findingType: `MeshAuthorizationDenials: ${SUMMARY}` });
  });

  test.each([['false'], ['yes'], ['']])('quarantine="%s" is not the mark: ignored', async value => {
    const [record] = await handler()(notification(m => { m.alerts[0].labels.quarantine = value; }));
    expect(record.outcome).toBe('ignored');
    expect(server.requests).toHaveLength(0);
  });

  test('a resolved alert is recorded and ignored (it releases nothing)', async () => {
    const [record] = await handler()(notification(m => { m.status = 'resolved'; m.alerts[0].status = 'resolved'; }));
    expect(record.outcome).toBe('ignored');
    expect(record.reason).toContain('is "resolved", not firing');
    expect(server.requests).toHaveLength(0);
  });

  test('one notification with several alerts: one record each, and only the marked, firing one acts', async () => {
    const records = await handler()(notification(m => {
      const marked = m.alerts[0];
      m.alerts = [
        { ...marked, labels: { ...marked.labels, alertname: 'MeshAuthorizationDenials', quarantine: undefined }, fingerprint: '1111111111111111' },
        marked,
        { ...marked, status: 'resolved', fingerprint: '2222222222222222' },
      ];
    }));
    expect(records.map(r => [r.findingId, r.outcome])).toEqual([
      ['alertmanager:1111111111111111', 'ignored'],
      ['alertmanager:3f9a1c2b7d4e5f60', 'quarantined'],
      ['alertmanager:2222222222222222', 'ignored'],
    ]);
    expect(server.patches).toHaveLength(1);
  });

  test('an alert for another cluster is ignored; a label cluster overrides the message\'s', async () => {
    const [other] = await handler()(notification(m => { m.cluster = 'staging'; }));
    expect(other.outcome).toBe('ignored');
    expect(other.reason).toContain("cluster 'staging'");
    const [byLabel] = await handler()(notification(m => { m.cluster = 'staging'; m.alerts[0].labels.cluster = CLUSTER; }));
    expect(byLabel.outcome).toBe('quarantined');
  });

  test('a mesh workload name that is a StatefulSet resolves to it; a name two kinds share labels nothing', async () => {
    server.addWorkload('StatefulSet', 'shop', 'db', 'sts-uid', { matchLabels: { app: 'db' } });
    server.addPod('shop', 'db-0', 'db-0-uid', { app: 'db' }, { kind: 'StatefulSet', name: 'db', uid: 'sts-uid' });
    const [db] = await handler()(notification(m => { m.alerts[0].labels.source_workload = 'db'; }));
    expect(db.outcome).toBe('quarantined');
    expect(db.resolution).toContain('mesh workload shop/db, a StatefulSet');
    expect(labels('db-0')?.[LABEL]).toBe('true');

    server.addWorkload('StatefulSet', 'shop', 'user', 'user-sts-uid', { matchLabels: { app: 'user-db' } });
    const [ambiguous] = await handler()(notification());
    expect(ambiguous.outcome).toBe('ignored');
    expect(ambiguous.reason).toContain('is the name of a Deployment and a StatefulSet: refusing to guess');
    expect(labels(USER_POD)?.[LABEL]).toBeUndefined();
  });

  test('a mesh workload name that names no workload is taken as a bare pod\'s name', async () => {
    server.addPod('shop', 'debug-shell', 'debug-uid', { run: 'debug-shell' });
    const [bare] = await handler()(notification(m => { m.alerts[0].labels.source_workload = 'debug-shell'; }));
    expect(bare.outcome).toBe('quarantined');
    expect(bare.resolution).toContain('taken as a bare pod\'s name: pod shop/debug-shell');
    expect(labels('debug-shell')?.[LABEL]).toBe('true');
  });

  /** The fixture's alert with its Istio source labels replaced by `labels` (alertname and the mark kept). */
  const withoutSource = (alertLabels: Record<string, string>) => notification(m => {
    m.alerts[0].labels = { alertname: 'PodAnomaly', quarantine: 'true', ...alertLabels };
  });

  test('with no source_* label, a `pod` label (with `namespace`) names the pod itself, and a `workload` label a workload', async () => {
    const [byPod] = await handler()(withoutSource({ namespace: 'shop', pod: 'order-7d9f8b6c5-x2x4p' }));
    expect(byPod.target).toEqual({ kind: 'Pod', namespace: 'shop', name: 'order-7d9f8b6c5-x2x4p' });
    expect(byPod.outcome).toBe('quarantined');
    expect(labels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBe('true');
    expect(labels(USER_POD)?.[LABEL]).toBeUndefined();

    const [byWorkload] = await handler()(withoutSource({ namespace: 'shop', workload: 'user', workload_kind: 'Deployment' }));
    expect(byWorkload.target).toEqual({ kind: 'Deployment', namespace: 'shop', name: 'user' });
    expect(labels(USER_POD)?.[LABEL]).toBe('true');

    const [nothing] = await handler()(withoutSource({ namespace: 'shop' }));
    expect(nothing.outcome).toBe('ignored');
    expect(nothing.reason).toBe('no pod to quarantine: the alert has no source_workload, pod or workload label (or Istio reported it as "unknown")');
  });

  test('mixed labels (a destination-reported series: namespace/pod are the victim\'s): the source workload is the target, the pod is untouched', async () => {
    // istio_requests_total{reporter="destination"} as scraped from the order pod: the scrape relabels namespace/pod to
    // the pod that reported it (the destination), while source_* name the caller, shop/user.
    const [record] = await handler()(notification(m => {
      Object.assign(m.alerts[0].labels, { namespace: 'shop', pod: 'order-7d9f8b6c5-x2x4p', workload: 'order', destination_workload: 'order' });
    }));
    expect(record.target).toEqual({ kind: 'Workload', namespace: 'shop', name: 'user' });
    expect(record.outcome).toBe('quarantined');
    expect(labels(USER_POD)?.[LABEL]).toBe('true');
    expect(labels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
    expect(server.patches.map(p => p.path)).toEqual([`/api/v1/namespaces/shop/pods/${USER_POD}`]);
  });

  test('source_* labels without a known source workload: no target at all, never the namespace/pod labels', async () => {
    for (const edit of [
      (l: Record<string, string>) => { l.source_workload = 'unknown'; },
      (l: Record<string, string>) => { delete l.source_workload; delete l.source_workload_namespace; },
      (l: Record<string, string>) => { delete l.source_workload_namespace; },
    ]) {
      const [record] = await handler()(notification(m => {
        Object.assign(m.alerts[0].labels, { namespace: 'shop', pod: 'order-7d9f8b6c5-x2x4p' });
        edit(m.alerts[0].labels);
      }));
      expect(record.outcome).toBe('ignored');
      expect(record.target).toBeUndefined();
      expect(record.reason).toMatch(/^no pod to quarantine: the alert has Istio source labels \(source_principal.*\) but no known source_workload_namespace and source_workload .*its namespace, pod and workload labels may name the destination, so they are not used$/);
    }
    expect(server.requests).toHaveLength(0);
    expect(labels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
  });

  test('workload_kind on the rule fixes the kind; an unknown one, or Istio\'s "unknown" workload, names nothing', async () => {
    const [kinded] = await handler()(notification(m => { m.alerts[0].labels.workload_kind = 'Deployment'; }));
    expect(kinded.target).toEqual({ kind: 'Deployment', namespace: 'shop', name: 'user' });
    expect(server.requests.filter(r => r.path.includes('statefulsets'))).toHaveLength(0);

    const [cron] = await handler()(notification(m => { m.alerts[0].labels.workload_kind = 'CronJob'; }));
    expect(cron.outcome).toBe('ignored');
    expect(cron.reason).toContain('workload_kind "CronJob" is not one of');

    const [unknown] = await handler()(notification(m => { m.alerts[0].labels.source_workload = 'unknown'; }));
    expect(unknown.outcome).toBe('ignored');
    expect(unknown.reason).toContain('but no known source_workload_namespace and source_workload (got "shop"/"unknown")');
  });

  test('a namespace outside the responder\'s namespaces is ignored', async () => {
    const [record] = await handler({ namespaces: ['payments'] })(notification());
    expect(record.outcome).toBe('ignored');
    expect(server.requests).toHaveLength(0);
  });
});

describe('other messages on the alert topic', () => {
  const sns = (message: string) => {
    const event = notification();
    event.Records[0].Sns.Message = message;
    return event;
  };

  test('a CloudWatch alarm notification (the responder subscribed to the alarm topic) is dropped: logged and published as dropped', async () => {
    const alarm = JSON.stringify({ AlarmName: 'PodExecAttach', NewStateValue: 'ALARM', NewStateReason: 'Threshold Crossed', StateChangeTime: '2026-03-01T12:00:00.000+0000' });
    const [record] = await handler()(sns(alarm));
    expect(record.outcome).toBe('dropped');
    expect(record.reason).toBe('malformed input, dropped without retry: a CloudWatch alarm notification (PodExecAttach: ALARM) has no format, '
      + `not "${FORMAT}" (the library's alert manager template): not a quarantine request. `
      + 'The responder must subscribe to ManagedPrometheus.alertTopic only (this came from arn:aws:sns:eu-west-1:111122223333:zero-trust-alerts)');
    expect(published).toEqual([record]);
    expect(JSON.parse(logLines[0])).toMatchObject({ outcome: 'dropped', reason: record.reason });
    expect(server.requests).toHaveLength(0);
  });

  /** The fixture's message, as a forger would write it: everything right, a quarantine-marked alert for shop/user. */
  const forged = (format: unknown) => {
    const message = JSON.parse(notification().Records[0].Sns.Message);
    if (format === undefined) {
      delete message.format;
    } else {
      message.format = format;
    }
    return JSON.stringify(message);
  };

  test.each([
    ['without format', forged(undefined), 'SNS message has no format'],
    ['of another format', forged('zero-trust-eks/alertmanager-sns/v2'), 'SNS message has format "zero-trust-eks/alertmanager-sns/v2"'],
    ['with the format in another case', forged(FORMAT.toUpperCase()), `SNS message has format "${FORMAT.toUpperCase()}"`],
    ['with a non-string format', forged(1), 'SNS message has format 1'],
  ])('a well-formed, quarantine-marked alert notification %s is dropped (logged, published), and nothing is labelled', async (_name, message, why) => {
    const [record] = await handler()(sns(message));
    expect(record.outcome).toBe('dropped');
    expect(record.reason).toContain(why);
    expect(record.reason).toContain(`not "${FORMAT}"`);
    expect(published).toEqual([record]);
    expect(JSON.parse(logLines[0])).toMatchObject({ outcome: 'dropped' });
    expect(server.requests).toHaveLength(0);
    expect(labels(USER_POD)?.[LABEL]).toBeUndefined();
  });

  test.each([
    ['the alert manager\'s default text message', '[FIRING:1] MeshRequestRateAnomaly (shop user)\nLabels:\n - alertname = MeshRequestRateAnomaly'],
    ['JSON without alerts', JSON.stringify({ format: FORMAT, receiver: 'zero-trust-alerts', status: 'firing' })],
    ['an empty alerts array', JSON.stringify({ format: FORMAT, receiver: 'zero-trust-alerts', status: 'firing', alerts: [] })],
    ['a marked alert without a cluster', JSON.stringify({ format: FORMAT, alerts: [{ status: 'firing', labels: { quarantine: 'true', source_workload: 'user', source_workload_namespace: 'shop' }, startsAt: new Date().toISOString() }] })],
  ])('%s is dropped as malformed, published, never retried', async (_name, message) => {
    const records = await handler()(sns(message));
    expect(records.map(r => r.outcome)).toEqual(['dropped']);
    expect(published).toEqual(records);
    expect(server.requests).toHaveLength(0);
  });
});
