import { Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { MeshAccessLogging } from './mesh-access-logging';
import { declaredWorkloads, verifyDeclaration } from '../analysis/declared-access';
import { Workload } from '../analysis/workload';
import { ExternalEndpoint, ExternalEndpointOptions } from '../model/external-endpoint';
import { Microservice, MicroserviceOptions } from '../model/microservice';
import { MeshPlatformProps } from '../model/platform';
import { PlatformNetworkProps } from '../model/platform-network';
import { validatePlatformNetwork } from '../model/platform-network-validation';
import { PolicyModel } from '../model/policy-model';
import { resolvePlatform } from '../model/resolved-platform';
import { ResolvedNamespaceResources, resolveNamespaceResources } from './render/namespace-resources';
import { renderPolicies } from './render/policy-renderer';
import { podSecurityVersion } from './render/workload-objects';
import { SelfCheck } from './self-check';

/**
 * What a LimitRange gives every container of a service namespace that sets no resources of its
 * own (controls.md K8S-08). Containers injected by mutating webhooks (the Istio sidecar) are added
 * after the LimitRange defaults apply, so they carry their own (Istio's proxy resources).
 */
export interface ContainerResourceDefaults {
  /**
   * The default CPU request (`defaultRequest.cpu`).
   * @default '100m'
   */
  readonly cpuRequest?: string;
  /**
   * The default memory request (`defaultRequest.memory`).
   * @default '128Mi'
   */
  readonly memoryRequest?: string;
  /**
   * The default memory limit (`default.memory`): a container past it is OOM-killed instead of
   * starving its node.
   * @default '512Mi'
   */
  readonly memoryLimit?: string;
  /**
   * The default CPU limit (`default.cpu`). Required when the quota limits `limits.cpu`.
   * @default - none: CPU limits throttle; requests are what the scheduler and the quota count
   */
  readonly cpuLimit?: string;
}

/**
 * The ResourceQuota and LimitRange every service namespace gets (controls.md K8S-08), so that one
 * tenant cannot take the shared nodes and pods without resources get requests and a memory limit.
 */
export interface NamespaceResourceOptions {
  /**
   * Entries of the ResourceQuota's `spec.hard`, merged over the defaults (a key given here replaces
   * its default; other keys are added). Values are Kubernetes quantities; object counts (`pods`,
   * `count/...`, `services.*`) are whole numbers. `services.loadbalancers` and `services.nodeports`
   * must stay '0': only the ingress gateway's namespace exposes Services outside the cluster.
   * @default { 'requests.cpu': '16', 'requests.memory': '32Gi', 'limits.memory': '96Gi', pods: '50', 'services.loadbalancers': '0', 'services.nodeports': '0' }
   */
  readonly quota?: { [resource: string]: string };
  /**
   * What the LimitRange gives containers that set no resources.
   * @default - 100m CPU and 128Mi memory requested, 512Mi memory limit, no CPU limit
   */
  readonly containerDefaults?: ContainerResourceDefaults;
  /**
   * Emit no ResourceQuota and no LimitRange: a named opt-out (e.g. another tool manages quotas).
   * The reason is recorded on every service Namespace as the annotation
   * `zero-trust.cdk.io/namespace-resources-opt-out`. Cannot be combined with `quota` or `containerDefaults`.
   * @default - every service namespace gets the ResourceQuota and LimitRange
   */
  readonly optOutReason?: string;
}

/** Props of a `ZeroTrustPolicyChart`. */
export interface ZeroTrustPolicyChartProps extends ChartProps {
  /**
   * The mesh's trust domain: principals are `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`.
   * @default 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The cluster's DNS domain, used in the Sidecar egress hosts.
   * @default 'cluster.local'
   */
  readonly clusterDomain?: string;
  /**
   * The platform workloads (mesh root, istiod, ingress gateway, DNS, quarantine label).
   * @default - the defaults of design.md section 2
   */
  readonly platform?: MeshPlatformProps;
  /**
   * Where platform traffic comes from (control-plane, load-balancer and scraper subnets). When
   * given, the mesh root and ingress gateway namespaces get default-deny NetworkPolicies with
   * exactly what the platform needs (design.md section 7).
   * @default - no NetworkPolicies in platform namespaces
   */
  readonly platformNetwork?: PlatformNetworkProps;
  /**
   * What to do when the synthesized policies do not allow exactly what was declared (a declared
   * flow blocked, an undeclared flow open at either layer, or DNS/istiod blocked).
   * @default SelfCheck.FAIL
   */
  readonly selfCheck?: SelfCheck;
  /**
   * Mesh-wide Envoy access logs (an Istio `Telemetry` in the mesh root namespace), so that every
   * request, allowed or denied, leaves a log line naming the deciding policy (controls.md OBS-05).
   * @default MeshAccessLogging.ALL_REQUESTS
   */
  readonly accessLogging?: MeshAccessLogging;
  /**
   * The Kubernetes version of the cluster the chart is applied to, e.g. '1.35': service namespaces
   * then pin Pod Security `enforce-version` to `v1.35`, so a control-plane upgrade never changes
   * what is enforced unannounced (controls.md K8S-01). `ZeroTrustCluster` passes its own version.
   * @default 'latest' - the Pod Security Standards of whatever version the API server runs
   */
  readonly kubernetesVersion?: string;
  /**
   * The ResourceQuota and LimitRange of every service namespace (controls.md K8S-08).
   * @default - the defaults of `NamespaceResourceOptions`
   */
  readonly namespaceResources?: NamespaceResourceOptions;
}

/**
 * A cdk8s chart that makes every declared microservice zero-trust: STRICT mTLS, allow-nothing
 * authorization with an ALLOW per service by SPIFFE principal, default-deny NetworkPolicies
 * with exactly the declared flows, namespace-scoped Sidecars, and pre-wired quarantine.
 * It needs no AWS: synthesize it to YAML for any conformant cluster with Istio.
 */
export class ZeroTrustPolicyChart extends Chart {
  /** The namespace a service gets when its options name none. */
  public readonly defaultNamespace: string;
  /** Warnings about the declaration (e.g. a Service port that differs from its target port). */
  public readonly warnings: string[] = [];
  /** The differences the last self-check found (empty when the output is exact). */
  public selfCheckFindings: string[] = [];
  private readonly model: PolicyModel;
  private readonly selfCheck: SelfCheck;
  private readonly platformNetwork?: PlatformNetworkProps;
  private readonly accessLogging: MeshAccessLogging;
  private readonly podSecurityVersion: string;
  private readonly namespaceResources: ResolvedNamespaceResources;

  constructor(scope: Construct, id: string, props: ZeroTrustPolicyChartProps = {}) {
    // Every rendered object names its namespace itself; the chart's namespace is only the default of addService.
    super(scope, id, { ...props, namespace: undefined });
    this.defaultNamespace = props.namespace ?? id;
    this.selfCheck = props.selfCheck ?? SelfCheck.FAIL;
    if (props.platformNetwork) {
      validatePlatformNetwork(`ZeroTrustPolicyChart '${id}'`, props.platformNetwork);
    }
    this.platformNetwork = props.platformNetwork;
    this.accessLogging = props.accessLogging ?? MeshAccessLogging.ALL_REQUESTS;
    this.podSecurityVersion = podSecurityVersion(`ZeroTrustPolicyChart '${id}'`, 'kubernetesVersion', props.kubernetesVersion);
    this.namespaceResources = resolveNamespaceResources(`ZeroTrustPolicyChart '${id}'`, props.namespaceResources);
    this.model = new PolicyModel({
      owner: `ZeroTrustPolicyChart '${id}'`,
      trustDomain: props.trustDomain ?? 'cluster.local',
      clusterDomain: props.clusterDomain ?? 'cluster.local',
      defaultNamespace: this.defaultNamespace,
      platform: resolvePlatform(props.platform),
    });
  }

  /** Declares a microservice. Every check runs now, so a bad declaration fails before anything is emitted. */
  public addService(name: string, options: MicroserviceOptions = {}): Microservice {
    const service = this.model.addService(this, name, options);
    for (const port of service.ports.filter(p => p.port !== p.targetPort)) {
      this.warnings.push(`service '${name}': port ${port.port} differs from targetPort ${port.targetPort}; VPC CNI applies NetworkPolicies to ClusterIP traffic of pods outside the mesh only when they are equal (design.md 3.5)`);
    }
    return service;
  }

  /**
   * The declared workloads as the analyzer sees them: one per service, plus the platform's
   * ingress gateway, cluster DNS and istiod.
   */
  public get workloads(): Workload[] {
    return declaredWorkloads(this.model);
  }

  /**
   * What an analysis of this chart needs to know.
   * @internal
   */
  public _analysisContext() {
    const p = this.model.platform;
    return {
      workloads: this.workloads,
      rootNamespace: p.rootNamespace,
      trustDomain: this.model.trustDomain,
      quarantineLabel: p.quarantineLabel,
      gatewayLabels: p.gatewayLabels,
    };
  }

  /**
   * Declares an endpoint outside the mesh (e.g. AWS APIs behind VPC endpoints); services open it
   * with `allowEgressTo`.
   */
  public addExternalEndpoint(name: string, options: ExternalEndpointOptions): ExternalEndpoint {
    return this.model.addExternalEndpoint(name, options);
  }

  /** The declared services, in declaration order. */
  public get services(): Microservice[] {
    return this.model.services;
  }

  /**
   * Renders the policies from the current declaration, synthesizes the chart, then proves with
   * the effective-access analyzer that the objects allow exactly what was declared.
   */
  public toJson(): any[] {
    this.node.tryRemoveChild('Policies');
    renderPolicies(new Construct(this, 'Policies'), this.model, {
      platformNetwork: this.platformNetwork,
      accessLogging: this.accessLogging,
      podSecurityVersion: this.podSecurityVersion,
      namespaceResources: this.namespaceResources,
    });
    const objects = super.toJson();
    this.selfCheckFindings = verifyDeclaration(this.model, objects, { scraperCidrs: this.platformNetwork?.scraperCidrs ?? [] });
    if (this.selfCheckFindings.length > 0) {
      const message = `${this.model.owner}: the synthesized policies do not match the declaration:\n  ${this.selfCheckFindings.join('\n  ')}`;
      if (this.selfCheck === SelfCheck.FAIL) {
        throw new Error(`${message}\nFix: report this as a bug of cdk-zero-trust-eks, or set selfCheck: SelfCheck.WARN to synthesize anyway while investigating.`);
      }
      process.stderr.write(`warning: ${message}\n`);
    }
    return objects;
  }
}
