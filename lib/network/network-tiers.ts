import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * The subnet group names of the tiers that `SegmentedVpc` creates. Select a tier with
 * `vpc.selectSubnets({ subnetGroupName: NetworkTier.NODES })`.
 */
export enum NetworkTier {
  /** Public subnets for internet-facing load balancers (and the NAT gateways). No pod lives here. */
  INGRESS = 'Ingress',
  /** Private subnets with egress for the nodes and their pods (VPC CNI gives pods node-subnet addresses). */
  NODES = 'Nodes',
  /** Isolated subnets for data stores. */
  DATA = 'Data',
  /** Private subnets with egress for the EKS control-plane ENIs and the kubectl handler. No pod lives here. */
  CONTROL_PLANE = 'ControlPlane',
  /** Isolated subnets for internal load balancers. No pod lives here. */
  INTERNAL_LOAD_BALANCER = 'InternalLb',
  /** Isolated subnets for the VPC interface endpoint ENIs. No pod lives here. */
  ENDPOINTS = 'Endpoints',
  /**
   * Small isolated subnets for the metrics scraper's ENIs (the Amazon Managed Service for Prometheus
   * collector). No pod lives here, so NetworkPolicies may admit these CIDRs to the metrics ports.
   */
  SCRAPER = 'Scraper',
}

/**
 * What a cluster needs to know about its network: the VPC, the subnets of each tier and their CIDRs.
 *
 * CIDRs are concrete strings at synth because Kubernetes NetworkPolicy ipBlocks are rendered from them.
 * Only the CIDRs of tiers where no pod lives (control plane, load balancers, endpoints) may appear in an
 * ipBlock (design.md 3.4); the node CIDRs are given for security groups and documentation only.
 */
export interface INetworkTiers {
  /** The VPC. */
  readonly vpc: ec2.IVpc;
  /** The primary IPv4 CIDR of the VPC, a concrete string. */
  readonly vpcCidr: string;
  /** Public subnets for internet-facing load balancers. */
  readonly ingressSubnets: ec2.ISubnet[];
  /** The CIDRs of `ingressSubnets`, in the same order. */
  readonly ingressCidrs: string[];
  /** Private subnets with egress for nodes and pods. */
  readonly nodeSubnets: ec2.ISubnet[];
  /** The CIDRs of `nodeSubnets`, in the same order. Never use them in a NetworkPolicy ipBlock. */
  readonly nodeCidrs: string[];
  /** Isolated subnets for data stores. */
  readonly dataSubnets: ec2.ISubnet[];
  /** The CIDRs of `dataSubnets`, in the same order. */
  readonly dataCidrs: string[];
  /** Subnets for the EKS control-plane ENIs (the cluster's `subnets`) and the kubectl handler. */
  readonly controlPlaneSubnets: ec2.ISubnet[];
  /** The CIDRs of `controlPlaneSubnets`, in the same order: the source of API-server webhook calls. */
  readonly controlPlaneCidrs: string[];
  /** Isolated subnets for internal load balancers. */
  readonly internalLoadBalancerSubnets: ec2.ISubnet[];
  /** The CIDRs of `internalLoadBalancerSubnets`, in the same order. */
  readonly internalLoadBalancerCidrs: string[];
  /** Subnets that hold the VPC interface endpoint ENIs. */
  readonly endpointSubnets: ec2.ISubnet[];
  /** The CIDRs of `endpointSubnets`, in the same order: where pods send AWS API calls on TCP 443. */
  readonly endpointCidrs: string[];
  /**
   * Subnets for the metrics scraper's ENIs, where no pod lives.
   *
   * @default - none: no dedicated scraper subnets, so no metrics scraper can be admitted by NetworkPolicy
   */
  readonly scraperSubnets?: ec2.ISubnet[];
  /**
   * The CIDRs of `scraperSubnets`, in the same order: the only sources NetworkPolicies admit to the
   * sidecar metrics ports (15020/15090) and istiod's monitoring port (15014).
   *
   * @default - none
   */
  readonly scraperCidrs?: string[];
  /**
   * The security group of the VPC interface endpoints, when known. A cluster adds TCP 443 ingress to it
   * from its node and pod security groups.
   *
   * @default - unknown: the owner of the endpoints admits the cluster's security groups
   */
  readonly endpointSecurityGroup?: ec2.ISecurityGroup;
}

/**
 * The tiers of a VPC you bring yourself, for `SegmentedVpc.fromExistingTiers`.
 *
 * Every subnet must know its IPv4 CIDR and availability zone at synth: import subnets with
 * `ec2.Subnet.fromSubnetAttributes({ subnetId, availabilityZone, ipv4CidrBlock })` or
 * `ec2.Vpc.fromLookup`. No two tiers may share a subnet, and no two subnet CIDRs may overlap.
 */
export interface ExistingNetworkTiersProps {
  /** The VPC that holds every subnet below. */
  readonly vpc: ec2.IVpc;
  /**
   * The primary IPv4 CIDR of the VPC, a concrete string.
   *
   * @default - `vpc.vpcCidrBlock`, which must then be concrete (it is with `ec2.Vpc.fromLookup`)
   */
  readonly vpcCidr?: string;
  /** Public subnets for internet-facing load balancers (at least one). */
  readonly ingressSubnets: ec2.ISubnet[];
  /** Private subnets for nodes and pods (at least two, in at least two availability zones). */
  readonly nodeSubnets: ec2.ISubnet[];
  /** Isolated subnets for data stores (at least one). */
  readonly dataSubnets: ec2.ISubnet[];
  /**
   * Subnets for the EKS control-plane ENIs and the kubectl handler (at least two, in at least two
   * availability zones; no pod may live in them, and the kubectl handler needs egress to fetch charts).
   */
  readonly controlPlaneSubnets: ec2.ISubnet[];
  /** Subnets for internal load balancers (at least one; no pod may live in them). */
  readonly internalLoadBalancerSubnets: ec2.ISubnet[];
  /** Subnets that hold the VPC interface endpoint ENIs (at least one; no pod may live in them). */
  readonly endpointSubnets: ec2.ISubnet[];
  /**
   * Dedicated subnets for the metrics scraper (no pod may live in them; at least two, in two
   * availability zones, as the managed Prometheus collector requires).
   *
   * @default - none: metrics scraping from a dedicated subnet is not available
   */
  readonly scraperSubnets?: ec2.ISubnet[];
  /**
   * The security group of your VPC interface endpoints.
   *
   * @default - none: you admit the cluster's security groups to your endpoints yourself
   */
  readonly endpointSecurityGroup?: ec2.ISecurityGroup;
}
