import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { Construct } from 'constructs';
import { ServicePort, ZeroTrustCluster, ZeroTrustReport } from '../lib';

/**
 * The reference zero-trust cluster: the seed scenario on EKS. The ingress gateway reaches
 * api-gateway, which calls user; order calls payment with POST /charge only; analytics, which
 * nobody calls, writes to one S3 bucket through its IRSA role.
 */
export class ReferenceClusterStack extends Stack {
  public readonly platform: ZeroTrustCluster;

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

    const accessLogs = new s3.Bucket(this, 'AnalyticsDataAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const data = new s3.Bucket(this, 'AnalyticsData', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: new kms.Key(this, 'AnalyticsDataKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN, description: 'Analytics data bucket' }),
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'analytics-data/',
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    data.grantWrite(analytics);
  }
}

if (require.main === module) {
  // The built-in CloudFormation schema validation (WebAssembly) takes ~7 s here; the tests run it
  // over this app (test/reference-cluster.test.ts), so the main job skips it to stay quick.
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new ReferenceClusterStack(app, 'ZeroTrustReference');
  app.synth();
  // The posture report of the cluster's policies, next to the cloud assembly.
  ZeroTrustReport.fromChart(stack.platform.policies).writeTo(app.outdir).catch(e => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
