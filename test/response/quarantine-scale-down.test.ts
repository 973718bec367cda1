import { FakeApiServer } from './fake-api-server';
import * as auditDeployment from './fixtures/guardduty-audit-deployment.json';
import * as runtimePod from './fixtures/guardduty-runtime-pod.json';
import { createHandler, HttpKubeApi, KubeApiError, QuarantineRecord, ResponderConfig } from '../../lib/response/handler';

/**
 * The optional scale-down action against the loopback API server: the pod is labelled first (so it
 * is isolated while it terminates), then its owning Deployment (through the ReplicaSet's owner
 * reference) or StatefulSet gets `replicas: 0` through a JSON merge patch of its `/scale`
 * subresource, under the workload's uid and resourceVersion. What cannot be scaled is labelled only.
 */

const LABEL = 'zero-trust.cdk.io/quarantine';
const CLUSTER = 'shop-cluster';
const POD = 'order-7d9f8b6c5-x2x4p';
const POD_UID = runtimePod.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.uid;
const DEPLOY_UID = auditDeployment.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.uid;
const SCALE_PATH = '/apis/apps/v1/namespaces/shop/deployments/order/scale';

let server: FakeApiServer;
let published: QuarantineRecord[];

function handler(config: Partial<ResponderConfig> = {}) {
  const kube = new HttpKubeApi({ baseUrl: server.url, token: async () => 'test-token', timeoutMs: 2000 });
  return createHandler({ clusterName: CLUSTER, action: 'scale-down', ...config }, {
    kube,
    publisher: { publish: async r => { published.push(r); } },
    log: () => {},
  });
}

function finding(fixture: unknown = runtimePod, edit: (workload: any) => void = () => {}): any {
  const e = JSON.parse(JSON.stringify((fixture as any).default ?? fixture));
  e.time = new Date().toISOString();
  edit(e.detail.resource.kubernetesDetails.kubernetesWorkloadDetails);
  return e;
}

const podLabels = (name: string) => server.pods.get(`shop/${name}`)?.metadata.labels;

beforeEach(async () => {
  server = await FakeApiServer.start();
  published = [];
  server.addWorkload('Deployment', 'shop', 'order', DEPLOY_UID, { matchLabels: { app: 'order' } }, { replicas: 3 });
  server.addWorkload('ReplicaSet', 'shop', 'order-7d9f8b6c5', 'rs-uid-1', { matchLabels: { 'app': 'order', 'pod-template-hash': '7d9f8b6c5' } },
    { replicas: 3, owner: { kind: 'Deployment', name: 'order', uid: DEPLOY_UID } });
  server.addPod('shop', POD, POD_UID, { 'app': 'order', 'pod-template-hash': '7d9f8b6c5' }, { kind: 'ReplicaSet', name: 'order-7d9f8b6c5', uid: 'rs-uid-1' });
});

afterEach(async () => {
  await server.stop();
});

