import { Aws, CfnElement, CfnJson, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The log groups the `amazon-cloudwatch-observability` add-on writes, by suffix of `/aws/containerinsights/<cluster>/`. */
const CONTAINER_INSIGHTS_LOG_GROUPS: readonly string[] = ['application', 'dataplane', 'host', 'performance'];

/** The add-on's namespace and its agent's service account. */
const AGENT_NAMESPACE = 'amazon-cloudwatch';
const AGENT_SERVICE_ACCOUNT = 'cloudwatch-agent';

/** Props of `ContainerInsightsLogging`. */
export interface ContainerInsightsLoggingProps {
  /** The cluster (with an IAM OIDC provider for IRSA). */
  readonly cluster: eks.Cluster;
  /** The cluster's name, as the add-on uses it in log group names; a concrete string. */
  readonly clusterName: string;
  /** Encrypts every log group (its key policy must let CloudWatch Logs of this region use it). */
  readonly encryptionKey: kms.IKey;
  /**
   * How long to keep the logs; must be finite.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly retention?: logs.RetentionDays;
  /**
   * The add-on version.
   * @default - the default version for the cluster's Kubernetes version
   */
  readonly addonVersion?: string;
}

/**
 * Ships container logs (the Envoy access logs among them) and Container Insights to CloudWatch
 * through the AWS-managed `amazon-cloudwatch-observability` EKS add-on (CloudWatch agent and
 * Fluent Bit). The stack creates the add-on's log groups first, KMS-encrypted and retained
 * (controls.md OBS-02), so that the agent only writes into them; its IRSA role may write to
 * exactly those groups.
 *
 * The add-on's pods run in the `amazon-cloudwatch` namespace, which this library does not police:
 * no NetworkPolicy is emitted there (Fluent Bit and the agent run on the host network for node
 * metrics, where NetworkPolicies do not apply).
 */
export class ContainerInsightsLogging extends Construct {
  /** The log groups, by suffix (`application`, `dataplane`, `host`, `performance`). */
  public readonly logGroups: Record<string, logs.LogGroup> = {};
  /** The application log group, where the sidecars' access logs land. */
  public readonly applicationLogGroup: logs.LogGroup;
  /** The agent's IRSA role. */
  public readonly agentRole: iam.Role;
  /** The add-on. */
  public readonly addon: eks.Addon;

  constructor(scope: Construct, id: string, props: ContainerInsightsLoggingProps) {
    super(scope, id);
    const subject = `ContainerInsightsLogging '${id}'`;
    const retention = props.retention ?? logs.RetentionDays.ONE_YEAR;
    if (retention === logs.RetentionDays.INFINITE) {
      throw new Error(`${subject}: retention must be finite (got INFINITE). Fix: pick e.g. logs.RetentionDays.ONE_YEAR (controls.md OBS-02).`);
    }
    for (const suffix of CONTAINER_INSIGHTS_LOG_GROUPS) {
      this.logGroups[suffix] = new logs.LogGroup(this, `${suffix.charAt(0).toUpperCase()}${suffix.slice(1)}LogGroup`, {
        logGroupName: `/aws/containerinsights/${props.clusterName}/${suffix}`,
        encryptionKey: props.encryptionKey,
        retention,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    this.applicationLogGroup = this.logGroups.application;

    const provider = props.cluster.openIdConnectProvider;
    const issuer = provider.openIdConnectProviderIssuer;
    const conditions = new CfnJson(this, 'AgentTrustConditions', {
      value: { [`${issuer}:sub`]: `system:serviceaccount:${AGENT_NAMESPACE}:${AGENT_SERVICE_ACCOUNT}`, [`${issuer}:aud`]: 'sts.amazonaws.com' },
    });
    this.agentRole = new iam.Role(this, 'AgentRole', {
      description: `CloudWatch agent and Fluent Bit of ${props.clusterName}: write to the Container Insights log groups only`,
      assumedBy: new iam.WebIdentityPrincipal(provider.openIdConnectProviderArn, { StringEquals: conditions }),
    });
    const groups = Object.values(this.logGroups);
    const policy = new iam.ManagedPolicy(this, 'AgentPolicy', {
      description: 'Least privilege of the amazon-cloudwatch-observability add-on',
      roles: [this.agentRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'WriteTheContainerInsightsGroups',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams', 'logs:PutRetentionPolicy'],
          resources: groups.flatMap(g => [g.logGroupArn, `${g.logGroupArn}:log-stream:*`]),
        }),
        new iam.PolicyStatement({
          sid: 'FindTheGroups',
          actions: ['logs:DescribeLogGroups'],
          resources: [`arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`],
        }),
        new iam.PolicyStatement({
          sid: 'ContainerInsightsMetrics',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringLike: { 'cloudwatch:namespace': ['ContainerInsights', 'ContainerInsights/*'] } },
        }),
        new iam.PolicyStatement({
          sid: 'NodeMetadata',
          actions: ['ec2:DescribeTags', 'ec2:DescribeVolumes', 'ec2:DescribeInstances'],
          resources: ['*'],
        }),
      ],
    });
    const stack = Stack.of(this);
    const streamIds = groups.map(g => `AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(g.node.defaultChild as CfnElement))}.Arn>:log-stream:*]`);
    for (const [ids, reason] of [
      [streamIds, 'The agent and Fluent Bit create one log stream per node and pod at run time, so streams are named by a wildcard inside '
        + 'exactly one of the four Container Insights log groups; no other group is writable.'],
      [['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]'], 'logs:DescribeLogGroups '
        + 'supports no resource-level restriction beyond the account and region (it lists groups); it grants no read of log data.'],
      [['AwsSolutions-IAM5[Resource::*]'], 'cloudwatch:PutMetricData and ec2:DescribeTags/DescribeVolumes/DescribeInstances support no '
        + 'resource-level permissions; PutMetricData is limited by condition to the ContainerInsights namespaces, and the Describe calls only read.'],
    ] as const) {
      ids.forEach(rule => Validations.of(policy).acknowledge({ id: rule, reason }));
    }

    this.addon = new eks.Addon(this, 'Addon', {
      cluster: props.cluster,
      addonName: 'amazon-cloudwatch-observability',
      addonVersion: props.addonVersion,
      configurationValues: { containerLogs: { enabled: true } },
    });
    (this.addon.node.defaultChild as eks.CfnAddon).addPropertyOverride('ServiceAccountRoleArn', this.agentRole.roleArn);
    // The groups exist, encrypted, before anything writes to them.
    groups.forEach(g => this.addon.node.addDependency(g));
  }
}
