import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmTopic } from './alarm-topic';
import { AuditLogAlarms } from './audit-log-alarms';
import { ContainerInsightsLogging } from './container-insights';
import { GuardDutyDetector, GuardDutyEksProtection } from './guardduty-eks-protection';
import { ManagedPrometheus } from './managed-prometheus';
import { SecurityDashboard } from './security-dashboard';
import type { ZeroTrustCluster } from '../cluster/zero-trust-cluster';

/** Props of `ZeroTrustObservability`. */
export interface ZeroTrustObservabilityProps {
  /** The cluster to watch. */
  readonly cluster: ZeroTrustCluster;
  /**
   * Usernames whose Secret reads are expected (see `AuditLogAlarms`).
   * @default AuditLogAlarms.DEFAULT_SECRET_READERS
   */
  readonly secretReaders?: string[];
  /**
   * Retention of the container log groups.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Ship container and access logs through the `amazon-cloudwatch-observability` add-on.
   * @default true
   */
  readonly containerLogs?: boolean;
  /**
   * Managed Prometheus with the agentless collector in the network's scraper subnets.
   * @default true when the network has scraper subnets, else false
   */
  readonly managedPrometheus?: boolean;
  /**
   * GuardDuty EKS protection.
   * @default - none: GuardDuty is left to the account (creating a detector fails where one exists)
   */
  readonly guardDuty?: GuardDutyDetector;
  /**
   * The dashboard.
   * @default true
   */
  readonly dashboard?: boolean;
}

/**
 * Everything of the Visibility controls for one cluster (controls.md OBS-02, -03, -05): the
 * encrypted alarm topic, audit-log alarms, container and access logs into encrypted, retained log
 * groups, Managed Prometheus with rules and alerts, the CloudWatch dashboard, and optionally
 * GuardDuty EKS protection.
 *
 * Two topics: `alarmTopic` is for people (chat, email): the audit-log alarms and every Prometheus
 * alert go there, and CloudWatch, EventBridge and AMP of the account may publish to it.
 * `quarantineAlertTopic` (with Managed Prometheus) gets the same Prometheus alerts, and only the
 * workspace's alert manager may publish to it: subscribe a `QuarantineResponder` to it, never to
 * `alarmTopic`.
 */
export class ZeroTrustObservability extends Construct {
  /** The KMS-encrypted topic every alarm and alert goes to, for people. */
  public readonly alarmTopic: sns.Topic;
  /**
   * With Managed Prometheus: its dedicated alert topic (`ManagedPrometheus.alertTopic`), which only
   * the workspace's alert manager may publish to. The topic to subscribe a `QuarantineResponder` to.
   */
  public readonly quarantineAlertTopic?: sns.Topic;
  /** The topic with its key. */
  public readonly alarms: AlarmTopic;
  /** The audit-log metric filters and alarms. */
  public readonly auditLogAlarms: AuditLogAlarms;
  /** Container logs, when on. */
  public readonly containerLogs?: ContainerInsightsLogging;
  /** Managed Prometheus, when on. */
  public readonly prometheus?: ManagedPrometheus;
  /** GuardDuty EKS protection, when asked for. */
  public readonly guardDuty?: GuardDutyEksProtection;
  /** The dashboard, when on. */
  public readonly dashboard?: SecurityDashboard;

  constructor(scope: Construct, id: string, props: ZeroTrustObservabilityProps) {
    super(scope, id);
    const zt = props.cluster;
    this.alarms = new AlarmTopic(this, 'AlarmTopic');
    this.alarmTopic = this.alarms.topic;
    this.auditLogAlarms = new AuditLogAlarms(this, 'AuditLogAlarms', {
      logGroup: zt.controlPlaneLogs,
      alarmTopic: this.alarmTopic,
      secretReaders: props.secretReaders,
    });
    if (props.containerLogs ?? true) {
      this.containerLogs = new ContainerInsightsLogging(this, 'ContainerLogs', {
        cluster: zt.cluster,
        clusterName: zt.clusterName,
        encryptionKey: zt.keys.logsKey,
        retention: props.logRetention,
      });
    }
    const scraperSubnets = zt.network.scraperSubnets ?? [];
    const wantPrometheus = props.managedPrometheus ?? scraperSubnets.length > 0;
    if (wantPrometheus) {
      if (scraperSubnets.length === 0) {
        throw new Error(`ZeroTrustObservability '${id}': managedPrometheus needs the network's scraperSubnets (got none). `
          + 'Fix: use a SegmentedVpc (it has a Scraper tier), give ExistingNetworkTiers scraperSubnets, or set managedPrometheus: false.');
      }
      this.prometheus = new ManagedPrometheus(this, 'Prometheus', { cluster: zt.cluster, scraperSubnets, alarmTopic: this.alarmTopic });
      this.quarantineAlertTopic = this.prometheus.alertTopic;
    }
    if (props.guardDuty) {
      this.guardDuty = new GuardDutyEksProtection(this, 'GuardDuty', { detector: props.guardDuty });
    }
    if (props.dashboard ?? true) {
      this.dashboard = new SecurityDashboard(this, 'Dashboard', {
        alarms: Object.values(this.auditLogAlarms.alarms),
        controlPlaneLogGroup: zt.controlPlaneLogs,
        accessLogGroup: this.containerLogs?.applicationLogGroup,
      });
    }
  }
}
