import { Aws, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alertManagerDefinition, prometheusRules } from './prometheus-rules';
import { SCRAPER_USERNAME, scrapeConfiguration, scraperRbac } from './scrape-configuration';
import { ZeroTrustKeys } from '../encryption/zero-trust-keys';

/** The ports the managed collector reaches on the cluster security group. */
const SCRAPE_PORTS: ReadonlyArray<[number, string]> = [
  [15020, 'sidecar merged metrics'],
  [15090, 'Envoy metrics'],
  [15014, 'istiod monitoring'],
  [443, 'the Kubernetes API (target discovery)'],
];

/** Props of `ManagedPrometheus`. */
export interface ManagedPrometheusProps {
  /** The cluster to scrape; its endpoint must include private access. */
  readonly cluster: eks.Cluster;
  /**
   * Dedicated subnets for the collector's ENIs (no pod lives there; at least two, in two zones),
   * e.g. `SegmentedVpc.scraperSubnets`. NetworkPolicies must admit their CIDRs (`scraperCidrs`).
   */
  readonly scraperSubnets: ec2.ISubnet[];
  /**
   * The human alarm topic, which gets every alert too (KMS-encrypted; its policies must admit
   * aps.amazonaws.com), e.g. `AlarmTopic.topic`. Never subscribe a `QuarantineResponder` to it: others
   * may publish there; the responder subscribes to `alertTopic`.
   * @default - alerts go to `alertTopic` only
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Encrypts the workspace.
   * @default - a new customer-managed key, rotation on, retained
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Seconds between scrapes.
   * @default 30
   */
  readonly scrapeIntervalSeconds?: number;
  /**
   * Denied requests per second per source workload (5-minute rate) above which `MeshAuthorizationDenials` fires.
   * @default 0 - any sustained denial: in a zero-trust mesh a denial is a caller trying what it was not granted
   */
  readonly denialRateThreshold?: number;
  /**
   * `MeshRequestRateAnomaly` fires when a source workload's 5-minute request rate exceeds this
   * multiple of its highest 5-minute rate of the previous day (for 10 minutes, with a day of history).
   * @default 2
   */
  readonly anomalyFactor?: number;
  /**
   * ...and only when that rate is above this many requests per second: below it, a workload is too
   * quiet for its jumps to mean anything (and to quarantine on).
   * @default 1
   */
  readonly anomalyMinimumRate?: number;
}

/**
 * Metrics without agents: an Amazon Managed Service for Prometheus workspace (KMS-encrypted), the
 * managed collector for the cluster with its ENIs in the scraper subnets behind its own security
 * group (egress only to the cluster security group on 15020, 15090, 15014 and 443), the
 * collector's access entry mapped to a read-only discovery ClusterRole, recording and alerting
 * rules, and an alert manager that sends every alert as JSON (one object per notification, with the
 * cluster's name) to a dedicated alert topic, `alertTopic`, and the same to the alarm topic.
 *
 * `alertTopic` is the topic a `QuarantineResponder` subscribes to (it acts on the alerts marked
 * `quarantine="true"`, `MeshRequestRateAnomaly`): encrypted with its own customer-managed key, and
 * its policy lets aps.amazonaws.com publish only for this workspace (`aws:SourceArn`) of this
 * account (`aws:SourceAccount`), and denies sns:Publish to every other principal: a request whose
 * `aws:SourceArn` is not this workspace's, or that has none (an IAM user or role publishing
 * directly, whatever its identity policy allows), is refused. Alerts on it cannot be forged by
 * CloudWatch, EventBridge, another workspace or anyone with sns:Publish.
 */
export class ManagedPrometheus extends Construct {
  /** The workspace. */
  public readonly workspace: aps.CfnWorkspace;
  /** The managed collector. */
  public readonly scraper: aps.CfnScraper;
  /** The collector's security group. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The rule groups namespace. */
  public readonly rules: aps.CfnRuleGroupsNamespace;
  /** The key that encrypts the workspace. */
  public readonly encryptionKey: kms.IKey;
  /**
   * The dedicated alert topic: only this workspace's alert manager may publish to it. Subscribe a
   * `QuarantineResponder` to it (`alertTopics`), and to nothing else.
   */
  public readonly alertTopic: sns.Topic;
  /** The key that encrypts `alertTopic`. */
  public readonly alertTopicKey: kms.Key;

