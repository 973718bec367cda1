import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { auditLogPatterns, AuditPattern } from './audit-log-patterns';

/** Identities that read Secrets as part of running the cluster, the default `secretReaders`. */
const DEFAULT_SECRET_READERS: readonly string[] = [
  'system:apiserver',
  'system:kube-controller-manager',
  'system:node:*',
  'system:serviceaccount:kube-system:generic-garbage-collector',
  'system:serviceaccount:kube-system:namespace-controller',
  'system:serviceaccount:kube-system:resourcequota-controller',
  'system:serviceaccount:istio-system:istiod',
  'eks:addon-manager',
];

/** Identities that rewrite webhook configurations as part of running (their CA bundle), the default `webhookWriters`. */
const DEFAULT_WEBHOOK_WRITERS: readonly string[] = [
  'system:serviceaccount:istio-system:istiod',
  'system:serviceaccount:gatekeeper-system:gatekeeper-admin',
];

/** Props of `AuditLogAlarms`. */
export interface AuditLogAlarmsProps {
  /** The EKS control-plane log group (`/aws/eks/<cluster>/cluster`) with the `audit` log type on. */
  readonly logGroup: logs.ILogGroup;
  /** Where the alarms go: an SNS topic encrypted with a customer-managed key. */
  readonly alarmTopic: sns.ITopic;
  /**
   * The CloudWatch metric namespace of the filters' metrics.
   * @default 'ZeroTrustEks/Audit'
   */
  readonly metricNamespace?: string;
  /**
   * Usernames (`user.username`, `*` wildcards allowed) whose get/list/watch of Secrets is expected.
   * Replaces the default list; extend it with `[...AuditLogAlarms.DEFAULT_SECRET_READERS, 'system:serviceaccount:ns:sa']`.
   * @default AuditLogAlarms.DEFAULT_SECRET_READERS
   */
  readonly secretReaders?: string[];
  /**
   * Usernames whose changes to webhook configurations are expected (controllers that rotate their
   * CA bundle).
   * @default AuditLogAlarms.DEFAULT_WEBHOOK_WRITERS
   */
  readonly webhookWriters?: string[];
  /**
   * How many 401/403 responses in five minutes raise the forbidden-requests alarm. The other
   * alarms fire on the first event.
   * @default 5
   */
  readonly forbiddenThreshold?: number;
}

/**
 * Metric filters on the Kubernetes audit log (controls.md OBS-03), each with an alarm to the
 * encrypted alarm topic: Secret reads by unexpected identities, `exec`/`attach` into pods, RBAC
 * changes, admission webhook and policy changes, anonymous requests, and 401/403 responses.
 */
export class AuditLogAlarms extends Construct {
  /**
   * The default `secretReaders`: the API server, the controller manager, kubelets, the garbage-collector,
   * namespace and resource-quota controllers, istiod and the EKS add-on manager.
   */
  public static readonly DEFAULT_SECRET_READERS: string[] = [...DEFAULT_SECRET_READERS];
  /** The default `webhookWriters`: istiod and Gatekeeper, which rotate their webhooks' CA bundles. */
  public static readonly DEFAULT_WEBHOOK_WRITERS: string[] = [...DEFAULT_WEBHOOK_WRITERS];
  /** The alarms, by pattern id (e.g. `SecretReads`). */
  public readonly alarms: Record<string, cloudwatch.Alarm> = {};
  /** The metric filters, by pattern id. */
  public readonly metricFilters: Record<string, logs.MetricFilter> = {};
  /**
   * The patterns, in a stable order.
   * @internal
   */
  public readonly _patterns: AuditPattern[];

  constructor(scope: Construct, id: string, props: AuditLogAlarmsProps) {
    super(scope, id);
    const subject = `AuditLogAlarms '${id}'`;
    const forbiddenThreshold = props.forbiddenThreshold ?? 5;
    if (!Number.isInteger(forbiddenThreshold) || forbiddenThreshold < 1) {
      throw new Error(`${subject}: forbiddenThreshold must be a positive integer (got ${forbiddenThreshold}). Fix: leave it unset for 5, or give e.g. 10.`);
    }
    const namespace = props.metricNamespace ?? 'ZeroTrustEks/Audit';
    this._patterns = auditLogPatterns(subject, {
      secretReaders: props.secretReaders ?? [...DEFAULT_SECRET_READERS],
      webhookWriters: props.webhookWriters ?? [...DEFAULT_WEBHOOK_WRITERS],
    });
    const action = new actions.SnsAction(props.alarmTopic);
    for (const p of this._patterns) {
      const filter = new logs.MetricFilter(this, `${p.id}Filter`, {
        logGroup: props.logGroup,
        filterPattern: logs.FilterPattern.literal(p.pattern),
        metricNamespace: namespace,
        metricName: p.id,
        metricValue: '1',
      });
      const alarm = new cloudwatch.Alarm(this, `${p.id}Alarm`, {
        alarmDescription: `${p.description} (Kubernetes audit log, controls.md OBS-03). Investigate with CloudWatch Logs Insights on ${p.id}.`,
        metric: filter.metric({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
        threshold: p.id === 'ForbiddenRequests' ? forbiddenThreshold : 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      this.metricFilters[p.id] = filter;
      this.alarms[p.id] = alarm;
    }
  }
}
