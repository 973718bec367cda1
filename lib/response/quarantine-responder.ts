import { Aspects, Duration, IAspect, Lazy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { GUARDDUTY_EKS_RESOURCE_TYPES, responderCode } from './responder-bundle';
import { RESPONDER_GROUP, responderRbac } from './responder-rbac';
import { acknowledge } from '../cluster/compliance-acknowledgements';
import type { ZeroTrustCluster } from '../cluster/zero-trust-cluster';
import { ZeroTrustKeys } from '../encryption/zero-trust-keys';
import { AlarmTopic } from '../observability/alarm-topic';

/**
 * What the responder does to a compromised pod.
 *
 * `LABEL` (the default) sets the quarantine label: the pod keeps running, cut off at the
 * NetworkPolicy and Istio layers, with its memory, processes and files intact for the incident
 * response to examine. `SCALE_DOWN` also sets the owning workload's replicas to 0, which ends the
 * compromise for good but destroys that evidence.
 */
export class QuarantineAction {
  /** Label the pod only (the default): isolated, and kept running as evidence. */
  public static readonly LABEL = new QuarantineAction('label');
  /**
   * Label the pod, then scale its owning Deployment or StatefulSet to 0 replicas through the
   * workload's `/scale` subresource. Off by default because the pods are destroyed, and with them
   * the evidence: their memory, their processes and the files they wrote. A bare pod, a DaemonSet's
   * or a Job's pod cannot be scaled down: it is labelled only, and the record says so.
   */
  public static readonly SCALE_DOWN = new QuarantineAction('scale-down');

  /** The value the function receives (`QUARANTINE_ACTION`). */
  public readonly value: string;

  private constructor(value: string) {
    this.value = value;
  }

  /** Whether this action scales the owning workload down. */
  public get scalesDown(): boolean {
    return this.value === 'scale-down';
  }
}

/** Props of `QuarantineResponder`. */
export interface QuarantineResponderProps {
  /** The cluster whose compromised pods are quarantined. */
  readonly cluster: ZeroTrustCluster;
  /**
   * GuardDuty findings at or above this severity trigger a quarantine (GuardDuty: Low 1.0-3.9,
   * Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0). Must be within 1-10.
   * @default 7 (High)
   */
  readonly severityThreshold?: number;
  /**
   * SNS topics of anomaly alerts the responder subscribes to: `ZeroTrustObservability.quarantineAlertTopic`
   * (`ManagedPrometheus.alertTopic`), which only the workspace's alert manager may publish to. Give
   * only topics like it: an alert on the topic is a command to quarantine, so whoever may publish
   * there may have pods quarantined. The alarm topic (`ZeroTrustObservability.alarmTopic`, an
   * `AlarmTopic`), which CloudWatch, EventBridge and AMP of the account may publish to, is refused.
   *
   * A message is an alert manager notification rendered as JSON by the message template of
   * `ManagedPrometheus` (Amazon Managed Service for Prometheus): each firing alert whose rule carries
   * the label `quarantine="true"` quarantines the mesh workload its labels name
   * (`source_workload_namespace`/`source_workload` when the alert has any `source_*` label, else
   * `namespace` with `pod` or `workload`); every other alert is logged and ignored; every message
   * that is not of the template's `format` (a CloudWatch alarm among them) is dropped (logged and
   * published as dropped).
   * @default - GuardDuty findings only
   */
  readonly alertTopics?: sns.ITopic[];
  /**
   * What is done to a compromised pod. `QuarantineAction.SCALE_DOWN` also scales its owning
   * Deployment or StatefulSet to 0 replicas and adds `patch` on `deployments/scale` and
   * `statefulsets/scale` to the responder's Role.
   *
   * Off by default: scaling down destroys the evidence. The pods go, and with them their memory,
   * their processes and the files they wrote, which the incident response needs to learn what
   * happened; a labelled pod keeps running, cut off, until someone has looked.
   * @default QuarantineAction.LABEL
   */
  readonly action?: QuarantineAction;
  /**
   * Reserved concurrency of the function: a flood of findings cannot exhaust the account's
   * concurrency, and the responder always has capacity. Must be at least 1.
   * @default 2
   */
  readonly reservedConcurrency?: number;
  /**
   * Timeout of one invocation. Each Kubernetes call is bounded at 5 s; a workload with many pods
   * takes one patch per pod. Between 10 seconds and 5 minutes.
   * @default Duration.seconds(60)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the responder's log group (encrypted with the cluster's logs key).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

const DEFAULT_THRESHOLD = 7;

/**
 * Quarantines compromised pods: GuardDuty findings for this cluster at or above a severity, and
 * anomaly alerts from SNS, invoke a function in the VPC that labels the affected pods with the
 * quarantine label, which the policies the cluster already carries turn into isolation at the
 * NetworkPolicy and Istio layers (design.md 3.6). Every decision is logged and published to an
 * encrypted notification topic.
 *
 * The function reaches the Kubernetes API through an EKS access entry in the Kubernetes group
 * `zero-trust:responders`, with no access policy: the only rights it has are those of a Role, in
 * each service namespace, that can get, list and patch pods and get workloads (responder-rbac.ts),
 * plus, with `QuarantineAction.SCALE_DOWN` only, patch `deployments/scale` and `statefulsets/scale`.
 * The admission policy of `ZeroTrustGuardrails` admits changes of the quarantine label from that group
 * and from break-glass only.
 *
 * Optional, off by default: `action: QuarantineAction.SCALE_DOWN` also scales the owning Deployment
 * or StatefulSet to 0 replicas. It is off because it destroys the evidence (the processes, their
 * memory, their files) that the incident response needs; the label alone keeps the pod running and
 * cut off.
 */
export class QuarantineResponder extends Construct {
  /** The function. */
  public readonly responderFunction: lambda.IFunction;
  /** Its execution role (the EKS access entry's principal). */
  public readonly role: iam.IRole;
  /** The topic that receives a record of every decision (KMS-encrypted with `key`). */
  public readonly notificationTopic: sns.Topic;
  /** The customer-managed key of the notification topic and the dead-letter queues. */
  public readonly key: kms.Key;
  /** Failed asynchronous invocations, after the retries. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Events EventBridge or SNS could not deliver to the function, after their retries. */
  public readonly deliveryDeadLetterQueue: sqs.Queue;
  /** The rule that sends GuardDuty findings to the function. */
  public readonly rule: events.Rule;
  /** The function's security group. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The severity threshold in force. */
  public readonly severityThreshold: number;
  /** The action in force. */
  public readonly action: QuarantineAction;
  private readonly cluster: ZeroTrustCluster;
  private readonly extraNamespaces = new Set<string>();
  private rbac?: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: QuarantineResponderProps) {
    super(scope, id);
    const cluster = props.cluster;
    this.cluster = cluster;
    this.severityThreshold = checkThreshold(this.node.path, props.severityThreshold ?? DEFAULT_THRESHOLD);
    this.action = checkAction(this.node.path, props.action ?? QuarantineAction.LABEL);
    const reserved = checkReserved(this.node.path, props.reservedConcurrency ?? 2);
    const timeout = checkTimeout(this.node.path, props.timeout ?? Duration.seconds(60));
    const code = responderCode(this.node.path);
    const network = cluster.network;

    this.key = new kms.Key(this, 'Key', {
      description: `Quarantine responder of ${cluster.node.path}: decision topic and dead-letter queues`,
      enableKeyRotation: true,
    });
    ZeroTrustKeys.restrictGrants(this.key);
    // EventBridge and SNS send undeliverable events to the encrypted delivery DLQ themselves (key policy, services only).
    for (const service of ['events.amazonaws.com', 'sns.amazonaws.com']) {
      this.key.addToResourcePolicy(new iam.PolicyStatement({
        sid: `DeliveryDlqFrom${service.split('.')[0]}`,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
      }));
    }
    this.notificationTopic = new sns.Topic(this, 'Notifications', { masterKey: this.key, enforceSSL: true });
    const queue = (qid: string) => new sqs.Queue(this, qid, {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueue = queue('DeadLetterQueue');
    this.deliveryDeadLetterQueue = queue('DeliveryDeadLetterQueue');

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      encryptionKey: cluster.keys.logsKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });

    // Egress only to the API server (cluster security group) and the interface endpoints (SNS), both on 443.
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: network.vpc,
      allowAllOutbound: false,
      description: 'Quarantine responder: HTTPS to the EKS API server and the VPC interface endpoints only',
    });
    this.securityGroup.connections.allowTo(cluster.cluster.clusterSecurityGroup, ec2.Port.tcp(443), 'quarantine responder to the EKS API server');
    // aws-cdk-lib drops its inline "disallow all" placeholder once a rule is added, even when that rule is a separate
    // AWS::EC2::SecurityGroupEgress (as rules to other security groups are). A group created with no inline egress gets
    // EC2's default allow-all egress, which separate rules do not remove: keep the placeholder inline.
    (this.securityGroup.node.defaultChild as ec2.CfnSecurityGroup).addPropertyOverride('SecurityGroupEgress', [
      { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', FromPort: 252, IpProtocol: 'icmp', ToPort: 86 },
    ]);
    if (network.endpointSecurityGroup) {
      this.securityGroup.connections.allowTo(network.endpointSecurityGroup, ec2.Port.tcp(443), 'quarantine responder to the VPC interface endpoints');
    } else {
      for (const cidr of network.endpointCidrs) {
        this.securityGroup.addEgressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), 'quarantine responder to the VPC interface endpoints');
      }
    }

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Quarantine responder: labels pods through its EKS access entry; publishes its decisions',
    });
    const policy = new iam.ManagedPolicy(this, 'Policy', {
      description: 'Quarantine responder: least privilege',
      roles: [role],
      statements: this.statements(),
    });
    this.role = role;

    const fn = new lambda.Function(this, 'Function', {
      description: `Quarantines compromised pods of ${cluster.clusterName} (GuardDuty findings, anomaly alerts)`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code,
      memorySize: 256,
      timeout,
      reservedConcurrentExecutions: reserved,
      // Policy updates go to the managed policy above (written out in full), never to an inline default policy.
      role: role.withoutPolicyUpdates(),
      vpc: network.vpc,
      vpcSubnets: { subnets: network.nodeSubnets },
      securityGroups: [this.securityGroup],
      logGroup: this.logGroup,
      deadLetterQueue: this.deadLetterQueue,
      // Asynchronous invocations (EventBridge, SNS): 2 retries within an hour, then the dead-letter queue.
      // A retry cannot label twice or the wrong pod: labelling is idempotent under uid/resourceVersion preconditions.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      environment: {
        CLUSTER_NAME: cluster.clusterName,
        CLUSTER_ENDPOINT: cluster.cluster.clusterEndpoint,
        CLUSTER_CA: cluster.cluster.clusterCertificateAuthorityData,
        TOPIC_ARN: this.notificationTopic.topicArn,
        SEVERITY_THRESHOLD: String(this.severityThreshold),
        QUARANTINE_LABEL: cluster.policies._analysisContext().quarantineLabel,
        QUARANTINE_ACTION: this.action.value,
        NAMESPACES: Lazy.string({ produce: () => this.namespaces().join(',') }),
      },
    });
    fn.node.addDependency(policy);
    this.responderFunction = fn;

    this.rule = new events.Rule(this, 'GuardDutyFindings', {
      description: `GuardDuty findings for EKS cluster ${cluster.clusterName} at severity ${this.severityThreshold} or above`,
      eventPattern: {
        source: ['aws.guardduty'],
        detailType: ['GuardDuty Finding'],
        detail: {
          resource: {
            resourceType: GUARDDUTY_EKS_RESOURCE_TYPES,
            eksClusterDetails: { name: [cluster.clusterName] },
          },
          severity: [{ numeric: ['>=', this.severityThreshold] }],
        },
      },
      targets: [new targets.LambdaFunction(fn, {
        deadLetterQueue: this.deliveryDeadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(2),
      })],
    });

    for (const [i, topic] of (props.alertTopics ?? []).entries()) {
      checkAlertTopic(this.node.path, i, topic);
      topic.addSubscription(new subscriptions.LambdaSubscription(fn, { deadLetterQueue: this.deliveryDeadLetterQueue }));
    }

    // The access entry maps the role to the responders group, and to nothing else: no access policy.
    const entry = new eks.AccessEntry(this, 'AccessEntry', {
      cluster: cluster.cluster,
      principal: role.roleArn,
      accessEntryType: eks.AccessEntryType.STANDARD,
      accessPolicies: [],
    });
    (entry.node.defaultChild as CfnAccessEntry).kubernetesGroups = [RESPONDER_GROUP];

    // The service namespaces are known once every service is declared: at synthesis.
    Aspects.of(this).add(new RenderRbac(this));

    acknowledge({
      scope: policy,
      ids: ['AwsSolutions-IAM5[Resource::*]'],
      reason: 'The ENI actions a function in a VPC needs (ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DescribeSubnets, '
        + 'DeleteNetworkInterface, Assign/UnassignPrivateIpAddresses) are granted on * as in AWSLambdaVPCAccessExecutionRole: '
        + 'the Describe actions support no resource-level permissions and the interfaces do not exist before Lambda creates them.',
    }, {
      scope: fn,
      ids: ['AwsSolutions-L1'],
      reason: 'Node.js 22 is a supported LTS runtime (deprecation 2027-04-30) whose AWS SDK v3 the bundle leaves external; the bundle '
        + 'targets node22 and is tested on it. Moving to nodejs24.x means changing the runtime and the esbuild target together.',
    }, {
      scope: this.deadLetterQueue,
      ids: ['AwsSolutions-SQS3', 'cdk-validator-cfnguard::sqs_dlq_check'],
      reason: 'This queue is the dead-letter queue of the responder function: a dead-letter queue has no dead-letter queue of its own.',
    }, {
      scope: this.deliveryDeadLetterQueue,
      ids: ['AwsSolutions-SQS3', 'cdk-validator-cfnguard::sqs_dlq_check'],
      reason: 'This queue is the dead-letter queue of the EventBridge target and the SNS subscriptions: a dead-letter queue has no dead-letter queue of its own.',
    });
  }

  /**
   * Adds a namespace the responder may act in, besides the namespaces of the cluster's declared
   * services (the lead of a platform can call this for namespaces declared elsewhere).
   */
  public addNamespace(namespace: string): void {
    this.extraNamespaces.add(namespace);
  }

  /** The namespaces the responder may act in: those of the declared services, plus any added. */
  public namespaces(): string[] {
    return [...new Set([...this.cluster.policies.services.map(s => s.namespace), ...this.extraNamespaces])].sort();
  }

  /**
   * Renders the RBAC manifest for the namespaces: after the cluster's policies, which create the namespaces.
   * @internal
   */
  public _renderRbac(): void {
    if (this.rbac) {
      return;
    }
    const namespaces = this.namespaces();
    if (namespaces.length === 0) {
      return;
    }
    // The cluster renders its policy manifests (which create the namespaces) once; calling it first is idempotent.
    this.cluster._render();
    this.rbac = new eks.KubernetesManifest(this, 'Rbac', {
      cluster: this.cluster.cluster,
      manifest: responderRbac(namespaces, RESPONDER_GROUP, this.action.scalesDown),
      overwrite: true,
    });
    const policyManifests = this.cluster.node.findAll().filter(c => c instanceof eks.KubernetesManifest && c.node.id.startsWith('Policies-'));
    for (const m of policyManifests) {
      this.rbac.node.addDependency(m);
    }
  }

  /** The function's permissions, each with its reason. */
  private statements(): iam.PolicyStatement[] {
    return [
      // Its own log group only (the log group ARN ends in :*, which covers its streams).
      new iam.PolicyStatement({ sid: 'Logs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
      // ENIs in the VPC: AWS offers no narrower resource for these (acknowledged with the reason above).
      new iam.PolicyStatement({
        sid: 'VpcNetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
      // Publishing its decisions to its own topic.
      new iam.PolicyStatement({ sid: 'PublishDecisions', actions: ['sns:Publish'], resources: [this.notificationTopic.topicArn] }),
      // Failed invocations to its own dead-letter queue.
      new iam.PolicyStatement({ sid: 'DeadLetters', actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
      // The topic and the queue are encrypted with this key: publishing and sending need a data key.
      new iam.PolicyStatement({ sid: 'EncryptWithResponderKey', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.key.keyArn] }),
    ];
  }
}

class RenderRbac implements IAspect {
  constructor(private readonly owner: QuarantineResponder) {}
  public visit(node: IConstruct): void {
    if (node === this.owner) {
      this.owner._renderRbac();
    }
  }
}

/** Refuses the alarm topic: anyone the account lets publish there could have pods quarantined. */
function checkAlertTopic(where: string, index: number, topic: sns.ITopic): void {
  if (topic.node.scope instanceof AlarmTopic) {
    throw new Error(`QuarantineResponder '${where}': alertTopics[${index}] is the alarm topic ${topic.node.path}, which CloudWatch, EventBridge `
      + 'and every Managed Prometheus workspace of the account may publish to (and any principal sns:Publish is granted to): '
      + 'an alert there could be forged. Fix: pass ZeroTrustObservability.quarantineAlertTopic (ManagedPrometheus.alertTopic), '
      + 'which only the workspace\'s alert manager may publish to; it receives the same alerts.');
  }
}

function checkThreshold(where: string, t: number): number {
  if (!Number.isFinite(t) || t < 1 || t > 10) {
    throw new Error(`QuarantineResponder '${where}': severityThreshold must be a GuardDuty severity between 1 and 10 (got ${t}). `
      + 'Fix: 7 acts on High and Critical findings (the default), 4 adds Medium ones.');
  }
  return t;
}

function checkAction(where: string, a: QuarantineAction): QuarantineAction {
  if (a !== QuarantineAction.LABEL && a !== QuarantineAction.SCALE_DOWN) {
    throw new Error(`QuarantineResponder '${where}': action must be QuarantineAction.LABEL or QuarantineAction.SCALE_DOWN `
      + `(got ${JSON.stringify((a as { value?: unknown } | undefined)?.value ?? a)}). Fix: leave it unset to label only (the default).`);
  }
  return a;
}

function checkReserved(where: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`QuarantineResponder '${where}': reservedConcurrency must be an integer of at least 1 (got ${n}); 0 would disable the responder.`);
  }
  return n;
}

function checkTimeout(where: string, d: Duration): Duration {
  const s = d.toSeconds();
  if (s < 10 || s > 300) {
    throw new Error(`QuarantineResponder '${where}': timeout must be between 10 seconds and 5 minutes (got ${s} s): `
      + 'each Kubernetes call may take up to 5 s, and a longer timeout only delays the retry.');
  }
  return d;
}
