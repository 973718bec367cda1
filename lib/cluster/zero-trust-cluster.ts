import { Annotations, Aspects, CfnCondition, CfnElement, CfnJson, CfnOutput, IAspect, Names, NestedStack, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { App as Cdk8sApp } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { acknowledge, ecrPublicPolicyId, MANAGED_POLICY_IDS } from './compliance-acknowledgements';
import { GuardrailsInstallation } from './guardrails-installation';
import { guardrailsProps, rbacManifestObjects } from './guardrails-wiring';
import { groupManifests, ManifestObject, manifestBytes, stableBucket } from './manifest-groups';
import { NodeAmi, nodeLaunchTemplate } from './node-group';
import { checkPublicEndpoint } from './public-endpoint';
import { ZeroTrustClusterProps } from './zero-trust-cluster-props';
import { ZeroTrustChecks } from '../checks/zero-trust-checks';
import { ZeroTrustKeys } from '../encryption/zero-trust-keys';
import { AccessGrantOptions, NamespaceAccessGrant } from '../identity/access-grant';
import { AwsApi } from '../identity/aws-api';
import { BreakGlassAccess } from '../identity/break-glass';
import { ClusterService, ClusterServiceOptions } from '../identity/cluster-service';
import { IstioMesh } from '../mesh/istio-mesh';
import { ExternalEndpoint, ExternalEndpointProtocol } from '../model/external-endpoint';
import { INetworkTiers } from '../network/network-tiers';
import { SegmentedVpc } from '../network/segmented-vpc';
import { ZeroTrustPolicyChart } from '../policy/zero-trust-policy-chart';

const SERVICE_CIDR = '172.20.0.0/16';
/** Policy manifest bytes above which manifests go to nested stacks (the parent keeps room for the platform). */
const NESTED_POLICY_THRESHOLD_BYTES = 500_000;
/** Nested stacks available to policy manifests: 16 x 1 MB. */
const NESTED_POLICY_STACKS = 16;
/** The wildcard resources of the AWS Load Balancer Controller's published IAM policy. */
const ALB_CONTROLLER_WILDCARDS = [
  '*',
  'arn:<AWS::Partition>:ec2:*:*:security-group/*',
  'arn:<AWS::Partition>:elasticloadbalancing:*:*:targetgroup/*/*',
  'arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/net/*/*',
  'arn:<AWS::Partition>:elasticloadbalancing:*:*:loadbalancer/app/*/*',
  'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/net/*/*/*',
  'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener/app/*/*/*',
  'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/net/*/*/*',
  'arn:<AWS::Partition>:elasticloadbalancing:*:*:listener-rule/app/*/*/*',
];
const KUBERNETES_SERVICE_IP = '172.20.0.1/32';
/**
 * The EKS Pod Identity Agent, as an endpoint of the services that use it: a host-network pod on
 * every node listening on the link-local 169.254.170.23 (IPv4; the cluster is IPv4-only), where the
 * SDKs fetch credentials over plain HTTP (AWS_CONTAINER_CREDENTIALS_FULL_URI). It has no DNS name:
 * the host only names the ServiceEntry (`.internal` is reserved for private use, so it never
 * collides with a real name), and the sidecar matches the traffic by destination address.
 */
const POD_IDENTITY_AGENT = { name: 'eks-pod-identity-agent', host: 'eks-pod-identity-agent.internal', cidr: '169.254.170.23/32', port: 80 } as const;

/**
 * A zero-trust EKS cluster (aws-eks-v2): private API endpoint, access entries only with no
 * creator admin, secrets envelope-encrypted with a customer-managed key, all control-plane logs
 * in a stack-owned encrypted group, IMDSv2 with hop limit 1 on encrypted nodes in private
 * subnets, VPC CNI with NetworkPolicy enforcement on, Istio from pinned charts, and one policy
 * model whose Kubernetes objects are applied after Istio's CRDs and webhook exist.
 */
export class ZeroTrustCluster extends Construct {
  /** The EKS cluster. */
  public readonly cluster: eks.Cluster;
  /** The network tiers. */
  public readonly network: INetworkTiers;
  /** The keys. */
  public readonly keys: ZeroTrustKeys;
  /** The mesh. */
  public readonly mesh: IstioMesh;
  /** The Kubernetes policy chart every service is declared in. */
  public readonly policies: ZeroTrustPolicyChart;
  /** The control-plane log group. */
  public readonly controlPlaneLogs: logs.LogGroup;
  /** The cluster's name. */
  public readonly clusterName: string;
  /** The admission guardrails (undefined when `admissionGuardrails` is false). */
  public readonly guardrails?: GuardrailsInstallation;
  /** The break-glass role and its cluster-admin access entry. */
  public readonly breakGlass: BreakGlassAccess;
  private readonly services: ClusterService[] = [];
  private readonly grants: NamespaceAccessGrant[] = [];
  private readonly grantedPrincipals = new Map<string, string>();
  private readonly endpoints = new Map<AwsApi, ExternalEndpoint>();
  private readonly nodes: eks.Nodegroup;
  private readonly podIdentityAgentVersion?: string;
  private _podIdentityAgent?: eks.Addon;
  private rendered = false;

  constructor(scope: Construct, id: string, props: ZeroTrustClusterProps) {
    super(scope, id);
    this.clusterName = props.clusterName ?? Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    this.podIdentityAgentVersion = props.podIdentityAgentVersion;
    this.keys = props.keys ?? new ZeroTrustKeys(this, 'Keys');
    this.network = props.network ?? new SegmentedVpc(this, 'Network', { flowLogsEncryptionKey: this.keys.logsKey });
    if (props.publicEndpoint) {
      checkPublicEndpoint(this.node.path, props.publicEndpoint);
    }

    // The stack owns the control-plane log group, encrypted and with retention; else EKS creates an unencrypted one that never expires.
    this.controlPlaneLogs = new logs.LogGroup(this, 'ControlPlaneLogs', {
      logGroupName: `/aws/eks/${this.clusterName}/cluster`,
      encryptionKey: this.keys.logsKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    });

    this.cluster = new eks.Cluster(this, 'Cluster', {
      clusterName: this.clusterName,
      version: props.version,
      vpc: this.network.vpc,
      vpcSubnets: [{ subnets: this.network.controlPlaneSubnets }],
      endpointAccess: props.publicEndpoint
        ? eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...props.publicEndpoint.allowedCidrs)
        : eks.EndpointAccess.PRIVATE,
      bootstrapClusterCreatorAdminPermissions: false,
      secretsEncryptionKey: this.keys.secretsKey,
      clusterLogging: [
        eks.ClusterLoggingTypes.API, eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUTHENTICATOR,
        eks.ClusterLoggingTypes.CONTROLLER_MANAGER, eks.ClusterLoggingTypes.SCHEDULER,
      ],
      serviceIpv4Cidr: SERVICE_CIDR,
      defaultCapacity: 0,
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      kubectlProviderOptions: { kubectlLayer: props.kubectlLayer },
      albController: { version: eks.AlbControllerVersion.V2_17_1 },
    });
    this.cluster.node.defaultChild!.node.addDependency(this.controlPlaneLogs);
    if (props.publicEndpoint) {
      // The named opt-out, where ZeroTrustChecks ZT-EKS-1 reads it; the CIDRs were checked above.
      const cidrs = props.publicEndpoint.allowedCidrs.join(', ');
      ZeroTrustChecks.allowPublicEndpoint(this.cluster,
        props.publicEndpoint.reason ?? `ZeroTrustCluster publicEndpoint: the API endpoint is public, reachable only from ${cidrs}`);
      Annotations.of(this).addWarningV2('cdk-zero-trust-eks:public-endpoint',
        `publicEndpoint is set: the EKS API endpoint is reachable from the internet, from ${cidrs} only (controls.md EKS-02).`);
    }
    if (props.adminRole) {
      this.cluster.grantClusterAdmin('AdminAccess', props.adminRole.roleArn);
    }
    // Access entries reference namespaces of declared services: checked once every service is declared.
    this.node.addValidation({ validate: () => this.unknownGrantNamespaces() });

    // Interface endpoints admit 443 from the cluster security group (nodes, pods, kubectl handler), never from a CIDR.
    if (this.network instanceof SegmentedVpc) {
      this.network.allowEndpointAccessFrom(this.cluster);
    } else if (this.network.endpointSecurityGroup) {
      this.network.endpointSecurityGroup.connections.allowFrom(this.cluster, ec2.Port.tcp(443), 'from the EKS cluster security group');
    }

    // Nodes get only the worker and image-pull policies; the VPC CNI's permissions go to its own
    // IRSA role instead of every node (controls.md EKS-09).
    const nodeRole = new iam.Role(this, 'NodeRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: ['AmazonEKSWorkerNodePolicy', 'AmazonEC2ContainerRegistryPullOnly'].map(n => iam.ManagedPolicy.fromAwsManagedPolicyName(n)),
    });
    const ami = props.nodeGroup?.ami ?? NodeAmi.AL2023_X86_64;
    const template = nodeLaunchTemplate(this, 'NodeLaunchTemplate', ami, this.keys.ebsKey, props.nodeGroup?.diskSizeGiB ?? 50);
    const nodes = this.nodes = this.cluster.addNodegroupCapacity('Nodes', {
      amiType: ami.amiType,
      instanceTypes: props.nodeGroup?.instanceTypes ?? [new ec2.InstanceType('m6i.large')],
      launchTemplateSpec: { id: template.launchTemplateId!, version: template.latestVersionNumber },
      nodeRole,
      subnets: { subnets: this.network.nodeSubnets },
      minSize: props.nodeGroup?.minSize ?? 2,
      maxSize: props.nodeGroup?.maxSize ?? 4,
      desiredSize: props.nodeGroup?.desiredSize ?? 2,
    });

    // NetworkPolicies do nothing on EKS unless the VPC CNI enforces them (controls.md EKS-07).
    const cni = new eks.Addon(this, 'VpcCni', {
      cluster: this.cluster,
      addonName: 'vpc-cni',
      configurationValues: { enableNetworkPolicy: 'true', nodeAgent: { enablePolicyEventLogs: 'true' } },
    });
    const cniRole = this.irsaRole('VpcCniRole', 'kube-system', 'aws-node', [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKS_CNI_Policy')]);
    (cni.node.defaultChild as eks.CfnAddon).addPropertyOverride('ServiceAccountRoleArn', cniRole.roleArn);

    // Pod Security enforce-version is pinned to the cluster's minor version (controls.md K8S-01).
    const kubernetesVersion = Token.isUnresolved(props.version.version) ? undefined : props.version.version;
    this.mesh = new IstioMesh(this, 'Istio', {
      cluster: this.cluster,
      version: props.istioVersion,
      rootNamespace: props.platform?.rootNamespace,
      gatewayNamespace: props.platform?.ingressGateway?.namespace,
      loadBalancerSubnetIds: this.network.internalLoadBalancerSubnets.map(s => s.subnetId),
      kubernetesVersion,
    });
    // Helm waits for the charts' pods, so the nodes must exist first; the gateway's LoadBalancer Service
    // needs the AWS Load Balancer Controller (and its webhook) running.
    this.mesh.node.addDependency(nodes);
    if (this.cluster.albController) {
      this.mesh.gateway.node.addDependency(this.cluster.albController);
    }

    this.policies = new ZeroTrustPolicyChart(new Cdk8sApp(), 'policies', {
      namespace: props.defaultNamespace ?? 'apps',
      platform: props.platform,
      kubernetesVersion,
      namespaceResources: props.namespaceResources,
      platformNetwork: {
        controlPlaneCidrs: this.network.controlPlaneCidrs,
        loadBalancerCidrs: this.network.internalLoadBalancerCidrs,
        apiServerServiceCidr: KUBERNETES_SERVICE_IP,
      },
    });

    this.breakGlass = new BreakGlassAccess(this, 'BreakGlass', { ...props.breakGlass, cluster: this.cluster });
    if (props.admissionGuardrails ?? true) {
      this.guardrails = new GuardrailsInstallation(this, 'Guardrails', {
        cluster: this.cluster,
        guardrails: guardrailsProps(this.cluster, this.breakGlass.usernamePrefix, props.platform, props.guardrails),
        gatekeeperVersion: props.guardrails?.gatekeeperVersion ?? '3.22.2',
        gatekeeperReplicas: checkReplicas(this.node.path, props.guardrails?.gatekeeperReplicas ?? 3),
        controlPlaneCidrs: this.network.controlPlaneCidrs,
        apiServerServiceCidr: KUBERNETES_SERVICE_IP,
        kubernetesVersion,
      });
      // Gatekeeper's webhook fails closed: install it once the nodes, the network-policy engine and the whole mesh are up,
      // so no earlier chart is refused by a webhook that is not yet answering.
      this.guardrails.gatekeeper.node.addDependency(nodes, cni, this.mesh);
    } else {
      Annotations.of(this).addWarningV2('cdk-zero-trust-eks:guardrails-disabled',
        'admissionGuardrails is false: nothing refuses objects that weaken the zero-trust policies (no Gatekeeper, no admission policies).');
    }
    new CfnOutput(this, 'AdmissionGuardrails', {
      description: 'Whether the zero-trust admission guardrails are installed',
      value: this.guardrails ? `enabled (OPA Gatekeeper ${props.guardrails?.gatekeeperVersion ?? '3.22.2'}, webhook failurePolicy Fail)` : 'disabled',
    });

    // Policies are rendered once every service and grant is declared: at synthesis.
    Aspects.of(this).add(new RenderPolicies(this));
    this.acknowledgeInternalFindings(nodeRole, cniRole);
  }

  /** An IRSA role that only `namespace/serviceAccount` can assume. */
  private irsaRole(id: string, namespace: string, serviceAccount: string, managedPolicies: iam.IManagedPolicy[]): iam.Role {
    const provider = this.cluster.openIdConnectProvider;
    const issuer = provider.openIdConnectProviderIssuer;
    const conditions = new CfnJson(this, `${id}Conditions`, {
      value: { [`${issuer}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`, [`${issuer}:aud`]: 'sts.amazonaws.com' },
    });
    const assumedBy = new iam.WebIdentityPrincipal(provider.openIdConnectProviderArn, { StringEquals: conditions });
    return new iam.Role(this, id, { assumedBy, managedPolicies });
  }

  /**
   * Findings of cdk-nag and cfn-guard on resources aws-cdk-lib creates for this cluster, each
   * with its reason (they change nothing unless those plugins run).
   */
  private acknowledgeInternalFindings(nodeRole: iam.Role, cniRole: iam.Role): void {
    const stack = Stack.of(this);
    const kubectl = this.cluster.node.tryFindChild('KubectlProvider');
    const handler = kubectl?.node.tryFindChild('Handler');
    const framework = kubectl?.node.tryFindChild('Provider');
    const condition = handler?.node.tryFindChild('HasEcrPublic') as CfnCondition | undefined;
    const handlerFunction = handler?.node.defaultChild as CfnElement | undefined;
    const internal = [kubectl, this.cluster.albController].filter((x): x is IConstruct => x !== undefined);
    acknowledge(
      { scope: this.cluster.role, ids: [...MANAGED_POLICY_IDS.cluster], reason: 'The EKS service role needs AmazonEKSClusterPolicy, the AWS-maintained minimum for the control plane.' },
      { scope: nodeRole, ids: [...MANAGED_POLICY_IDS.nodes], reason: 'Nodes carry only AmazonEKSWorkerNodePolicy and AmazonEC2ContainerRegistryPullOnly, the documented minimum (controls.md EKS-09).' },
      { scope: cniRole, ids: [...MANAGED_POLICY_IDS.vpcCni], reason: 'The VPC CNI needs AmazonEKS_CNI_Policy; it is on an IRSA role only aws-node can assume, not on the nodes.' },
      ...(kubectl ? [{
        scope: kubectl,
        ids: [
          ...MANAGED_POLICY_IDS.lambda, ...MANAGED_POLICY_IDS.kubectlHandler,
          ...(condition ? [ecrPublicPolicyId(stack.resolve(stack.getLogicalId(condition)) as string)] : []),
        ],
        reason: 'aws-cdk-lib kubectl provider (CDK-internal): its Lambda roles use the AWS-managed Lambda execution and ECR read-only policies.',
      }] : []),
      ...(handler ? [{ scope: handler, ids: ['AwsSolutions-L1'], reason: 'The kubectl handler runtime is chosen by aws-cdk-lib (CDK-internal) to match its kubectl layer.' }] : []),
      ...(framework ? [{
        scope: framework,
        ids: handlerFunction ? [`AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(handlerFunction))}.Arn>:*]`] : [],
        reason: 'CDK custom-resource provider framework (CDK-internal): it invokes the kubectl handler, including its versions (Arn:*).',
      }] : []),
      ...internal.map(scope => ({
        scope,
        ids: ['NIST.800.53.R5-IAMNoInlinePolicy', 'NIST.800.53.R5-LambdaConcurrency', 'NIST.800.53.R5-LambdaDLQ'],
        reason: 'CDK-internal kubectl provider and AWS Load Balancer Controller: roles get inline policies from aws-cdk-lib; CloudFormation invokes the provider synchronously, so reserved concurrency and a DLQ do not apply.',
      })),
      ...(this.cluster.albController ? [{
        scope: this.cluster.albController,
        ids: ALB_CONTROLLER_WILDCARDS.map(r => `AwsSolutions-IAM5[Resource::${r}]`),
        reason: 'The AWS Load Balancer Controller policy is the one AWS publishes for it (CDK-internal AlbController); it must manage load balancers and security groups it creates.',
      }] : []),
    );
  }

  /**
   * Declares a service: its policies in the cluster's chart, and an IAM role only its service
   * account can assume. The returned service is an `iam.IGrantable`.
   */
  public addService(name: string, options: ClusterServiceOptions = {}): ClusterService {
    const microservice = this.policies.addService(name, options);
    const service = new ClusterService(this, `Service-${name}`, { ...options, cluster: this.cluster, microservice });
    this.services.push(service);
    return service;
  }

  /**
   * Gives an IAM role (or user) access to namespaces through an EKS access entry scoped to them:
   * `AccessLevel.VIEW` (AWS's view policy) or `AccessLevel.EDIT` (also the library's editor Role,
   * which cannot touch NetworkPolicies, Istio security kinds or RBAC, exec, attach or
   * port-forward, and Secrets only with `secrets: true`). One grant per principal.
   */
  public grantAccess(id: string, principalArn: string, options: AccessGrantOptions): NamespaceAccessGrant {
    const grant = new NamespaceAccessGrant(this, `Access-${id}`, { ...options, cluster: this.cluster, principalArn });
    const key = Stack.of(this).resolve(principalArn);
    const earlier = this.grantedPrincipals.get(JSON.stringify(key));
    if (earlier !== undefined) {
      throw new Error(`ZeroTrustCluster.grantAccess '${grant.node.path}': principal ${JSON.stringify(key)} already has access through grant '${earlier}' `
        + '(EKS allows one access entry per principal). Fix: grant it once, with every namespace it needs.');
    }
    this.grantedPrincipals.set(JSON.stringify(key), id);
    this.grants.push(grant);
    return grant;
  }

  private unknownGrantNamespaces(): string[] {
    const known = new Set(this.services.map(s => s.namespace));
    return this.grants.flatMap(g => g.namespaces.filter(ns => !known.has(ns)).map(ns =>
      `ZeroTrustCluster.grantAccess '${g.node.path}': namespaces contains "${ns}", which no service of this cluster is in `
      + `(known: ${[...known].sort().join(', ') || 'none'}). Fix: declare a service there with addService, or grant a namespace the cluster manages.`));
  }

  /**
   * Renders the policy chart into manifest resources, one per namespace, applied after istiod.
   * Called once, at synthesis.
   * @internal
   */
  public _render(): void {
    if (this.rendered) {
      return;
    }
    this.rendered = true;
    for (const service of this.services) {
      service._checkIdentityNotShared();
    }
    for (const service of this.services) {
      for (const api of service.awsApis()) {
        service.microservice.allowEgressTo(this.endpointFor(api));
      }
    }
    // Pod Identity: the agent add-on, and egress to it for exactly the services whose association exists.
    const podIdentityServices = this.services.filter(s => s.usesPodIdentityAgent);
    if (podIdentityServices.length > 0) {
      this.installPodIdentityAgent();
      const agent = this.policies.addExternalEndpoint(POD_IDENTITY_AGENT.name, {
        hosts: [POD_IDENTITY_AGENT.host],
        cidrs: [POD_IDENTITY_AGENT.cidr],
        port: POD_IDENTITY_AGENT.port,
        protocol: ExternalEndpointProtocol.TCP,
      });
      for (const service of podIdentityServices) {
        service.microservice.allowEgressTo(agent);
      }
    }
    const policyManifests: eks.KubernetesManifest[] = [];
    const objects = this.policies.toJson() as ManifestObject[];
    const groups = groupManifests(objects);
    // Past a budget, the manifests move into nested stacks (a namespace's stack is fixed by a hash of
    // its name), so the cluster's template stays under CloudFormation's 1,000,000 bytes.
    const nested = manifestBytes([...groups.values()].flat()) > NESTED_POLICY_THRESHOLD_BYTES;
    for (const [key, group] of groups) {
      const scope = nested ? this.policyStack(key) : this;
      const manifest = new eks.KubernetesManifest(scope, `Policies-${key}`, {
        cluster: this.cluster,
        manifest: group as Record<string, unknown>[],
        overwrite: true,
        // A removed or re-keyed manifest resource must never run `kubectl delete` on objects another
        // resource now owns (a default-deny gone): retain it. Objects dropped from a live resource are
        // still pruned by its prune label.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      manifest.node.addDependency(this.mesh.policyDependency);
      // The library's own objects are applied through the live constraints: a weaker object would fail the deployment.
      if (this.guardrails) manifest.node.addDependency(this.guardrails.constraints);
      policyManifests.push(manifest);
    }
    const rbac = rbacManifestObjects(this.grants, this.services);
    if (rbac.length > 0) {
      const manifest = new eks.KubernetesManifest(this, 'AccessRbac', { cluster: this.cluster, manifest: rbac, overwrite: true });
      manifest.node.addDependency(...policyManifests);
      policyManifests.push(manifest);
    }
    // The admission policies come last, once the deployer has created what they protect.
    if (this.guardrails) this.guardrails.admissionPolicies.node.addDependency(...policyManifests);
    for (const warning of this.policies.warnings) {
      Annotations.of(this).addWarningV2('cdk-zero-trust-eks:policy-warning', warning);
    }
  }

  /**
   * The `eks-pod-identity-agent` add-on (undefined until synthesis, and unless a service uses
   * `WorkloadIdentity.POD_IDENTITY` with a role).
   */
  public get podIdentityAgent(): eks.Addon | undefined {
    return this._podIdentityAgent;
  }

  /**
   * The EKS Pod Identity Agent: a DaemonSet (host network, in kube-system) that exchanges a pod's
   * service account token for its role's credentials through EKS Auth (the nodes' worker policy
   * allows `eks-auth:AssumeRoleForPodIdentity`; private subnets need the `eks-auth` endpoint).
   * Installed once the nodes exist, like the rest of the data plane.
   */
  private installPodIdentityAgent(): void {
    if (this._podIdentityAgent) {
      return;
    }
    this._podIdentityAgent = new eks.Addon(this, 'PodIdentityAgent', {
      cluster: this.cluster,
      addonName: POD_IDENTITY_AGENT.name,
      ...(this.podIdentityAgentVersion !== undefined ? { addonVersion: this.podIdentityAgentVersion } : {}),
    });
    this._podIdentityAgent.node.addDependency(this.nodes);
  }

  /** The nested stack of a manifest group: one of 16, by a stable hash of the group's namespace. */
  private policyStack(key: string): NestedStack {
    const id = `PolicyStack${stableBucket(key.replace(/-\d+-\d+$/, ''), NESTED_POLICY_STACKS)}`;
    return (this.node.tryFindChild(id) as NestedStack | undefined) ?? new NestedStack(this, id, { description: 'cdk-zero-trust-eks policy manifests' });
  }

  private endpointFor(api: AwsApi): ExternalEndpoint {
    let endpoint = this.endpoints.get(api);
    if (!endpoint) {
      endpoint = this.policies.addExternalEndpoint(`aws-${api.name}`, { hosts: api.hosts, cidrs: this.network.endpointCidrs });
      this.endpoints.set(api, endpoint);
    }
    return endpoint;
  }
}

class RenderPolicies implements IAspect {
  constructor(private readonly owner: ZeroTrustCluster) {}
  public visit(node: IConstruct): void {
    if (node === this.owner) {
      this.owner._render();
    }
  }
}

function checkReplicas(path: string, replicas: number): number {
  if (!Number.isInteger(replicas) || replicas < 2) {
    throw new Error(`ZeroTrustCluster '${path}': guardrails.gatekeeperReplicas is ${replicas}, but a fail-closed webhook with one replica blocks `
      + 'every matched request while it restarts. Fix: use 2 or more (default 3).');
  }
  return replicas;
}