describe('scale-down action', () => {
  test('a pod finding: the pod is labelled, then its Deployment (ReplicaSet -> Deployment) is scaled to 0 under uid and resourceVersion', async () => {
    const deploymentVersion = server.workload('Deployment', 'shop', 'order')!.metadata.resourceVersion;
    const [record] = await handler()(finding());

    expect(record.outcome).toBe('quarantined');
    expect(podLabels(POD)?.[LABEL]).toBe('true');
    expect(server.workload('Deployment', 'shop', 'order')!.spec.replicas).toBe(0);
    expect(server.workload('ReplicaSet', 'shop', 'order-7d9f8b6c5')!.spec.replicas).toBe(3);
    expect(server.scalePatches).toHaveLength(1);
    expect(server.scalePatches[0]).toMatchObject({
      path: SCALE_PATH,
      contentType: 'application/merge-patch+json',
      body: { metadata: { uid: DEPLOY_UID, resourceVersion: deploymentVersion }, spec: { replicas: 0 } },
      status: 200,
    });
    // Label first: the pod is isolated before (and while) it terminates.
    const order = server.requests.filter(r => r.method === 'PATCH').map(r => r.path);
    expect(order).toEqual([`/api/v1/namespaces/shop/pods/${POD}`, SCALE_PATH]);
    expect(record.scaleDown).toMatchObject({ result: 'scaled-down', kind: 'Deployment', namespace: 'shop', name: 'order', uid: DEPLOY_UID, fromReplicas: 3 });
    expect(record.scaleDown!.scaledAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(record.reason).toBe('quarantine label applied (1 labelled); scale-down: Deployment shop/order scaled from 3 to 0 replicas '
      + '(its pods, their memory, processes and files, are destroyed)');
    expect(published).toEqual([record]);
  });

  test('a finding that names the Deployment: its pods are labelled and the Deployment is scaled', async () => {
    const [record] = await handler()(finding(auditDeployment));
    expect(record.pods.map(p => p.result)).toEqual(['labelled']);
    expect(record.scaleDown).toMatchObject({ result: 'scaled-down', kind: 'Deployment', name: 'order' });
    expect(server.workload('Deployment', 'shop', 'order')!.spec.replicas).toBe(0);
  });

  test('a StatefulSet\'s pod: the StatefulSet is scaled through statefulsets/{name}/scale', async () => {
    server.addWorkload('StatefulSet', 'shop', 'db', 'sts-uid', { matchLabels: { app: 'db' } }, { replicas: 2 });
    server.addPod('shop', 'db-0', 'db-0-uid', { app: 'db' }, { kind: 'StatefulSet', name: 'db', uid: 'sts-uid' });
    const [record] = await handler()(finding(runtimePod, w => Object.assign(w, { name: 'db-0', uid: 'db-0-uid' })));
    expect(podLabels('db-0')?.[LABEL]).toBe('true');
    expect(record.scaleDown).toMatchObject({ result: 'scaled-down', kind: 'StatefulSet', name: 'db', fromReplicas: 2 });
    expect(server.scalePatches.map(p => p.path)).toEqual(['/apis/apps/v1/namespaces/shop/statefulsets/db/scale']);
    expect(server.workload('StatefulSet', 'shop', 'db')!.spec.replicas).toBe(0);
  });

  test('a bare pod cannot be scaled: labelled only, and the record says so', async () => {
    server.addPod('shop', 'debug-shell', 'debug-uid', { run: 'debug-shell' });
    const [record] = await handler()(finding(runtimePod, w => Object.assign(w, { name: 'debug-shell', uid: 'debug-uid' })));
    expect(record.outcome).toBe('quarantined');
    expect(podLabels('debug-shell')?.[LABEL]).toBe('true');
    expect(record.scaleDown).toEqual({
      result: 'not-scalable',
      reason: 'pod shop/debug-shell has no controller (a bare pod): there is nothing to scale down, the pod is labelled only',
    });
    expect(record.reason).toContain('; scale-down: pod shop/debug-shell has no controller');
    expect(server.scalePatches).toHaveLength(0);
  });

  test.each([
    ['DaemonSet', 'runs one pod per node and has no replica count to scale'],
    ['Job', 'runs to completion and has no replica count the responder may scale'],
  ])('a %s\'s pod is labelled only', async (kind, why) => {
    server.addWorkload(kind, 'shop', 'agent', 'agent-uid', { matchLabels: { app: 'agent' } });
    server.addPod('shop', 'agent-x1', 'agent-pod-uid', { app: 'agent' }, { kind, name: 'agent', uid: 'agent-uid' });
    const [record] = await handler()(finding(runtimePod, w => Object.assign(w, { name: 'agent-x1', uid: 'agent-pod-uid' })));
    expect(podLabels('agent-x1')?.[LABEL]).toBe('true');
    expect(record.scaleDown).toMatchObject({ result: 'not-scalable', kind, name: 'agent' });
    expect(record.scaleDown!.reason).toContain(`pod shop/agent-x1 belongs to ${kind} shop/agent, which ${why}`);
    expect(record.scaleDown!.reason).toMatch(/; labelled only$/);
    expect(server.scalePatches).toHaveLength(0);
  });

  test('a ReplicaSet no Deployment owns is labelled only (the Role covers deployments/scale and statefulsets/scale only)', async () => {
    server.addWorkload('ReplicaSet', 'shop', 'order-7d9f8b6c5', 'rs-uid-1', { matchLabels: { app: 'order' } }, { replicas: 1 });
    const [record] = await handler()(finding());
    expect(record.scaleDown).toMatchObject({ result: 'not-scalable', kind: 'ReplicaSet', name: 'order-7d9f8b6c5' });
    expect(record.scaleDown!.reason).toBe(`pod shop/${POD} belongs to ReplicaSet shop/order-7d9f8b6c5, which no Deployment owns: `
      + 'the responder scales Deployments and StatefulSets only; labelled only');
    expect(server.scalePatches).toHaveLength(0);
  });

  test('duplicate delivery: the second delivery sees the label and replicas 0, and sends no PATCH at all', async () => {
    const h = handler();
    const event = finding();
    await h(event);
    const patchesAfterFirst = server.requests.filter(r => r.method === 'PATCH').length;
    const [second] = await h(event);
    expect(second.outcome).toBe('already-quarantined');
    expect(second.scaleDown).toMatchObject({ result: 'already-scaled-down', fromReplicas: 0 });
    expect(server.requests.filter(r => r.method === 'PATCH')).toHaveLength(patchesAfterFirst);
    expect(patchesAfterFirst).toBe(2);
  });

  test('a retry after a failed scale (label applied, scale not): the label is not re-sent, the scale is', async () => {
    // The pod patch is answered; every call after it (the owner look-ups, the scale) times out.
    server.beforePatch = () => { server.hang = true; };
    await expect(createHandler({ clusterName: CLUSTER, action: 'scale-down' }, {
      kube: new HttpKubeApi({ baseUrl: server.url, token: async () => 'test-token', timeoutMs: 300 }),
      publisher: { publish: async r => { published.push(r); } },
      log: () => {},
    })(finding())).rejects.toThrow(KubeApiError);
    expect(podLabels(POD)?.[LABEL]).toBe('true');
    server.hang = false;
    server.beforePatch = undefined;
    expect(server.workload('Deployment', 'shop', 'order')!.spec.replicas).toBe(3);
    const [retry] = await handler()(finding());
    expect(retry.pods.map(p => p.result)).toEqual(['already-labelled']);
    expect(retry.scaleDown?.result).toBe('scaled-down');
    expect(server.patches).toHaveLength(1);
  });

  test('404 workload: a finding naming a Deployment that no longer exists labels and scales nothing', async () => {
    server.workloads.delete('Deployment/shop/order');
    const [record] = await handler()(finding(auditDeployment));
    expect(record.outcome).toBe('not-found');
    expect(server.requests.filter(r => r.method === 'PATCH')).toHaveLength(0);
  });

  test('404 workload: the Deployment that owns the ReplicaSet is gone; the pod stays labelled, not-found is recorded', async () => {
    server.workloads.delete('Deployment/shop/order');
    const [record] = await handler()(finding());
    expect(podLabels(POD)?.[LABEL]).toBe('true');
    expect(record.scaleDown).toMatchObject({ result: 'not-found', kind: 'Deployment', name: 'order' });
    expect(server.scalePatches).toHaveLength(0);
  });

  test('404 workload: deleted between read and scale patch (404 on PATCH) is recorded as not-found, not retried', async () => {
    server.beforeScalePatch = (kind, ns, name) => server.workloads.delete(`${kind}/${ns}/${name}`);
    const [record] = await handler()(finding());
    expect(server.scalePatches.map(p => p.status)).toEqual([404]);
    expect(record.scaleDown).toMatchObject({ result: 'not-found', reason: 'Deployment shop/order was deleted before it was scaled down' });
    expect(record.outcome).toBe('quarantined');
  });

  test('the Deployment was replaced (its uid is not the one the ReplicaSet names): not scaled', async () => {
    server.addWorkload('Deployment', 'shop', 'order', 'a-newer-deployment-uid', { matchLabels: { app: 'order' } }, { replicas: 3 });
    const [record] = await handler()(finding());
    expect(record.scaleDown).toMatchObject({ result: 'replaced', uid: 'a-newer-deployment-uid' });
    expect(server.scalePatches).toHaveLength(0);
    expect(server.workload('Deployment', 'shop', 'order')!.spec.replicas).toBe(3);
  });

  test('409 on the scale patch (another writer moved the resourceVersion): one re-read and retry; twice fails the invocation', async () => {
    let first = true;
    server.beforeScalePatch = (kind, ns, name) => {
      if (first) {
        first = false;
        server.touchWorkload(kind, ns, name);
      }
    };
    const [record] = await handler()(finding());
    expect(server.scalePatches.map(p => p.status)).toEqual([409, 200]);
    expect(record.scaleDown?.result).toBe('scaled-down');

    server.workload('Deployment', 'shop', 'order')!.spec.replicas = 2;
    server.beforeScalePatch = (kind, ns, name) => server.touchWorkload(kind, ns, name);
    await expect(handler()(finding())).rejects.toThrow(/scale patch conflicted twice/);
    expect(published.at(-1)).toMatchObject({ outcome: 'failed' });
  });

  test('the label action (the default) never touches /scale and records no scaleDown', async () => {
    const [record] = await handler({ action: undefined })(finding());
    expect(record.outcome).toBe('quarantined');
    expect(record.scaleDown).toBeUndefined();
    expect(server.requests.filter(r => r.path.includes('/scale') || r.path.includes('/apis/'))).toEqual([]);
    expect(server.workload('Deployment', 'shop', 'order')!.spec.replicas).toBe(3);
  });
});

describe('the loopback API server serves /scale as kube-apiserver does', () => {
  const call = (method: string, path: string, body?: unknown, contentType = 'application/merge-patch+json') => fetch(`${server.url}${path}`, {
    method,
    headers: { 'Authorization': 'Bearer test-token', 'Content-Type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  test('GET returns an autoscaling/v1 Scale with the workload\'s metadata; DaemonSets and Jobs have no /scale (404)', async () => {
    const res = await call('GET', SCALE_PATH);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'order', uid: DEPLOY_UID }, spec: { replicas: 3 }, status: { replicas: 3, selector: 'app=order' },
    });
    server.addWorkload('DaemonSet', 'shop', 'agent', 'agent-uid', { matchLabels: { app: 'agent' } });
    expect((await call('PATCH', '/apis/apps/v1/namespaces/shop/daemonsets/agent/scale', { spec: { replicas: 0 } })).status).toBe(404);
    expect((await call('GET', '/apis/batch/v1/namespaces/shop/jobs/agent/scale')).status).toBe(404);
    expect((await call('GET', '/apis/apps/v1/namespaces/shop/deployments/missing/scale')).status).toBe(404);
  });

  test('PATCH needs the merge-patch content type (415), a valid replica count (422), matching preconditions (409); PUT is not served (405)', async () => {
    expect((await call('PATCH', SCALE_PATH, { spec: { replicas: 0 } }, 'application/json')).status).toBe(415);
    expect((await call('PATCH', SCALE_PATH, { spec: { replicas: -1 } })).status).toBe(422);
    expect((await call('PATCH', SCALE_PATH, { metadata: { uid: 'other' }, spec: { replicas: 0 } })).status).toBe(409);
    expect((await call('PATCH', SCALE_PATH, { metadata: { resourceVersion: '1' }, spec: { replicas: 0 } })).status).toBe(409);
    expect((await call('PUT', SCALE_PATH, { spec: { replicas: 0 } })).status).toBe(405);
    expect(server.workload('Deployment', 'shop', 'order')!.spec.replicas).toBe(3);
    expect((await call('PATCH', SCALE_PATH, { spec: { replicas: 1 } })).status).toBe(200);
    expect(server.workload('Deployment', 'shop', 'order')!.spec.replicas).toBe(1);
  });
});
