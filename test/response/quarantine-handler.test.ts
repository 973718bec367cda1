import { FakeApiServer } from './fake-api-server';
import * as auditDeployment from './fixtures/guardduty-audit-deployment.json';
import * as runtimePod from './fixtures/guardduty-runtime-pod.json';
import * as snsAlert from './fixtures/sns-alertmanager-anomaly.json';
import { createHandler, HttpKubeApi, KubeApiError, QuarantineRecord, ResponderConfig } from '../../lib/response/handler';

/**
 * The quarantine handler against a loopback HTTP server that behaves like kube-apiserver
 * (fake-api-server.ts). No function of the Kubernetes client is mocked: every call is HTTP.
 * GuardDuty findings here; alert manager alerts in quarantine-alerts.test.ts; the scale-down
 * action in quarantine-scale-down.test.ts.
 */

const LABEL = 'zero-trust.cdk.io/quarantine';
const CLUSTER = 'shop-cluster';
const POD_UID = runtimePod.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.uid;
const DEPLOY_UID = auditDeployment.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.uid;

/** A fresh copy of a fixture (JSON imports are shared module objects), stamped with the current time. */
function fresh<T>(fixture: T, edit: (e: any) => void = () => {}): any {
  const e = JSON.parse(JSON.stringify((fixture as any).default ?? fixture));
  if (e.time) {
    e.time = new Date().toISOString();
  }
  edit(e);
  return e;
}

let server: FakeApiServer;
let published: QuarantineRecord[];
let logLines: string[];

function handler(config: Partial<ResponderConfig> = {}, timeoutMs = 2000) {
  const kube = new HttpKubeApi({ baseUrl: server.url, token: async () => 'test-token', timeoutMs });
  return createHandler({ clusterName: CLUSTER, severityThreshold: 7, ...config }, {
    kube,
    publisher: { publish: async r => { published.push(r); } },
    log: line => logLines.push(line),
  });
}

beforeEach(async () => {
  server = await FakeApiServer.start();
  published = [];
  logLines = [];
  server.addPod('shop', 'order-7d9f8b6c5-x2x4p', POD_UID, { 'app': 'order', 'pod-template-hash': '7d9f8b6c5' },
    { kind: 'ReplicaSet', name: 'order-7d9f8b6c5', uid: 'rs-uid-1' });
});

afterEach(async () => {
  await server.stop();
});

const podLabels = (name: string, ns = 'shop') => server.pods.get(`${ns}/${name}`)?.metadata.labels;

