import { Aws } from 'aws-cdk-lib';

/**
 * An AWS API that workloads reach through an interface VPC endpoint. Opening one for a service
 * opens egress on 443 to the endpoint subnets only, plus an Istio ServiceEntry and Sidecar host
 * for its regional names (design.md 3.4).
 */
export class AwsApi {
  /** AWS STS: every IRSA workload needs it (AssumeRoleWithWebIdentity). */
  public static readonly STS = new AwsApi('sts', 'sts', ['sts']);
  /** Amazon S3 through its interface endpoint (bucket-style names included). */
  public static readonly S3 = new AwsApi('s3', 's3', ['s3', '*.s3']);
  /** AWS KMS. */
  public static readonly KMS = new AwsApi('kms', 'kms', ['kms']);
  /** AWS Systems Manager. */
  public static readonly SSM = new AwsApi('ssm', 'ssm', ['ssm']);
  /** CloudWatch Logs. */
  public static readonly LOGS = new AwsApi('logs', 'logs', ['logs']);
  /** Amazon ECR API. */
  public static readonly ECR = new AwsApi('ecr', 'ecr', ['api.ecr']);
  /** Amazon EC2 API. */
  public static readonly EC2 = new AwsApi('ec2', 'ec2', ['ec2']);

  /** Every API here, in a stable order. */
  public static all(): AwsApi[] {
    return [AwsApi.STS, AwsApi.S3, AwsApi.KMS, AwsApi.SSM, AwsApi.LOGS, AwsApi.ECR, AwsApi.EC2];
  }

  /** The API whose IAM actions start with `prefix:`, if this catalogue has it. */
  public static forIamPrefix(prefix: string): AwsApi | undefined {
    return AwsApi.all().find(a => a.iamPrefix === prefix);
  }

  private constructor(
    /** A short name, used in object names (e.g. 'aws-s3'). */
    public readonly name: string,
    /** The IAM action prefix of the API (e.g. 's3'). */
    public readonly iamPrefix: string,
    private readonly hostPrefixes: string[],
  ) {}

  /** The regional DNS names clients call, e.g. 'sts.<region>.amazonaws.com'. */
  public get hosts(): string[] {
    return this.hostPrefixes.map(p => `${p}.${Aws.REGION}.${Aws.URL_SUFFIX}`);
  }
}
