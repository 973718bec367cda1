import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ClusterGuardrailsOptions } from './guardrails-installation';
import { NodeGroupOptions } from './node-group';
import { ZeroTrustKeys } from '../encryption/zero-trust-keys';
import { BreakGlassOptions } from '../identity/break-glass';
import { MeshPlatformProps } from '../model/platform';
import { INetworkTiers } from '../network/network-tiers';
import { NamespaceResourceOptions } from '../policy/zero-trust-policy-chart';

/**
 * An explicit, named weakening: a public API endpoint next to the private one, reachable only from
 * the listed CIDRs (controls.md EKS-02). The cluster records the opt-out where `ZeroTrustChecks`
 * (ZT-EKS-1) reads it, and synthesis warns.
 */
export interface PublicEndpointOptions {
  /**
   * Who may reach the public endpoint: literal IPv4 CIDRs (what ZT-EKS-1 can verify). Must be
   * non-empty and must not contain 0.0.0.0/0, ::/0 or any other /0.
   */
  readonly allowedCidrs: string[];
  /**
   * Why the endpoint must be public, recorded in the cluster resource's Metadata
   * `cdk-zero-trust-eks:publicEndpointOptOut` (see `ZeroTrustChecks.allowPublicEndpoint`).
   * @default - a reason naming this prop and the allowed CIDRs
   */
  readonly reason?: string;
}

/** Props of `ZeroTrustCluster`. */
export interface ZeroTrustClusterProps {
  /** The Kubernetes version (one that EKS creates today, e.g. `KubernetesVersion.V1_35`). */
  readonly version: eks.KubernetesVersion;
  /** The kubectl layer matching the version (e.g. `KubectlV35Layer` from `@aws-cdk/lambda-layer-kubectl-v35`). */
  readonly kubectlLayer: lambda.ILayerVersion;
  /**
   * The cluster's name: also the name of its control-plane log group `/aws/eks/<name>/cluster`.
   * @default - a stable name derived from the construct path
   */
  readonly clusterName?: string;
  /**
   * The network tiers.
   * @default - a new `SegmentedVpc`
   */
  readonly network?: INetworkTiers;
  /**
   * The customer-managed keys.
   * @default - new `ZeroTrustKeys`
   */
  readonly keys?: ZeroTrustKeys;
  /**
   * A role that gets cluster-admin through an access entry (the only human admin besides
   * break-glass; the kubectl handler's entry is the documented exception).
   * @default - no human admin
   */
  readonly adminRole?: iam.IRole;
  /**
   * The managed node group.
   * @default - 2 to 4 `m6i.large` AL2023 nodes
   */
  readonly nodeGroup?: NodeGroupOptions;
  /**
   * Retention of the control-plane logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * A public API endpoint next to the private one: a named opt-out with a required CIDR allow-list.
   * @default - private endpoint only
   */
  readonly publicEndpoint?: PublicEndpointOptions;
  /**
   * The Istio release.
   * @default '1.30.3'
   */
  readonly istioVersion?: string;
  /**
   * The default namespace of services.
   * @default 'apps'
   */
  readonly defaultNamespace?: string;
  /**
   * The platform workloads, where they differ from design.md section 2.
   * @default - the defaults
   */
  readonly platform?: MeshPlatformProps;
  /**
   * Install the admission guardrails (OPA Gatekeeper, its constraints and the library's
   * ValidatingAdmissionPolicies). Set to `false` only as a named, visible opt-out: synthesis then
   * warns and the stack output `AdmissionGuardrails` says `disabled`.
   * @default true
   */
  readonly admissionGuardrails?: boolean;
  /**
   * Options of the admission guardrails: enforcement and exemptions per guardrail, allowed image
   * registries, Gatekeeper's version and replicas.
   * @default - every guardrail denies; the default registries; Gatekeeper 3.22.2 with 3 replicas
   */
  readonly guardrails?: ClusterGuardrailsOptions;
  /**
   * The break-glass role: the only human cluster-admin, assumable only with MFA.
   * @default - trusted by the account root principal (with MFA), 1-hour sessions
   */
  readonly breakGlass?: BreakGlassOptions;
  /**
   * The ResourceQuota and LimitRange of every service namespace (controls.md K8S-08).
   * @default - the defaults of `NamespaceResourceOptions`
   */
  readonly namespaceResources?: NamespaceResourceOptions;
  /**
   * The version of the `eks-pod-identity-agent` add-on, installed when a service uses
   * `WorkloadIdentity.POD_IDENTITY` with a role: one that
   * `aws eks describe-addon-versions --addon-name eks-pod-identity-agent` lists for the cluster's version.
   * @default - the add-on's default version for the cluster's Kubernetes version
   */
  readonly podIdentityAgentVersion?: string;
}
