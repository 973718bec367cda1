import { Duration } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { assumedRolePrefix } from './assumed-role';

/** Options of the break-glass role of a `ZeroTrustCluster`. */
export interface BreakGlassOptions {
  /**
   * Who may assume the break-glass role (always with MFA). A wildcard principal is refused.
   * @default - the account root principal: any IAM identity of this account whose own policy allows sts:AssumeRole on the role, with MFA
   */
  readonly trustedPrincipal?: iam.IPrincipal;
  /**
   * How long a break-glass session lasts.
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

/** Props of `BreakGlassAccess`. */
export interface BreakGlassAccessProps extends BreakGlassOptions {
  /** The cluster. */
  readonly cluster: eks.ICluster;
}

/**
 * The one human cluster-admin (controls.md EKS-06): an IAM role whose trust requires MFA
 * (`aws:MultiFactorAuthPresent` true), with a cluster-scoped AmazonEKSClusterAdminPolicy access
 * entry. Its sessions are named in the API server audit log as
 * `arn:aws:sts::<account>:assumed-role/<role name>/<session>`, which is how the guardrails know it.
 */
export class BreakGlassAccess extends Construct {
  /** The break-glass role. */
  public readonly role: iam.Role;
  /** The role's access entry (cluster admin). */
  public readonly accessEntry: eks.AccessEntry;
  /** The username prefix the API server sees for sessions of the role. */
  public readonly usernamePrefix: string;

  constructor(scope: Construct, id: string, props: BreakGlassAccessProps) {
    super(scope, id);
    const principal = props.trustedPrincipal ?? new iam.AccountRootPrincipal();
    checkPrincipal(this.node.path, principal);
    this.role = new iam.Role(this, 'Role', {
      description: 'Break-glass cluster admin of an EKS cluster: assume with MFA only, in an incident',
      assumedBy: new iam.PrincipalWithConditions(principal, { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }),
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
    });
    this.accessEntry = new eks.AccessEntry(this, 'AccessEntry', {
      cluster: props.cluster,
      principal: this.role.roleArn,
      accessPolicies: [eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', { accessScopeType: eks.AccessScopeType.CLUSTER })],
    });
    this.usernamePrefix = assumedRolePrefix(this.role.roleName);
  }
}

function checkPrincipal(path: string, principal: iam.IPrincipal): void {
  const json = principal.policyFragment.principalJson;
  const values = Object.values(json).flat();
  if (values.some(v => v === '*')) {
    throw new Error(`BreakGlassAccess '${path}': breakGlass.trustedPrincipal is a wildcard ("*"), so anyone with MFA in any account could become cluster admin. `
      + 'Fix: name the account or role that may break the glass (e.g. new iam.AccountPrincipal(...) or iam.Role.fromRoleArn(...)).');
  }
}