  constructor(scope: Construct, id: string, props: ManagedPrometheusProps) {
    super(scope, id);
    const subject = `ManagedPrometheus '${id}'`;
    const zones = new Set(props.scraperSubnets.map(s => s.availabilityZone));
    if (props.scraperSubnets.length < 2 || zones.size < 2) {
      throw new Error(`${subject}: scraperSubnets must hold at least two subnets in two availability zones (got ${props.scraperSubnets.length} in ${zones.size}). `
        + 'Fix: pass SegmentedVpc.scraperSubnets, or give ExistingNetworkTiers scraperSubnets in two zones (the managed collector requires two).');
    }
    const interval = props.scrapeIntervalSeconds ?? 30;
    if (!Number.isInteger(interval) || interval < 10 || interval > 300) {
      throw new Error(`${subject}: scrapeIntervalSeconds must be an integer from 10 to 300 (got ${interval}). Fix: leave it unset for 30.`);
    }
    const denial = props.denialRateThreshold ?? 0;
    const factor = props.anomalyFactor ?? 2;
    const floor = props.anomalyMinimumRate ?? 1;
    if (!(denial >= 0) || !Number.isFinite(denial)) {
      throw new Error(`${subject}: denialRateThreshold must be a finite number of at least 0 (got ${denial}). Fix: leave it unset for 0 (any sustained denial).`);
    }
    if (!(factor > 1) || !Number.isFinite(factor)) {
      throw new Error(`${subject}: anomalyFactor must be a finite number above 1 (got ${factor}). Fix: leave it unset for 2 `
        + '(twice the highest 5-minute rate of the previous day).');
    }
    if (!(floor >= 0) || !Number.isFinite(floor)) {
      throw new Error(`${subject}: anomalyMinimumRate must be a finite number of requests per second of at least 0 (got ${floor}). `
        + 'Fix: leave it unset for 1, or give e.g. 5 for busier services.');
    }

    if (props.encryptionKey) {
      this.encryptionKey = props.encryptionKey;
    } else {
      const key = new kms.Key(this, 'Key', {
        description: 'Encrypts the Amazon Managed Service for Prometheus workspace of cdk-zero-trust-eks',
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      ZeroTrustKeys.restrictGrants(key);
      this.encryptionKey = key;
    }
    // The dedicated alert topic, with its own key: the alert manager must use the key to publish.
    this.alertTopicKey = new kms.Key(this, 'AlertTopicKey', {
      description: 'Encrypts the alert topic of the Managed Prometheus workspace of cdk-zero-trust-eks (quarantine triggers)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    ZeroTrustKeys.restrictGrants(this.alertTopicKey);
    // aws:SourceAccount only: the workspace's ARN in the key policy would make a cycle (key <- topic <- workspace);
    // the topic policy below is what admits the one workspace.
    this.alertTopicKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AlertManagerUsesTheKey',
      principals: [new iam.ServicePrincipal('aps.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }));
    this.alertTopic = new sns.Topic(this, 'AlertTopic', { masterKey: this.alertTopicKey, enforceSSL: true });

    this.workspace = new aps.CfnWorkspace(this, 'Workspace', {
      alias: `${Stack.of(this).stackName}-${id}`.slice(0, 100),
      kmsKeyArn: this.encryptionKey.keyArn,
      alertManagerDefinition: alertManagerDefinition(
        { alertTopicArn: this.alertTopic.topicArn, alarmTopicArn: props.alarmTopic?.topicArn }, Aws.REGION, props.cluster.clusterName),
    });

    // Only this workspace publishes. The Deny's ArnNotEquals is true when aws:SourceArn is another resource's, and also
    // when the request has no aws:SourceArn at all (IAM: a negated operator on a missing key matches), so it refuses
    // every IAM user and role, every other service and every other workspace; the workspace's own requests pass.
    const fromThisWorkspace = { 'aws:SourceArn': this.workspace.attrArn };
    this.alertTopic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'OnlyThisWorkspacePublishes',
      principals: [new iam.ServicePrincipal('aps.amazonaws.com')],
      actions: ['sns:Publish', 'sns:GetTopicAttributes'],
      resources: [this.alertTopic.topicArn],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnEquals: fromThisWorkspace },
    }));
    this.alertTopic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyPublishFromAnyoneElse',
      effect: iam.Effect.DENY,
      principals: [new iam.StarPrincipal()],
      actions: ['sns:Publish'],
      resources: [this.alertTopic.topicArn],
      conditions: { ArnNotEquals: fromThisWorkspace },
    }));

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: 'Managed Prometheus collector: to the cluster security group on the metrics ports and 443 only',
      allowAllOutbound: false,
    });
    // Rules as their own resources, leaving the group's inline "match no traffic" egress in place: a
    // VPC security group without inline egress gets EC2's default allow-all egress rule.
    const target = props.cluster.clusterSecurityGroup;
    for (const [port, what] of SCRAPE_PORTS) {
      new ec2.CfnSecurityGroupEgress(this, `To${port}`, {
        groupId: this.securityGroup.securityGroupId,
        destinationSecurityGroupId: target.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        description: `scrape: ${what}`,
      });
      new ec2.CfnSecurityGroupIngress(this, `From${port}`, {
        groupId: target.securityGroupId,
        sourceSecurityGroupId: this.securityGroup.securityGroupId,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        description: `from the managed Prometheus collector: ${what}`,
      });
    }

    this.scraper = new aps.CfnScraper(this, 'Scraper', {
      alias: `${Stack.of(this).stackName}-${id}`.slice(0, 100),
      scrapeConfiguration: { configurationBlob: scrapeConfiguration(interval) },
      source: {
        eksConfiguration: {
          clusterArn: props.cluster.clusterArn,
          subnetIds: props.scraperSubnets.map(s => s.subnetId),
          securityGroupIds: [this.securityGroup.securityGroupId],
        },
      },
      destination: { ampConfiguration: { workspaceArn: this.workspace.attrArn } },
    });

    // The collector's role, without the service-linked path (an access entry takes the role ARN without a path).
    const roleName = Fn.select(3, Fn.split('/', this.scraper.attrRoleArn));
    const accessEntry = new eks.CfnAccessEntry(this, 'AccessEntry', {
      clusterName: props.cluster.clusterName,
      principalArn: Fn.join('', [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/`, roleName]),
      username: SCRAPER_USERNAME,
      type: 'STANDARD',
    });
    const rbac = new eks.KubernetesManifest(this, 'Rbac', { cluster: props.cluster, manifest: scraperRbac() });
    rbac.node.addDependency(accessEntry);

    this.rules = new aps.CfnRuleGroupsNamespace(this, 'Rules', {
      workspace: this.workspace.attrArn,
      name: 'zero-trust',
      data: prometheusRules({ denialRateThreshold: denial, anomalyFactor: factor, anomalyMinimumRate: floor }),
    });
  }
}
