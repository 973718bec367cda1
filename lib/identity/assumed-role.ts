import { Aws } from 'aws-cdk-lib';

/**
 * `arn:<partition>:sts::<account>:assumed-role/<roleName>/`: the prefix of the Kubernetes username
 * of every session of an IAM role with an EKS access entry (the role's path is not part of it).
 */
export function assumedRolePrefix(roleName: string): string {
  return `arn:${Aws.PARTITION}:sts::${Aws.ACCOUNT_ID}:assumed-role/${roleName}/`;
}
