/** How a service's pods get AWS credentials. */
export class WorkloadIdentity {
  /**
   * IAM Roles for Service Accounts: the role trusts the cluster's OIDC provider for exactly this
   * service account (`:sub` and `:aud` StringEquals). The default.
   */
  public static readonly IRSA = new WorkloadIdentity('IRSA');
  /**
   * EKS Pod Identity: the role trusts `pods.eks.amazonaws.com` (sts:AssumeRole and sts:TagSession)
   * only with `aws:SourceAccount` = the stack's account and `aws:SourceArn` = the cluster's ARN, an
   * association binds it to the service account, and the pods may reach the agent at 169.254.170.23:80.
   */
  public static readonly POD_IDENTITY = new WorkloadIdentity('POD_IDENTITY');
  private constructor(public readonly name: string) {}
}
