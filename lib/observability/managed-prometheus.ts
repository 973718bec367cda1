import { Aws, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
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
  /** Where the workspace's alert manager sends alerts (KMS-encrypted; its policies must admit aps.amazonaws.com). */
  readonly alarmTopic: sns.ITopic;
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
   * `MeshRequestRateAnomaly` fires when a source workload's rate exceeds this multiple of its one-day average.
   * @default 3
   */
  readonly anomalyFactor?: number;
}

/**
 * Metrics without agents: an Amazon Managed Service for Prometheus workspace (KMS-encrypted), the
 * managed collector for the cluster with its ENIs in the scraper subnets behind its own security
 * group (egress only to the cluster security group on 15020, 15090, 15014 and 443), the
 * collector's access entry mapped to a read-only discovery ClusterRole, recording and alerting
 * rules, and an alert manager that sends every alert to the alarm topic as JSON (one object per
 * notification, with the cluster's name), which a `QuarantineResponder` subscribed to the topic
 * acts on for the alerts marked `quarantine="true"` (`MeshRequestRateAnomaly`).
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
    const factor = props.anomalyFactor ?? 3;
    if (!(denial >= 0) || !Number.isFinite(denial)) {
      throw new Error(`${subject}: denialRateThreshold must be a finite number of at least 0 (got ${denial}). Fix: leave it unset for 0 (any sustained denial).`);
    }
    if (!(factor > 1) || !Number.isFinite(factor)) {
      throw new Error(`${subject}: anomalyFactor must be a finite number above 1 (got ${factor}). Fix: leave it unset for 3.`);
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
    this.workspace = new aps.CfnWorkspace(this, 'Workspace', {
      alias: `${Stack.of(this).stackName}-${id}`.slice(0, 100),
      kmsKeyArn: this.encryptionKey.keyArn,
      alertManagerDefinition: alertManagerDefinition(props.alarmTopic.topicArn, Aws.REGION, props.cluster.clusterName),
    });

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
      data: prometheusRules({ denialRateThreshold: denial, anomalyFactor: factor, anomalyMinimumRate: 1 }),
    });
  }
}
