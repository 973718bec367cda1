import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * The AWS services a private EKS cluster and its workloads reach through VPC interface endpoints.
 */
export class AwsEndpoints {
  /**
   * The default interface endpoints of `SegmentedVpc`, in a stable order:
   * - `ecr.api`, `ecr.dkr`: image pulls from ECR (the layers come from S3, below);
   * - `sts`: IRSA web-identity role assumption (regional STS);
   * - `ec2`: VPC CNI and node bootstrap;
   * - `logs`: container and control-plane log shipping;
   * - `eks`: node bootstrap (DescribeCluster) and the kubectl handler;
   * - `eks-auth`: EKS Pod Identity credentials;
   * - `elasticloadbalancing`: the AWS Load Balancer Controller;
   * - `s3`: pods reach S3 through the interface endpoint, whose ENI addresses lie in the endpoint subnets and so
   *   can be named by a NetworkPolicy ipBlock (a gateway endpoint resolves to public S3 ranges);
   * - `ssm`, `ssmmessages`, `ec2messages`: Session Manager access to nodes instead of SSH;
   * - `kms`: envelope encryption of secrets and encrypted volumes;
   * - `autoscaling`: managed node groups and the cluster autoscaler;
   * - `sns`: in-VPC publishers such as the quarantine responder's notifications;
   * - `monitoring`: CloudWatch metrics (`PutMetricData`) from the CloudWatch agent of the
   *   `amazon-cloudwatch-observability` add-on.
   *
   * Returns a new array on every call, so callers may extend it:
   * `[...AwsEndpoints.defaultInterfaceServices(), ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER]`.
   */
  public static defaultInterfaceServices(): ec2.InterfaceVpcEndpointAwsService[] {
    return [
      ec2.InterfaceVpcEndpointAwsService.ECR,
      ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
      ec2.InterfaceVpcEndpointAwsService.STS,
      ec2.InterfaceVpcEndpointAwsService.EC2,
      ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      ec2.InterfaceVpcEndpointAwsService.EKS,
      ec2.InterfaceVpcEndpointAwsService.EKS_AUTH,
      ec2.InterfaceVpcEndpointAwsService.ELASTIC_LOAD_BALANCING,
      ec2.InterfaceVpcEndpointAwsService.S3,
      ec2.InterfaceVpcEndpointAwsService.SSM,
      ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
      ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
      ec2.InterfaceVpcEndpointAwsService.KMS,
      ec2.InterfaceVpcEndpointAwsService.AUTOSCALING,
      ec2.InterfaceVpcEndpointAwsService.SNS,
      ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    ];
  }

  private constructor() {}
}
