// The Node.js 22 Lambda runtime provides the AWS SDK v3 (external to the bundle); a devDependency for the tests.
// eslint-disable-next-line import/no-extraneous-dependencies
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { credentialsFromEnv, eksTokenProvider, TokenCredentials } from './eks-token';
import { HttpKubeApi } from './kube-api';
import { createHandler, NotificationPublisher, QuarantineMode, QuarantineRecord, ResponderConfig } from './responder';

/**
 * The quarantine responder's Lambda entry point (`index.handler` of the bundle
 * assets/quarantine-responder/index.js): `createHandler` wired to the cluster endpoint with an EKS
 * token, to the notification topic, and to a CloudWatch embedded-metric line per decision.
 *
 * Environment (set by the `QuarantineResponder` construct):
 * - `CLUSTER_NAME`, `CLUSTER_ENDPOINT` (https URL), `CLUSTER_CA` (base64 PEM, as EKS returns it)
 * - `TOPIC_ARN`: the notification topic
 * - `SEVERITY_THRESHOLD`, `QUARANTINE_LABEL`, `NAMESPACES` (comma-separated service namespaces)
 * - `QUARANTINE_ACTION`: `label` (the default) or `scale-down` (label, then scale the owning
 *   Deployment or StatefulSet to 0 replicas)
 * - `KUBE_TIMEOUT_MS` (optional, default 5000); `AWS_REGION` and credentials from the runtime
 * @internal
 */

/** The CloudWatch namespace of the responder's metrics. */
export const METRIC_NAMESPACE = 'ZeroTrustEks/QuarantineResponder';

const QUARANTINE_MODES: readonly QuarantineMode[] = ['label', 'scale-down'];

/** What `buildHandler` can be given instead of the real AWS pieces (tests). */
export interface MainDeps {
  readonly sns?: SNSClient;
  readonly credentials?: () => Promise<TokenCredentials>;
  readonly log?: (line: string) => void;
  readonly now?: () => number;
}

/** What the handler is configured with. */
export interface MainConfig {
  readonly responder: ResponderConfig;
  readonly endpoint: string;
  readonly ca?: string;
  readonly topicArn: string;
  readonly region: string;
  readonly timeoutMs: number;
}

/** The responder's configuration from its environment; throws naming every missing variable. */
export function configFromEnv(env: NodeJS.ProcessEnv): MainConfig {
  const required = ['CLUSTER_NAME', 'CLUSTER_ENDPOINT', 'TOPIC_ARN', 'AWS_REGION'];
  const missing = required.filter(k => !env[k]);
  if (missing.length > 0) {
    throw new Error(`quarantine responder: missing environment ${missing.join(', ')}`);
  }
  const threshold = env.SEVERITY_THRESHOLD !== undefined ? Number(env.SEVERITY_THRESHOLD) : undefined;
  if (threshold !== undefined && !Number.isFinite(threshold)) {
    throw new Error(`quarantine responder: SEVERITY_THRESHOLD '${env.SEVERITY_THRESHOLD}' is not a number`);
  }
  const namespaces = env.NAMESPACES !== undefined ? env.NAMESPACES.split(',').map(s => s.trim()).filter(s => s) : undefined;
  const action = env.QUARANTINE_ACTION || 'label';
  if (!QUARANTINE_MODES.includes(action as QuarantineMode)) {
    throw new Error(`quarantine responder: QUARANTINE_ACTION '${action}' is not one of ${QUARANTINE_MODES.join(', ')}`);
  }
  return {
    responder: {
      clusterName: env.CLUSTER_NAME!,
      severityThreshold: threshold,
      quarantineLabel: env.QUARANTINE_LABEL || undefined,
      namespaces,
      action: action as QuarantineMode,
    },
    endpoint: env.CLUSTER_ENDPOINT!,
    ca: env.CLUSTER_CA ? Buffer.from(env.CLUSTER_CA, 'base64').toString('utf8') : undefined,
    topicArn: env.TOPIC_ARN!,
    region: env.AWS_REGION!,
    timeoutMs: env.KUBE_TIMEOUT_MS ? Number(env.KUBE_TIMEOUT_MS) : 5000,
  };
}

/**
 * One CloudWatch Embedded Metric Format line for a decision: the event-to-label time, the handling
 * time, pods labelled, and with the scale-down action, workloads scaled down.
 */
export function metricLine(record: QuarantineRecord, cluster: string, at: number): string {
  const metrics: { Name: string; Unit: string }[] = [
    { Name: 'HandlingMs', Unit: 'Milliseconds' },
    { Name: 'PodsQuarantined', Unit: 'Count' },
  ];
  const values: Record<string, number> = {
    HandlingMs: record.handlingMs,
    PodsQuarantined: record.pods.filter(p => p.result === 'labelled').length,
  };
  if (record.scaleDown) {
    metrics.push({ Name: 'WorkloadsScaledDown', Unit: 'Count' });
    values.WorkloadsScaledDown = record.scaleDown.result === 'scaled-down' ? 1 : 0;
  }
  if (record.eventToLabelMs !== undefined) {
    metrics.unshift({ Name: 'EventToLabelMs', Unit: 'Milliseconds' });
    values.EventToLabelMs = record.eventToLabelMs;
  }
  return JSON.stringify({
    _aws: { Timestamp: at, CloudWatchMetrics: [{ Namespace: METRIC_NAMESPACE, Dimensions: [['ClusterName'], ['ClusterName', 'Outcome']], Metrics: metrics }] },
    ClusterName: cluster,
    Outcome: record.outcome,
    FindingId: record.findingId,
    ...values,
  });
}

/** The subject line of a notification (SNS: at most 100 printable ASCII characters). */
export function subjectOf(record: QuarantineRecord): string {
  const target = record.target ? ` ${record.target.kind} ${record.target.namespace}/${record.target.name}` : '';
  return `Quarantine ${record.outcome}:${target}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

/** Publishes each record to the topic, after its metric line. */
export function snsPublisher(
  sns: SNSClient, topicArn: string, cluster: string, log: (line: string) => void, now: () => number,
): NotificationPublisher {
  return {
    publish: async record => {
      log(metricLine(record, cluster, now()));
      await sns.send(new PublishCommand({
        TopicArn: topicArn,
        Subject: subjectOf(record),
        Message: JSON.stringify(record, undefined, 2),
        MessageAttributes: { outcome: { DataType: 'String', StringValue: record.outcome } },
      }));
    },
  };
}

/** The handler for an environment. */
export function buildHandler(env: NodeJS.ProcessEnv, deps: MainDeps = {}): (event: unknown) => Promise<QuarantineRecord[]> {
  const config = configFromEnv(env);
  const now = deps.now ?? Date.now;
  // eslint-disable-next-line no-console
  const log = deps.log ?? (line => console.log(line));
  const token = eksTokenProvider({
    clusterName: config.responder.clusterName,
    region: config.region,
    credentials: deps.credentials ?? (() => credentialsFromEnv(env)),
    now,
  });
  const kube = new HttpKubeApi({ baseUrl: config.endpoint, ca: config.ca, token, timeoutMs: config.timeoutMs });
  const sns = deps.sns ?? new SNSClient({ region: config.region });
  const publisher = snsPublisher(sns, config.topicArn, config.responder.clusterName, log, now);
  return createHandler(config.responder, { kube, publisher, log, now });
}

let cached: ((event: unknown) => Promise<QuarantineRecord[]>) | undefined;

/** The Lambda handler. */
export async function handler(event: unknown): Promise<QuarantineRecord[]> {
  cached = cached ?? buildHandler(process.env);
  return cached(event);
}
