import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Props of `ZeroTrustKeys`. */
export interface ZeroTrustKeysProps {
  /**
   * A prefix for the key aliases, e.g. 'prod-platform' gives 'alias/prod-platform/secrets'.
   * @default - no aliases
   */
  readonly aliasPrefix?: string;
  /**
   * How often the keys rotate.
   * @default Duration.days(365)
   */
  readonly rotationPeriod?: Duration;
  /**
   * What happens to the keys when the stack is deleted. Losing the secrets key strands every
   * Kubernetes Secret in etcd, so the default keeps them; `RemovalPolicy.DESTROY` is a named
   * opt-out for throw-away environments.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Customer-managed KMS keys, one per purpose (controls.md KMS-01, KMS-02): Kubernetes secrets
 * envelope encryption, node EBS volumes, and CloudWatch Logs. Rotation is on; each key's policy
 * grants only what its purpose needs beyond the account's administration of the key.
 */
export class ZeroTrustKeys extends Construct {
  /**
   * Adds the statement that lets only AWS services create grants on the key (Control Tower
   * CT.KMS.PR.3): a principal may call kms:CreateGrant only for an AWS resource or as an AWS service.
   */
  public static restrictGrants(key: kms.Key): void {
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'OnlyAwsServicesCreateGrants',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }));
  }

  /** Envelope encryption of Kubernetes Secrets in etcd. */
  public readonly secretsKey: kms.Key;
  /** Node EBS volumes (usable by the Auto Scaling service-linked role, which launches managed nodes). */
  public readonly ebsKey: kms.Key;
  /** CloudWatch Logs groups of this stack (usable by the logs service of this region only). */
  public readonly logsKey: kms.Key;

  constructor(scope: Construct, id: string, props: ZeroTrustKeysProps = {}) {
    super(scope, id);
    const make = (name: string, description: string) => new kms.Key(this, name, {
      description,
      enableKeyRotation: true,
      rotationPeriod: props.rotationPeriod ?? Duration.days(365),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      alias: props.aliasPrefix ? `alias/${props.aliasPrefix}/${name.toLowerCase()}` : undefined,
    });
    this.secretsKey = make('Secrets', 'EKS envelope encryption of Kubernetes secrets');
    this.ebsKey = make('Ebs', 'EBS volumes of EKS nodes');
    this.logsKey = make('Logs', 'CloudWatch Logs of the zero-trust platform');
    for (const key of [this.secretsKey, this.ebsKey, this.logsKey]) {
      ZeroTrustKeys.restrictGrants(key);
    }

    // Managed node groups launch instances through the Auto Scaling service-linked role, which must
    // use the key to create encrypted volumes (EC2 User Guide, "Required KMS key policy for use with encrypted volumes").
    const autoscaling = new iam.ArnPrincipal(`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`);
    this.ebsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AutoScalingUsesTheKeyForNodeVolumes',
      principals: [autoscaling],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
    }));
    this.ebsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AutoScalingGrantsForAttachedVolumes',
      principals: [autoscaling],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }));

    // The logs service of this region only, and only for log groups of this account.
    this.logsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchLogsOfThisRegionAndAccount',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
    }));
  }
}
