import { execSync } from 'child_process';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import { SNSClient } from '@aws-sdk/client-sns';
import { tokenIsValid } from './eks-token-verifier';
import { FakeApiServer } from './fake-api-server';
import { FakeSnsServer } from './fake-sns-server';
import * as runtimePod from './fixtures/guardduty-runtime-pod.json';
import * as alertNotification from './fixtures/sns-alertmanager-anomaly.json';
import { buildHandler, configFromEnv, metricLine, subjectOf } from '../../lib/response/handler/main';

/**
 * The Lambda entry point wired as in AWS: configuration from the environment the construct sets,
 * an EKS token the loopback API server verifies (SigV4 recomputed independently), the real SNS
 * client publishing to a loopback SNS endpoint, and one embedded-metric log line per decision.
 * The same wiring is then run from the esbuild bundle the construct deploys.
 */

const CLUSTER = 'shop-cluster';
const REGION = 'eu-west-1';
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:quarantine-decisions';
const CREDS = { accessKeyId: 'ASIAEXAMPLEKEY123456', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'session' };
const POD_UID = runtimePod.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.uid;
const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'quarantine-responder', 'index.js');

let api: FakeApiServer;
let sns: FakeSnsServer;
let logs: string[];

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    CLUSTER_NAME: CLUSTER,
    CLUSTER_ENDPOINT: api.url,
    CLUSTER_CA: Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64'),
    TOPIC_ARN: TOPIC,
    AWS_REGION: REGION,
    SEVERITY_THRESHOLD: '7',
    QUARANTINE_LABEL: 'zero-trust.cdk.io/quarantine',
    NAMESPACES: 'shop,payments',
    AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
    AWS_SESSION_TOKEN: CREDS.sessionToken,
    ...extra,
  };
}

const snsClient = () => new SNSClient({ region: REGION, endpoint: sns.url, credentials: CREDS, maxAttempts: 1 });
const finding = () => ({ ...JSON.parse(JSON.stringify(runtimePod)), time: new Date().toISOString() });

beforeEach(async () => {
  const verify = (token: string) =>
    tokenIsValid(token, { secretAccessKey: CREDS.secretAccessKey, clusterName: CLUSTER, region: REGION, now: Date.now() });
  api = await FakeApiServer.start(verify);
  sns = await FakeSnsServer.start();
  logs = [];
  api.addPod('shop', 'order-7d9f8b6c5-x2x4p', POD_UID, { 'app': 'order', 'pod-template-hash': '7d9f8b6c5' },
    { kind: 'ReplicaSet', name: 'order-7d9f8b6c5', uid: 'rs-uid-1' });
});

afterEach(async () => {
  await api.stop();
  await sns.stop();
});

