import { Annotations, Aws, Names, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AwsEndpoints } from './aws-endpoints';
import { ExistingNetworkTiersProps, INetworkTiers, NetworkTier } from './network-tiers';
import { existingNetworkTiers, isConcreteIpv4Cidr } from './private/existing-network-tiers';

/** Properties of a `SegmentedVpc`. */
export interface SegmentedVpcProps {
  /**
   * How the VPC gets its IPv4 CIDR. The subnet CIDRs must be known at synth (NetworkPolicy ipBlocks are
   * rendered from them), so only `ec2.IpAddresses.cidr(...)` works; IPAM allocation is rejected.
   * The tiers need a /16 for up to six zones (each zone takes a /19 for nodes plus about a /21 for the rest).
   *
   * @default ec2.IpAddresses.cidr('10.0.0.0/16')
   */
  readonly ipAddresses?: ec2.IIpAddresses;

  /**
   * How many availability zones to spread every tier across (at least 2). An environment-agnostic stack
   * only knows two zones; set the stack's `env` to use more.
   *
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * How many NAT gateways to create (1 to the number of zones). Fewer than one per zone saves cost but
   * makes the egress of every zone depend on the zones that hold a gateway.
   *
   * @default - one per availability zone
   */
  readonly natGateways?: number;

  /**
   * The interface endpoints to create in the `Endpoints` tier. Replaces the default list; extend the
   * default with `[...AwsEndpoints.defaultInterfaceServices(), ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER]`.
   *
   * @default AwsEndpoints.defaultInterfaceServices()
   */
  readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];

  /**
   * The KMS key that encrypts the flow-log group. When it is a `kms.Key` of this app, the statement that
   * lets CloudWatch Logs use it for this log group is added to its key policy; for an imported key the
   * owner must add that statement (a warning says so), or the log group fails to create.
   *
   * @default - a new key with rotation on, retained on stack deletion
   */
  readonly flowLogsEncryptionKey?: kms.IKey;

  /**
   * How long to keep the flow logs. Must be finite.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogsRetention?: logs.RetentionDays;
}

/** Sizes and kinds of the tiers, largest first so the allocation packs without gaps. */
const TIERS: ec2.SubnetConfiguration[] = [
  { name: NetworkTier.NODES, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
  { name: NetworkTier.INGRESS, subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
  { name: NetworkTier.DATA, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
  { name: NetworkTier.INTERNAL_LOAD_BALANCER, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 26 },
  { name: NetworkTier.ENDPOINTS, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 27 },
  { name: NetworkTier.CONTROL_PLANE, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 28 },
  // Last, so that adding it left every earlier subnet where it was.
  { name: NetworkTier.SCRAPER, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 28 },
];

const DEFAULT_CIDR = '10.0.0.0/16';

/**
 * A VPC cut into tiers so that every NetworkPolicy ipBlock can name subnets where no pod lives:
 * `Ingress` (public, internet-facing load balancers and NAT gateways), `Nodes` (nodes and pods),
 * `Data` (isolated, data stores), `ControlPlane` (EKS control-plane ENIs and the kubectl handler),
 * `InternalLb` (isolated, internal load balancers), `Endpoints` (isolated, VPC interface endpoints) and
 * `Scraper` (isolated, small: the managed metrics scraper's ENIs).
 *
 * It also creates interface endpoints with private DNS behind one security group that admits nothing until
 * `allowEndpointAccessFrom` is called, an S3 gateway endpoint on the node route tables, VPC flow logs of
 * all traffic into a KMS-encrypted log group, and strips the default security group of its rules.
 */
export class SegmentedVpc extends Construct implements INetworkTiers {
  /**
   * The tiers of a VPC you own, validated: every tier given, node and control-plane tiers in two or more
   * zones, no subnet in two tiers, every CIDR concrete and none overlapping another. Creates nothing: the
   * interface endpoints, their security group, the S3 gateway endpoint and the flow logs are then the VPC
   * owner's job, as is admitting the cluster's security groups to the endpoints.
   */
  public static fromExistingTiers(props: ExistingNetworkTiersProps): INetworkTiers {
    return existingNetworkTiers(props);
  }

  /** The VPC. */
  public readonly vpc: ec2.IVpc;
  /** The same VPC as the concrete construct, for what `ec2.IVpc` does not offer. */
  public readonly concreteVpc: ec2.Vpc;
  /** The primary IPv4 CIDR of the VPC, a concrete string. */
  public readonly vpcCidr: string;
  /** The `Ingress` subnets (public): internet-facing load balancers, tagged `kubernetes.io/role/elb=1`. */
  public readonly ingressSubnets: ec2.ISubnet[];
  /** The CIDRs of `ingressSubnets`. */
  public readonly ingressCidrs: string[];
  /** The `Nodes` subnets (private with egress): nodes and pods. */
  public readonly nodeSubnets: ec2.ISubnet[];
  /** The CIDRs of `nodeSubnets`. Pods have these addresses: never use them in a NetworkPolicy ipBlock. */
  public readonly nodeCidrs: string[];
  /** The `Data` subnets (isolated): data stores. */
  public readonly dataSubnets: ec2.ISubnet[];
  /** The CIDRs of `dataSubnets`. */
  public readonly dataCidrs: string[];
  /** The `ControlPlane` subnets (private with egress): the cluster's `subnets` and the kubectl handler. */
  public readonly controlPlaneSubnets: ec2.ISubnet[];
  /** The CIDRs of `controlPlaneSubnets`: the source of API-server calls to admission webhooks. */
  public readonly controlPlaneCidrs: string[];
  /** The `InternalLb` subnets (isolated): internal load balancers, tagged `kubernetes.io/role/internal-elb=1`. */
  public readonly internalLoadBalancerSubnets: ec2.ISubnet[];
  /** The CIDRs of `internalLoadBalancerSubnets`. */
  public readonly internalLoadBalancerCidrs: string[];
  /** The `Endpoints` subnets (isolated): the interface endpoint ENIs. */
  public readonly endpointSubnets: ec2.ISubnet[];
  /** The CIDRs of `endpointSubnets`: where pods send AWS API calls on TCP 443. */
  public readonly endpointCidrs: string[];
  /**
   * The `Scraper` subnets (isolated, /28): the metrics scraper's ENIs. Always set here (optional only
   * because `INetworkTiers` allows networks without scraper subnets).
   *
   * @default - always set by SegmentedVpc
   */
  public readonly scraperSubnets?: ec2.ISubnet[];
  /**
   * The CIDRs of `scraperSubnets`: the only sources admitted to the sidecar metrics ports. Always set here.
   *
   * @default - always set by SegmentedVpc
   */
  public readonly scraperCidrs?: string[];
  /**
   * The one security group of every interface endpoint; always set here (optional only because `INetworkTiers`
   * allows VPCs without endpoints). It has no ingress rule until `allowEndpointAccessFrom` is called.
   *
   * @default - always set by SegmentedVpc
   */
  public readonly endpointSecurityGroup?: ec2.ISecurityGroup;
  /** The same security group, as the concrete construct. */
  private readonly endpointSg: ec2.SecurityGroup;
  /** The interface endpoints, in the order of the `interfaceEndpoints` prop. */
  public readonly interfaceEndpoints: ec2.InterfaceVpcEndpoint[];
  /** The S3 gateway endpoint on the `Nodes` route tables. */
  public readonly s3GatewayEndpoint: ec2.GatewayVpcEndpoint;
  /** The flow log of the VPC (all traffic). */
  public readonly flowLog: ec2.FlowLog;
  /** The encrypted log group that receives the flow logs. */
  public readonly flowLogGroup: logs.LogGroup;
  /** The KMS key that encrypts `flowLogGroup`. */
  public readonly flowLogsEncryptionKey: kms.IKey;

  private readonly subject: string;

  constructor(scope: Construct, id: string, props: SegmentedVpcProps = {}) {
    super(scope, id);
    this.subject = `SegmentedVpc '${id}'`;

    const maxAzs = props.maxAzs ?? 2;
    if (!Number.isInteger(maxAzs) || maxAzs < 2) {
      throw new Error(`${this.subject}: maxAzs must be at least 2 (got ${maxAzs}). Fix: set maxAzs to 2 or more (or leave it unset); `
        + 'EKS needs control-plane subnets in two zones, and one zone is a single point of failure.');
    }
    if (props.natGateways !== undefined && (!Number.isInteger(props.natGateways) || props.natGateways < 1 || props.natGateways > maxAzs)) {
      throw new Error(`${this.subject}: natGateways must be between 1 and maxAzs (${maxAzs}) (got ${props.natGateways}). `
        + 'Fix: leave it unset for one per zone; the Nodes and ControlPlane tiers need egress (the kubectl handler fetches charts).');
    }
    const retention = props.flowLogsRetention ?? logs.RetentionDays.ONE_YEAR;
    if (retention === logs.RetentionDays.INFINITE) {
      throw new Error(`${this.subject}: flowLogsRetention must be finite (got INFINITE). `
        + 'Fix: pick a retention such as logs.RetentionDays.ONE_YEAR, or archive flow logs to S3 yourself.');
    }

    this.concreteVpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: props.ipAddresses ?? ec2.IpAddresses.cidr(DEFAULT_CIDR),
      maxAzs,
      natGateways: props.natGateways,
      subnetConfiguration: TIERS,
      enableDnsSupport: true,
      enableDnsHostnames: true,
      restrictDefaultSecurityGroup: true,
    });
    this.vpc = this.concreteVpc;
    const zones = this.concreteVpc.availabilityZones.length;
    if (zones < 2) {
      throw new Error(`${this.subject}: the stack must offer at least 2 availability zones (got ${zones}). `
        + 'Fix: deploy to a region with two or more zones, or correct the availability-zones context of the stack.');
    }
    if (zones < maxAzs) {
      Annotations.of(this).addWarningV2('cdk-zero-trust-eks:network-fewer-azs', `maxAzs is ${maxAzs} but the stack offers only ${zones} `
        + 'availability zones (an environment-agnostic stack knows two). Set the stack\'s env to spread across more.');
    }

    this.vpcCidr = this.concreteCidr('vpcCidr', (this.concreteVpc.node.defaultChild as ec2.CfnVPC).cidrBlock);
    this.ingressSubnets = this.tier(NetworkTier.INGRESS);
    this.nodeSubnets = this.tier(NetworkTier.NODES);
    this.dataSubnets = this.tier(NetworkTier.DATA);
    this.controlPlaneSubnets = this.tier(NetworkTier.CONTROL_PLANE);
    this.internalLoadBalancerSubnets = this.tier(NetworkTier.INTERNAL_LOAD_BALANCER);
    this.endpointSubnets = this.tier(NetworkTier.ENDPOINTS);
    this.scraperSubnets = this.tier(NetworkTier.SCRAPER);
    this.ingressCidrs = this.cidrsOf('ingressCidrs', this.ingressSubnets);
    this.nodeCidrs = this.cidrsOf('nodeCidrs', this.nodeSubnets);
    this.dataCidrs = this.cidrsOf('dataCidrs', this.dataSubnets);
    this.controlPlaneCidrs = this.cidrsOf('controlPlaneCidrs', this.controlPlaneSubnets);
    this.internalLoadBalancerCidrs = this.cidrsOf('internalLoadBalancerCidrs', this.internalLoadBalancerSubnets);
    this.endpointCidrs = this.cidrsOf('endpointCidrs', this.endpointSubnets);
    this.scraperCidrs = this.cidrsOf('scraperCidrs', this.scraperSubnets);

    // Only on the subnets themselves: a public subnet construct also holds the NAT gateway and its EIP.
    const subnetsOnly = { includeResourceTypes: ['AWS::EC2::Subnet'] };
    this.ingressSubnets.forEach((subnet) => Tags.of(subnet).add('kubernetes.io/role/elb', '1', subnetsOnly));
    this.internalLoadBalancerSubnets.forEach((subnet) => Tags.of(subnet).add('kubernetes.io/role/internal-elb', '1', subnetsOnly));

    this.endpointSg = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.concreteVpc,
      description: 'VPC interface endpoints: HTTPS only from the security groups given to allowEndpointAccessFrom',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup = this.endpointSg;
    this.interfaceEndpoints = this.createInterfaceEndpoints(props.interfaceEndpoints ?? AwsEndpoints.defaultInterfaceServices());
    this.s3GatewayEndpoint = new ec2.GatewayVpcEndpoint(this, 'S3GatewayEndpoint', {
      vpc: this.concreteVpc,
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnetGroupName: NetworkTier.NODES }],
    });

    const logGroupName = `/aws/vpc/flowlogs/${Stack.of(this).stackName}/${Names.uniqueId(this)}`;
    this.flowLogsEncryptionKey = props.flowLogsEncryptionKey ?? new kms.Key(this, 'FlowLogsKey', {
      description: `Encrypts the VPC flow logs in ${logGroupName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.grantLogsServiceUseOfKey(logGroupName);
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      logGroupName,
      encryptionKey: this.flowLogsEncryptionKey,
      retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.flowLog = new ec2.FlowLog(this, 'FlowLog', {
      resourceType: ec2.FlowLogResourceType.fromVpc(this.concreteVpc),
      trafficType: ec2.FlowLogTrafficType.ALL,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
    });
    // The flow-log role (CDK-internal) gets its write permission on this one log group as an inline policy.
    Validations.of(this.flowLog).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: 'The flow-log delivery role created by aws-cdk-lib (CDK-internal) holds only logs:CreateLogStream/PutLogEvents on this log group, inline.',
    });
  }

  /**
   * Admits TCP 443 to every interface endpoint from the security groups of `peer` (nodes, pods, the
   * cluster, a Lambda), and nothing else: never a CIDR. Security groups added to `peer` later are not
   * covered; call this again for them.
   *
   * @param peer what calls AWS APIs through the endpoints; it must have at least one security group
   */
  public allowEndpointAccessFrom(peer: ec2.IConnectable): void {
    const securityGroups = peer.connections.securityGroups;
    if (securityGroups.length === 0) {
      throw new Error(`${this.subject}: allowEndpointAccessFrom needs a peer with a security group (got a peer with none). `
        + 'Fix: pass the node, pod or cluster security group (or a construct that has one); endpoint access is never granted to a CIDR.');
    }
    this.endpointSg.connections.allowFrom(
      new ec2.Connections({ securityGroups }),
      ec2.Port.tcp(443),
      'HTTPS to the VPC interface endpoints',
    );
  }

  private tier(name: NetworkTier): ec2.ISubnet[] {
    return this.concreteVpc.selectSubnets({ subnetGroupName: name }).subnets;
  }

  private cidrsOf(field: string, subnets: ec2.ISubnet[]): string[] {
    return subnets.map((subnet) => this.concreteCidr(field, subnet.ipv4CidrBlock));
  }

  private concreteCidr(field: string, cidr: string | undefined): string {
    if (cidr === undefined || !isConcreteIpv4Cidr(cidr)) {
      throw new Error(`${this.subject}: ${field} must be concrete at synth (got ${cidr === undefined ? 'none' : `'${cidr}'`}). `
        + `Fix: use ipAddresses: ec2.IpAddresses.cidr('${DEFAULT_CIDR}') (IPAM allocates at deploy time); `
        + 'NetworkPolicy ipBlocks are rendered from these CIDRs.');
    }
    return cidr;
  }

  private createInterfaceEndpoints(services: ec2.InterfaceVpcEndpointAwsService[]): ec2.InterfaceVpcEndpoint[] {
    const seen = new Set<string>();
    return services.map((service) => {
      if (seen.has(service.shortName)) {
        throw new Error(`${this.subject}: interfaceEndpoints lists '${service.shortName}' twice (got ${services.length} entries). `
          + 'Fix: list each service once.');
      }
      seen.add(service.shortName);
      const id = service.shortName.split(/[^A-Za-z0-9]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
      return new ec2.InterfaceVpcEndpoint(this, `${id}Endpoint`, {
        vpc: this.concreteVpc,
        service,
        subnets: { subnetGroupName: NetworkTier.ENDPOINTS },
        securityGroups: [this.endpointSg],
        open: false,
        privateDnsEnabled: true,
        // S3 is the one service with both endpoint kinds. Without this, AWS answers in-VPC S3 names with the
        // public ranges of the gateway endpoint, which a NetworkPolicy ipBlock on the endpoint subnets cannot match.
        privateDnsOnlyForInboundResolverEndpoint: service.shortName === 's3'
          ? ec2.VpcEndpointPrivateDnsOnlyForInboundResolverEndpoint.ALL_RESOLVERS : undefined,
      });
    });
  }

  private grantLogsServiceUseOfKey(logGroupName: string): void {
    const logGroupArn = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroupName}`;
    const statement = new iam.PolicyStatement({
      // Unique per SegmentedVpc: several may share one key, and a policy's statement ids must be unique.
      sid: `AllowLogsForVpcFlowLogsOf${Names.uniqueId(this)}`,
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroupArn } },
    });
    if (!this.flowLogsEncryptionKey.addToResourcePolicy(statement, true).statementAdded) {
      Annotations.of(this).addWarningV2('cdk-zero-trust-eks:network-flow-logs-key-policy', 'flowLogsEncryptionKey is imported, so its '
        + 'key policy cannot be changed here: let logs.<region>.amazonaws.com use it (kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, '
        + `kms:GenerateDataKey*, kms:Describe*) with ArnLike kms:EncryptionContext:aws:logs:arn = arn:<partition>:logs:<region>:<account>:log-group:${logGroupName}`
        + ', or the log group fails to create.');
    }
  }
}
