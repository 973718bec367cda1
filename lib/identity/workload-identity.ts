/** How a service's pods get AWS credentials. */
export class WorkloadIdentity {
  /**
   * IAM Roles for Service Accounts: the role trusts the cluster's OIDC provider for exactly this
   * service account (`:sub` and `:aud` StringEquals), and the pods reach STS
   * (AssumeRoleWithWebIdentity) through its VPC endpoint. The default.
   */
  public static readonly IRSA = new WorkloadIdentity('IRSA');
  /**
   * EKS Pod Identity: the role trusts `pods.eks.amazonaws.com` (sts:AssumeRole and sts:TagSession)
   * only with `aws:SourceAccount` = the stack's account and `aws:SourceArn` = the cluster's ARN, and
   * an association binds it to the service account. The cluster installs the
   * `eks-pod-identity-agent` add-on, and only this service's pods may reach the agent on their
   * node at 169.254.170.23 on TCP 80 (a NetworkPolicy egress rule, plus a TCP ServiceEntry and a
   * Sidecar host so the sidecar lets it through under REGISTRY_ONLY). They get no STS egress: the
   * agent, not the pod, exchanges the token (EKS Auth `AssumeRoleForPodIdentity`).
   */
  public static readonly POD_IDENTITY = new WorkloadIdentity('POD_IDENTITY');
  private constructor(public readonly name: string) {}
}