describe('the Lambda entry point (main.ts)', () => {
  test('a GuardDuty finding: labelled with a verified EKS token, the record published to the topic, an EMF metric logged', async () => {
    const [record] = await buildHandler(env(), { sns: snsClient(), log: l => logs.push(l) })(finding());

    expect(record.outcome).toBe('quarantined');
    expect(api.pods.get('shop/order-7d9f8b6c5-x2x4p')!.metadata.labels['zero-trust.cdk.io/quarantine']).toBe('true');
    expect(api.patches).toHaveLength(1);

    expect(sns.published).toHaveLength(1);
    expect(sns.published[0].topicArn).toBe(TOPIC);
    expect(sns.published[0].subject).toBe('Quarantine quarantined: Pod shop/order-7d9f8b6c5-x2x4p');
    expect(JSON.parse(sns.published[0].message)).toEqual(JSON.parse(JSON.stringify(record)));
    expect(sns.published[0].authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEKEY123456\/\d{8}\/eu-west-1\/sns\/aws4_request/);

    const emf = logs.map(l => JSON.parse(l)).find(l => l._aws);
    expect(emf._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'ZeroTrustEks/QuarantineResponder',
      Dimensions: [['ClusterName'], ['ClusterName', 'Outcome']],
      Metrics: [{ Name: 'EventToLabelMs', Unit: 'Milliseconds' }, { Name: 'HandlingMs', Unit: 'Milliseconds' }, { Name: 'PodsQuarantined', Unit: 'Count' }],
    });
    expect(emf).toMatchObject({ ClusterName: CLUSTER, Outcome: 'quarantined', PodsQuarantined: 1, EventToLabelMs: record.eventToLabelMs });
    expect(logs.some(l => JSON.parse(l).message === 'quarantine-responder')).toBe(true);
  });

  test('the API server refuses a token it cannot verify (401): the invocation fails for a retry and says so', async () => {
    const handler = buildHandler(env({ CLUSTER_NAME: CLUSTER }), {
      sns: snsClient(),
      log: l => logs.push(l),
      credentials: async () => ({ ...CREDS, secretAccessKey: 'not-the-role-key' }),
    });
    await expect(handler(finding())).rejects.toThrow(/HTTP 401/);
    expect(api.patches).toHaveLength(0);
    expect(JSON.parse(sns.published[0].message)).toMatchObject({ outcome: 'failed' });
  });

  test('namespaces from the environment bound where it acts', async () => {
    api.addPod('kube-system', 'coredns-1', 'dns-uid', { 'k8s-app': 'kube-dns' }, { kind: 'ReplicaSet', name: 'coredns-abc', uid: 'rs-dns' });
    const f = finding();
    Object.assign(f.detail.resource.kubernetesDetails.kubernetesWorkloadDetails, { namespace: 'kube-system', name: 'coredns-1', uid: 'dns-uid' });
    const [record] = await buildHandler(env(), { sns: snsClient(), log: l => logs.push(l) })(f);
    expect(record.outcome).toBe('ignored');
    expect(record.reason).toContain("namespace 'kube-system' is not one this responder may act in (shop, payments)");
    expect(api.requests).toHaveLength(0);
  });

  test('configuration: every missing variable is named; a non-numeric threshold is refused; the CA is decoded', () => {
    expect(() => configFromEnv({})).toThrow('missing environment CLUSTER_NAME, CLUSTER_ENDPOINT, TOPIC_ARN, AWS_REGION');
    expect(() => configFromEnv(env({ SEVERITY_THRESHOLD: 'high' }))).toThrow(/SEVERITY_THRESHOLD 'high' is not a number/);
    const c = configFromEnv(env());
    expect(c.ca).toContain('BEGIN CERTIFICATE');
    expect(c.responder).toEqual({
      clusterName: CLUSTER, severityThreshold: 7, quarantineLabel: 'zero-trust.cdk.io/quarantine', namespaces: ['shop', 'payments'], action: 'label',
    });
  });

  test('QUARANTINE_ACTION: label by default, scale-down when set, anything else refused with the accepted values', () => {
    expect(configFromEnv(env({ QUARANTINE_ACTION: '' })).responder.action).toBe('label');
    expect(configFromEnv(env({ QUARANTINE_ACTION: 'scale-down' })).responder.action).toBe('scale-down');
    expect(() => configFromEnv(env({ QUARANTINE_ACTION: 'delete' })))
      .toThrow("quarantine responder: QUARANTINE_ACTION 'delete' is not one of label, scale-down");
  });

  test('the metric line omits EventToLabelMs when nothing was labelled; subjects stay within SNS limits', () => {
    const record = { action: 'quarantine' as const, outcome: 'not-found' as const, reason: 'gone', pods: [], handlingMs: 3 };
    const line = JSON.parse(metricLine(record, CLUSTER, 0));
    expect(line._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name)).toEqual(['HandlingMs', 'PodsQuarantined']);
    expect(line.EventToLabelMs).toBeUndefined();
    const long = subjectOf({ ...record, target: { kind: 'Pod', namespace: 'n'.repeat(63), name: 'p\u00e9'.repeat(60) } });
    expect(long.length).toBeLessThanOrEqual(100);
    expect(long).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('latency through the full wiring (EKS token signed, API server verifies it, decision published to SNS)', () => {
  test('20 findings on 20 pods: event to label applied, and handler time per finding', async () => {
    const handler = buildHandler(env(), { sns: snsClient(), log: l => logs.push(l) });
    const toLabel: number[] = [];
    const handling: number[] = [];
    for (let i = 0; i < 20; i++) {
      api.addPod('shop', `p-${i}`, `uid-${i}`, { app: 'x' });
      const f = finding();
      Object.assign(f.detail.resource.kubernetesDetails.kubernetesWorkloadDetails, { name: `p-${i}`, uid: `uid-${i}` });
      const [r] = await handler(f);
      expect(r.outcome).toBe('quarantined');
      toLabel.push(r.eventToLabelMs!);
      handling.push(r.handlingMs);
    }
    const stats = (xs: number[]) => { const s = [...xs].sort((x, y) => x - y); return `min ${s[0]}, median ${s[10]}, max ${s[19]}`; };
    // eslint-disable-next-line no-console
    console.log(`full wiring on loopback (ms): event-to-label ${stats(toLabel)}; handling ${stats(handling)}`);
    expect(Math.max(...toLabel)).toBeLessThan(1000);
    expect(sns.published).toHaveLength(20);
  });
});

describe('the deployed bundle (assets/quarantine-responder/index.js)', () => {
  beforeAll(() => {
    if (!fs.existsSync(BUNDLE)) {
      execSync('npx projen bundle', { cwd: path.join(__dirname, '..', '..'), stdio: 'ignore' });
    }
  });

  test('exports handler and runs the same wiring: label applied, record published', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(BUNDLE);
    expect(typeof bundle.handler).toBe('function');
    const [record] = await bundle.buildHandler(env(), { sns: snsClient(), log: (l: string) => logs.push(l) })(finding());
    expect(record.outcome).toBe('quarantined');
    expect(sns.published).toHaveLength(1);
    expect(api.patches).toHaveLength(1);
  });

  test('with QUARANTINE_ACTION=scale-down the bundle labels the pod and scales its Deployment, and logs WorkloadsScaledDown', async () => {
    api.addWorkload('Deployment', 'shop', 'order', 'deploy-uid', { matchLabels: { app: 'order' } }, { replicas: 2 });
    api.addWorkload('ReplicaSet', 'shop', 'order-7d9f8b6c5', 'rs-uid-1', { matchLabels: { app: 'order' } },
      { replicas: 2, owner: { kind: 'Deployment', name: 'order', uid: 'deploy-uid' } });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(BUNDLE);
    const [record] = await bundle.buildHandler(env({ QUARANTINE_ACTION: 'scale-down' }), { sns: snsClient(), log: (l: string) => logs.push(l) })(finding());
    expect(record.scaleDown).toMatchObject({ result: 'scaled-down', kind: 'Deployment', name: 'order', fromReplicas: 2 });
    expect(api.workload('Deployment', 'shop', 'order')!.spec.replicas).toBe(0);
    expect(api.pods.get('shop/order-7d9f8b6c5-x2x4p')!.metadata.labels['zero-trust.cdk.io/quarantine']).toBe('true');
    const emf = logs.map(l => JSON.parse(l)).find(l => l._aws);
    expect(emf.WorkloadsScaledDown).toBe(1);
    expect(emf._aws.CloudWatchMetrics[0].Metrics).toContainEqual({ Name: 'WorkloadsScaledDown', Unit: 'Count' });
  });

  test('the alert manager notification fixture through the bundle labels the pod of the mesh workload it names', async () => {
    api.addWorkload('Deployment', 'shop', 'user', 'user-deploy-uid', { matchLabels: { app: 'user' } });
    api.addPod('shop', 'user-5c7b9d8f6-qq9zt', 'user-pod-uid', { 'app': 'user', 'pod-template-hash': '5c7b9d8f6' },
      { kind: 'ReplicaSet', name: 'user-5c7b9d8f6', uid: 'rs-user' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(BUNDLE);
    const event = JSON.parse(JSON.stringify(alertNotification));
    const [record] = await bundle.buildHandler(env(), { sns: snsClient(), log: (l: string) => logs.push(l) })(event);
    expect(record).toMatchObject({ outcome: 'quarantined', source: 'sns', target: { kind: 'Workload', namespace: 'shop', name: 'user' } });
    expect(api.pods.get('shop/user-5c7b9d8f6-qq9zt')!.metadata.labels['zero-trust.cdk.io/quarantine']).toBe('true');
    expect(sns.published).toHaveLength(1);
  });

  test('only the AWS SDK (in the Node.js 22 runtime) is left external', () => {
    const requires = new Set([...fs.readFileSync(BUNDLE, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map(m => m[1]));
    const nonBuiltin = [...requires].filter(r => !r.startsWith('node:') && !builtinModules.includes(r));
    expect(nonBuiltin).toEqual(['@aws-sdk/client-sns']);
  });
});
