/** Policies for CoreDNS in kube-system (only when asked: a wrong policy there breaks the cluster). */
export interface CoreDnsPolicyProps {
  /** The upstream resolver CoreDNS forwards to, e.g. the VPC resolver '10.0.0.2/32'. */
  readonly resolverCidr: string;
}

/**
 * Where the platform's traffic comes from, so that the platform namespaces (mesh root, ingress
 * gateway) get precise default-deny NetworkPolicies (design.md section 7). Every CIDR must be a
 * dedicated subnet where no pod lives: VPC CNI gives pods node-subnet addresses, and an ipBlock
 * matches pod IPs.
 */
export interface PlatformNetworkProps {
  /** Subnets of the EKS control-plane ENIs: the API server calls webhooks from them, controllers call the API through them. */
  readonly controlPlaneCidrs: string[];
  /** Subnets of the load balancer in front of the ingress gateway. */
  readonly loadBalancerCidrs: string[];
  /**
   * The `kubernetes` Service ClusterIP as a /32 (e.g. '172.20.0.1/32'), allowed next to the
   * control-plane subnets for istiod's API calls (controls.md pitfall 8).
   * @default - the control-plane subnets only
   */
  readonly apiServerServiceCidr?: string;
  /**
   * Subnets of the metrics scraper: istiod 15014 and sidecar metrics 15020/15090 open to them.
   * @default - none
   */
  readonly scraperCidrs?: string[];
  /**
   * Precise policies for CoreDNS in kube-system.
   * @default - none: kube-system is left to EKS
   */
  readonly coreDns?: CoreDnsPolicyProps;
}
