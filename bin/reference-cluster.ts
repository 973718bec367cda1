import { App, CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { Construct } from 'constructs';
import { AccessLevel, QuarantineResponder, ServicePort, ZeroTrustCluster, ZeroTrustKeys, ZeroTrustObservability, ZeroTrustReport } from '../lib';

/**
 * The reference zero-trust cluster: the seed scenario on EKS. The ingress gateway reaches
 * api-gateway, which calls user; order calls payment with POST /charge only; analytics, which
 * nobody calls, writes to one S3 bucket through its IRSA role. Everything is logged and watched
 * (audit-log alarms, mesh access logs, Managed Prometheus), and a pod that GuardDuty or the
 * rate-anomaly alert names is quarantined.
 */
export class ReferenceClusterStack extends Stack {
  public readonly platform: ZeroTrustCluster;
  public readonly observability: ZeroTrustObservability;
  public readonly responder: QuarantineResponder;

  constructor(scope: Construct, id: string) {
    super(scope, id, { description: 'cdk-zero-trust-eks reference cluster (env-agnostic)' });
    this.platform = new ZeroTrustCluster(this, 'Platform', {
      // Kubernetes 1.35: created by EKS today, in standard support to 2027-03 (design.md section 4).
      version: eks.KubernetesVersion.V1_35,
      kubectlLayer: new KubectlV35Layer(this, 'Kubectl'),
      defaultNamespace: 'shop',
    });

    const apiGateway = this.platform.addService('api-gateway', { ports: [ServicePort.http(8080)] });
    const user = this.platform.addService('user', { ports: [ServicePort.http(8080)] });
    const order = this.platform.addService('order', { ports: [ServicePort.http(8080)] });
    const payment = this.platform.addService('payment', { namespace: 'payments', ports: [ServicePort.http(8443)] });
    const analytics = this.platform.addService('analytics', { namespace: 'analytics', ports: [ServicePort.http(8080)] });

    apiGateway.allowFromIngressGateway();
    user.allowFrom(apiGateway);
    payment.allowFrom(order, { ports: [8443], methods: ['POST'], paths: ['/charge'] });

    const lifecycleRules: s3.LifecycleRule[] = [{ noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(7) }];
    const accessLogs = new s3.Bucket(this, 'AnalyticsDataAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const dataKey = new kms.Key(this, 'AnalyticsDataKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN, description: 'Analytics data bucket' });
    ZeroTrustKeys.restrictGrants(dataKey);
    const data = new s3.Bucket(this, 'AnalyticsData', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: dataKey,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'analytics-data/',
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    data.grantWrite(analytics);

    // Human access: the shop team edits workloads in its namespace only (no NetworkPolicies, Istio security, exec or Secrets).
    // Pass an existing role with `-c shopEditorsRoleArn=arn:aws:iam::<account>:role/<name>`; else the example creates one (MFA only).
    const shopEditorsArn = this.node.tryGetContext('shopEditorsRoleArn') as string | undefined
      ?? new iam.Role(this, 'ShopEditors', {
        description: 'Editors of the shop namespace (example)',
        assumedBy: new iam.PrincipalWithConditions(new iam.AccountRootPrincipal(), { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }),
        maxSessionDuration: Duration.hours(1),
      }).roleArn;
    this.platform.grantAccess('ShopEditors', shopEditorsArn, { namespaces: ['shop'], level: AccessLevel.EDIT });

    // Visibility and response: GuardDuty is left to the account (one detector per account and region; pass
    // `guardDuty: GuardDutyDetector.existing(id)` or `.create()`), so findings arrive wherever it is enabled.
    // The responder subscribes to the dedicated alert topic, which only the workspace's alert manager may publish to; the
    // same alerts reach the alarm topic (for people), where CloudWatch, EventBridge and others publish too.
    this.observability = new ZeroTrustObservability(this, 'Observability', { cluster: this.platform });
    this.responder = new QuarantineResponder(this, 'Quarantine', { cluster: this.platform, alertTopics: [this.observability.quarantineAlertTopic!] });

    // Findings on this example's own buckets and grant, each with its reason.
    const ack = (scope: Construct, reason: string, ...ids: string[]) => ids.forEach(id => Validations.of(scope).acknowledge({ id, reason }));
    ack(accessLogs, 'S3 server access logs can only be delivered to a bucket encrypted with SSE-S3, and a log bucket does not log itself.',
      'NIST.800.53.R5-S3DefaultEncryptionKMS', 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check', 'cdk-validator-cfnguard::s3_bucket_logging_enabled_check');
    for (const bucket of [accessLogs, data]) {
      ack(bucket, 'A single-region example: replication, object lock and event notifications are choices for a production data design, not for this reference.',
        'NIST.800.53.R5-S3BucketReplicationEnabled', 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check', 'cdk-validator-cfnguard::s3_event_notifications_enabled_check');
    }
    ack(analytics, 'bucket.grantWrite scopes object actions to this one bucket (bucket/*) and its key; the wildcards are the object-level actions of s3:PutObject/DeleteObject/Abort and KMS data-key variants.',
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]', 'AwsSolutions-IAM5[Action::s3:Abort*]', `AwsSolutions-IAM5[Resource::<${this.resolve(this.getLogicalId(data.node.defaultChild as CfnElement))}.Arn>/*]`,
      'AwsSolutions-IAM5[Action::kms:ReEncrypt*]', 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', 'NIST.800.53.R5-IAMNoInlinePolicy');
    ack(this.platform.network as unknown as Construct, 'The Ingress tier is the public subnets of internet-facing load balancers and NAT gateways: its default route to the internet gateway is the point of the tier.',
      'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW');
  }
}

if (require.main === module) {
  // The built-in CloudFormation schema validation (WebAssembly) takes ~7 s here; the tests run it
  // over this app (test/reference-cluster.test.ts), so the main job skips it to stay quick.
  const app = new App({
    builtinCloudFormationValidation: false,
    // The same feature flags as cdk.json, so that running this file directly behaves like `cdk synth`.
    context: { '@aws-cdk/aws-eks:useNativeOidcProvider': true, '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true },
  });
  const stack = new ReferenceClusterStack(app, 'ZeroTrustReference');
  app.synth();
  // The posture report of the cluster's policies, next to the cloud assembly.
  ZeroTrustReport.fromChart(stack.platform.policies).writeTo(app.outdir).catch(e => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
