import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Props of `SecurityDashboard`. */
export interface SecurityDashboardProps {
  /** The alarms to show (the audit-log alarms). */
  readonly alarms: cloudwatch.IAlarm[];
  /** The EKS control-plane log group (audit log). */
  readonly controlPlaneLogGroup: logs.ILogGroup;
  /**
   * The log group of the containers' logs, where the Envoy access logs land.
   * @default - no access-log widgets
   */
  readonly accessLogGroup?: logs.ILogGroup;
  /**
   * The dashboard's name.
   * @default - generated
   */
  readonly dashboardName?: string;
}

/**
 * A CloudWatch dashboard of what a zero-trust operator looks at first: the audit-log alarms,
 * mesh denials from the access logs (with the deciding policy), exec/attach and RBAC changes
 * from the audit log. CloudWatch, not Grafana: the audit log and the access logs live in
 * CloudWatch Logs, and the dashboard needs no Grafana workspace or identity setup.
 */
export class SecurityDashboard extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SecurityDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName });
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Kubernetes audit alarms', alarms: props.alarms, width: 24 }));
    if (props.accessLogGroup) {
      this.dashboard.addWidgets(new cloudwatch.LogQueryWidget({
        title: 'Mesh requests denied by policy (Envoy access logs)',
        logGroupNames: [props.accessLogGroup.logGroupName],
        queryLines: [
          'fields @timestamp, kubernetes.namespace_name, kubernetes.pod_name, log',
          'filter log like /rbac_access_denied/',
          'parse log /rbac_access_denied_matched_policy\\[(?<policy>[^\\]]*)\\]/',
          'stats count(*) as denials by kubernetes.namespace_name, kubernetes.pod_name, policy',
          'sort denials desc',
        ],
        width: 24,
      }));
    }
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'exec / attach into pods',
        logGroupNames: [props.controlPlaneLogGroup.logGroupName],
        queryLines: [
          'fields @timestamp, user.username, objectRef.namespace, objectRef.name, objectRef.subresource',
          'filter objectRef.resource = "pods" and (objectRef.subresource = "exec" or objectRef.subresource = "attach")',
          'sort @timestamp desc',
        ],
        width: 12,
      }),
      new cloudwatch.LogQueryWidget({
        title: 'RBAC and admission changes',
        logGroupNames: [props.controlPlaneLogGroup.logGroupName],
        queryLines: [
          'fields @timestamp, user.username, verb, objectRef.resource, objectRef.namespace, objectRef.name',
          'filter objectRef.resource in ["roles", "rolebindings", "clusterroles", "clusterrolebindings", '
            + '"validatingwebhookconfigurations", "mutatingwebhookconfigurations"] and verb in ["create", "update", "patch", "delete"]',
          'sort @timestamp desc',
        ],
        width: 12,
      }),
    );
  }
}