describe('quarantine handler, GuardDuty findings', () => {
  test('happy path: a runtime finding on a pod labels that pod with a merge patch under uid and resourceVersion preconditions', async () => {
    const before = server.pods.get('shop/order-7d9f8b6c5-x2x4p')!.metadata.resourceVersion;
    const [record] = await handler()(fresh(runtimePod));

    expect(record.outcome).toBe('quarantined');
    expect(podLabels('order-7d9f8b6c5-x2x4p')).toEqual({ 'app': 'order', 'pod-template-hash': '7d9f8b6c5', [LABEL]: 'true' });
    expect(server.pods.get('shop/order-7d9f8b6c5-x2x4p')!.metadata.annotations?.[`${LABEL}-reason`])
      .toContain('Execution:Runtime/ReverseShell');
    expect(server.patches).toHaveLength(1);
    const patch = server.patches[0];
    expect(patch.status).toBe(200);
    expect(patch.path).toBe('/api/v1/namespaces/shop/pods/order-7d9f8b6c5-x2x4p');
    expect(patch.contentType).toBe('application/merge-patch+json');
    expect(patch.body).toMatchObject({ metadata: { uid: POD_UID, resourceVersion: before, labels: { [LABEL]: 'true' } } });

    expect(record.pods).toEqual([expect.objectContaining({ name: 'order-7d9f8b6c5-x2x4p', uid: POD_UID, result: 'labelled' })]);
    expect(record.resolution).toContain(`pod shop/order-7d9f8b6c5-x2x4p with uid ${POD_UID}`);
    expect(record.findingType).toBe('Execution:Runtime/ReverseShell');
    expect(record.eventToLabelMs).toBeGreaterThanOrEqual(0);
    expect(record.eventToLabelMs).toBeLessThan(1000);
    expect(published).toEqual([record]);
    expect(JSON.parse(logLines[0])).toMatchObject({ level: 'INFO', message: 'quarantine-responder', outcome: 'quarantined', findingId: runtimePod.detail.id });
  });

  test('a finding that names a Deployment quarantines exactly its pods (selector and ownership) and says so', async () => {
    server.addWorkload('Deployment', 'shop', 'order', DEPLOY_UID, { matchLabels: { app: 'order' } });
    server.addPod('shop', 'order-7d9f8b6c5-abcde', 'uid-2', { 'app': 'order', 'pod-template-hash': '7d9f8b6c5' },
      { kind: 'ReplicaSet', name: 'order-7d9f8b6c5', uid: 'rs-uid-1' });
    // A neighbour whose labels match the selector but that another controller owns.
    server.addPod('shop', 'order-canary-55f6-zzzzz', 'uid-3', { 'app': 'order', 'pod-template-hash': '55f6' },
      { kind: 'ReplicaSet', name: 'order-canary-55f6', uid: 'rs-uid-2' });
    server.addPod('shop', 'user-1', 'uid-4', { app: 'user' }, { kind: 'ReplicaSet', name: 'user-abc', uid: 'rs-uid-3' });

    const [record] = await handler()(fresh(auditDeployment));

    expect(record.outcome).toBe('quarantined');
    expect(record.resolution).toMatch(/names Deployment shop\/order, not a pod: quarantining its 2 pod\(s\)/);
    expect(record.pods.map(p => [p.name, p.result])).toEqual([['order-7d9f8b6c5-x2x4p', 'labelled'], ['order-7d9f8b6c5-abcde', 'labelled']]);
    expect(podLabels('order-7d9f8b6c5-abcde')?.[LABEL]).toBe('true');
    expect(podLabels('order-canary-55f6-zzzzz')?.[LABEL]).toBeUndefined();
    expect(podLabels('user-1')?.[LABEL]).toBeUndefined();
    expect(server.requests.find(r => r.path.startsWith('/api/v1/namespaces/shop/pods?'))?.path).toBe('/api/v1/namespaces/shop/pods?labelSelector=app%3Dorder');
  });

  test('a StatefulSet finding uses the controller uid; a replaced Deployment (other uid) labels nothing', async () => {
    server.addWorkload('StatefulSet', 'shop', 'db', 'sts-uid', { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] });
    server.addPod('shop', 'db-0', 'db-0-uid', { app: 'db' }, { kind: 'StatefulSet', name: 'db', uid: 'sts-uid' });
    server.addPod('shop', 'db-old-0', 'db-old-uid', { app: 'db' }, { kind: 'StatefulSet', name: 'db', uid: 'previous-sts-uid' });
    const sts = fresh(runtimePod, e => Object.assign(e.detail.resource.kubernetesDetails.kubernetesWorkloadDetails, { type: 'StatefulSets', name: 'db', uid: 'sts-uid' }));
    const [record] = await handler()(sts);
    expect(record.pods.map(p => [p.name, p.result])).toEqual([['db-0', 'labelled']]);
    expect(podLabels('db-old-0')?.[LABEL]).toBeUndefined();

    server.addWorkload('Deployment', 'shop', 'order', 'a-newer-deployment-uid', { matchLabels: { app: 'order' } });
    const [replaced] = await handler()(fresh(auditDeployment));
    expect(replaced.outcome).toBe('replaced');
    expect(podLabels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
  });

  test('pod already gone: 404 is a recorded success, nothing patched, no retry', async () => {
    server.pods.clear();
    const [record] = await handler()(fresh(runtimePod));
    expect(record.outcome).toBe('not-found');
    expect(record.pods).toEqual([expect.objectContaining({ result: 'gone' })]);
    expect(server.patches).toHaveLength(0);
    expect(published).toEqual([record]);
  });

  test('pod deleted between read and patch: the 404 on PATCH is recorded as gone', async () => {
    server.beforePatch = (ns, name) => server.pods.delete(`${ns}/${name}`);
    const [record] = await handler()(fresh(runtimePod));
    expect(record.outcome).toBe('not-found');
    expect(server.patches.map(p => p.status)).toEqual([404]);
  });

  test('unknown cluster: ignored with a log line, no API call, no notification', async () => {
    const [record] = await handler()(fresh(runtimePod, e => { e.detail.resource.eksClusterDetails.name = 'other-cluster'; }));
    expect(record.outcome).toBe('ignored');
    expect(record.reason).toContain("cluster 'other-cluster'");
    expect(server.requests).toHaveLength(0);
    expect(published).toHaveLength(0);
    expect(JSON.parse(logLines[0])).toMatchObject({ outcome: 'ignored', cluster: 'other-cluster' });
    expect(podLabels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
  });

  test('severity below the threshold: ignored; at the threshold: acted on', async () => {
    const [low] = await handler({ severityThreshold: 7 })(fresh(runtimePod, e => { e.detail.severity = 5.5; }));
    expect(low.outcome).toBe('ignored');
    expect(low.reason).toBe('severity 5.5 is below the threshold 7');
    expect(server.requests).toHaveLength(0);

    const [atThreshold] = await handler({ severityThreshold: 7 })(fresh(runtimePod, e => { e.detail.severity = 7; }));
    expect(atThreshold.outcome).toBe('quarantined');
  });

  test.each([
    ['not an object', 'nope'],
    ['an unrelated event', { 'source': 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', 'detail': {} }],
    ['a finding without detail', fresh(runtimePod, e => { delete e.detail; })],
    ['a severity that is a string', fresh(runtimePod, e => { e.detail.severity = 'HIGH'; })],
    ['a finding without a cluster', fresh(runtimePod, e => { delete e.detail.resource.eksClusterDetails; })],
    ['an unparsable time', fresh(runtimePod, e => { e.time = 'yesterday'; e.detail.updatedAt = undefined; })],
    ['an SNS message that is not JSON', fresh(snsAlert, e => { e.Records[0].Sns.Message = 'ALARM: {'; })],
    ['an SNS event without records', { Records: [] }],
  ])('malformed input (%s): recorded and dropped, no API call, no throw', async (_name, input) => {
    const records = await handler()(input);
    expect(records.map(r => r.outcome)).toEqual(['dropped']);
    expect(records[0].reason).toMatch(/^malformed input, dropped without retry: /);
    expect(server.requests).toHaveLength(0);
    expect(published).toEqual(records);
  });

  test('a finding whose workload kind the responder does not resolve (CronJob) is ignored and says why', async () => {
    const [record] = await handler()(fresh(runtimePod, e => { e.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.type = 'CronJobs'; }));
    expect(record.outcome).toBe('ignored');
    expect(record.reason).toContain('"CronJobs" is not one of');
    expect(server.requests).toHaveLength(0);
  });

  test('a namespace outside the allowed list is ignored', async () => {
    const [record] = await handler({ namespaces: ['payments'] })(fresh(runtimePod));
    expect(record.outcome).toBe('ignored');
    expect(server.requests).toHaveLength(0);
  });

  test('duplicate delivery: the second delivery reads, sees the label, and sends no second PATCH', async () => {
    const h = handler();
    const event = fresh(runtimePod);
    const [first] = await h(event);
    const [second] = await h(event);
    expect(first.outcome).toBe('quarantined');
    expect(second.outcome).toBe('already-quarantined');
    expect(second.pods).toEqual([expect.objectContaining({ result: 'already-labelled' })]);
    expect(server.patches).toHaveLength(1);
    // Concurrent duplicates: both may read before either patches; the loser's 409 re-read sees the label.
    server.pods.get('shop/order-7d9f8b6c5-x2x4p')!.metadata.labels = { 'app': 'order', 'pod-template-hash': '7d9f8b6c5' };
    const both = await Promise.all([h(fresh(runtimePod)), h(fresh(runtimePod))]);
    expect(both.map(([r]) => r.outcome).sort()).toEqual(['already-quarantined', 'quarantined']);
    expect(server.patches.filter(p => p.status === 200)).toHaveLength(2);
  });

  test('UID mismatch: the pod with that name was replaced, so nothing is labelled', async () => {
    server.addPod('shop', 'order-7d9f8b6c5-x2x4p', 'a-replacement-uid', { app: 'order' });
    const [record] = await handler()(fresh(runtimePod));
    expect(record.outcome).toBe('replaced');
    expect(record.pods).toEqual([expect.objectContaining({ result: 'replaced', uid: 'a-replacement-uid' })]);
    expect(server.patches).toHaveLength(0);
    expect(podLabels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
  });

  test('409 on a moved resourceVersion: one re-read and retry labels the same pod', async () => {
    let first = true;
    server.beforePatch = (ns, name) => {
      if (first) {
        first = false;
        server.touch(ns, name);
      }
    };
    const [record] = await handler()(fresh(runtimePod));
    expect(record.outcome).toBe('quarantined');
    expect(server.patches.map(p => p.status)).toEqual([409, 200]);
    expect(podLabels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBe('true');
  });

  test('409 because the pod was replaced between read and patch: the uid precondition protects the replacement', async () => {
    server.beforePatch = (ns, name) => {
      server.beforePatch = undefined;
      server.addPod(ns, name, 'replacement-uid', { app: 'order' });
    };
    const [record] = await handler()(fresh(runtimePod, e => { delete e.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.uid; }));
    expect(server.patches.map(p => p.status)).toEqual([409]);
    expect(record.outcome).toBe('replaced');
    expect(record.resolution).toContain('gave no uid');
    expect(podLabels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
  });

  test('two conflicts in a row fail the invocation so that the platform retries', async () => {
    server.beforePatch = (ns, name) => server.touch(ns, name);
    await expect(handler()(fresh(runtimePod))).rejects.toThrow(/conflicted twice/);
    expect(server.patches.map(p => p.status)).toEqual([409, 409]);
    expect(published.map(r => r.outcome)).toEqual(['failed']);
  });

  test('API timeout: bounded, recorded, then the invocation fails for a retry', async () => {
    server.hang = true;
    const started = Date.now();
    const error = await handler({}, 300)(fresh(runtimePod)).catch(e => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error.message).toMatch(/no answer within 300 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
    expect(published).toEqual([expect.objectContaining({ outcome: 'failed', error: expect.stringContaining('no answer') })]);
    expect(JSON.parse(logLines[0]).level).toBe('ERROR');
  });

  test('a rejected token (401) fails the invocation (retried), never reported as done', async () => {
    const wrongToken = createHandler({ clusterName: CLUSTER }, {
      kube: new HttpKubeApi({ baseUrl: server.url, token: async () => 'stolen', timeoutMs: 1000 }),
      publisher: { publish: async r => { published.push(r); } },
      log: () => {},
    });
    await expect(wrongToken(fresh(runtimePod))).rejects.toThrow(/HTTP 401/);
    expect(podLabels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
  });
});

describe('the loopback API server rejects what kube-apiserver rejects', () => {
  test('a PATCH without the merge-patch content type gets 415 and changes nothing', async () => {
    const res = await fetch(`${server.url}/api/v1/namespaces/shop/pods/order-7d9f8b6c5-x2x4p`, {
      method: 'PATCH',
      headers: { 'Authorization': 'Bearer test-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { labels: { [LABEL]: 'true' } } }),
    });
    expect(res.status).toBe(415);
    expect(podLabels('order-7d9f8b6c5-x2x4p')?.[LABEL]).toBeUndefined();
  });
});

describe('event-to-label latency on loopback', () => {
  test('20 findings on 20 pods: every label applied within a second of the event time', async () => {
    const latencies: number[] = [];
    const h = handler();
    for (let i = 0; i < 20; i++) {
      server.addPod('shop', `p-${i}`, `uid-${i}`, { app: 'x' });
      const [r] = await h(fresh(runtimePod, e => Object.assign(e.detail.resource.kubernetesDetails.kubernetesWorkloadDetails, { name: `p-${i}`, uid: `uid-${i}` })));
      expect(r.outcome).toBe('quarantined');
      latencies.push(r.eventToLabelMs!);
    }
    latencies.sort((a, b) => a - b);
    // eslint-disable-next-line no-console
    console.log(`event-to-label on loopback (ms): min ${latencies[0]}, median ${latencies[10]}, max ${latencies[19]}`);
    expect(latencies[19]).toBeLessThan(1000);
  });
});
