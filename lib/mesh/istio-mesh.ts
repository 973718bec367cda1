import { Duration } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct, IDependable } from 'constructs';
import { podSecurityVersion } from '../policy/render/workload-objects';

/** The annotation on a namespace that records why it enforces less than Pod Security `restricted` (controls.md K8S-01). */
const POD_SECURITY_REASON_ANNOTATION = 'zero-trust.cdk.io/pod-security-reason';

/** Why the mesh root enforces `baseline` (audit and warn stay `restricted`, so any drift is reported). */
const ROOT_BASELINE_REASON = 'istiod runs as non-root (uid 1337) with every capability dropped, but the istiod chart leaves the pod '
  + 'seccompProfile unset by default (pilot.seccompProfile: {}), which Pod Security restricted refuses; baseline is enforced and '
  + 'restricted is audited and warned, so a violation shows up in the audit log and on every apply.';
/** Why the Istio CNI node agent's namespace is privileged. */
const CNI_PRIVILEGED_REASON = 'The Istio CNI node agent (istio-cni-node DaemonSet) runs on the host network with hostPath mounts of the '
  + 'CNI directories and NET_ADMIN/NET_RAW/SYS_ADMIN, so that application pods need no istio-init container and can run restricted '
  + '(controls.md IST-08). Nothing else runs here.';

/** Props of `IstioMesh`. */
export interface IstioMeshProps {
  /** The cluster to install Istio into (it needs a kubectl provider). */
  readonly cluster: eks.ICluster;
  /**
   * The Istio release of every chart (base, istiod, cni, gateway), pinned.
   * @default '1.30.3'
   */
  readonly version?: string;
  /**
   * The Helm repository of the Istio charts.
   * @default 'https://istio-release.storage.googleapis.com/charts'
   */
  readonly repository?: string;
  /**
   * The mesh root namespace, where istiod runs.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * The ingress gateway's namespace (its release is `istio-ingressgateway`).
   * @default 'istio-ingress'
   */
  readonly gatewayNamespace?: string;
  /**
   * The namespace of the Istio CNI node agent: the only namespace with Pod Security `privileged`.
   * @default 'istio-cni'
   */
  readonly cniNamespace?: string;
  /**
   * Subnet ids for the gateway's load balancer (an internal NLB unless `internetFacing`).
   * @default - chosen by the AWS Load Balancer Controller from subnet tags
   */
  readonly loadBalancerSubnetIds?: string[];
  /**
   * Make the gateway's load balancer internet-facing: a named opt-out, shown in the Helm values.
   * @default false
   */
  readonly internetFacing?: boolean;
  /**
   * Gateway replicas.
   * @default 2
   */
  readonly gatewayReplicas?: number;
  /**
   * The cluster's Kubernetes version, e.g. '1.35': the namespaces pin Pod Security
   * `enforce-version` to `v1.35` (controls.md K8S-01).
   * @default 'latest'
   */
  readonly kubernetesVersion?: string;
}

/**
 * Istio from its Helm charts, pinned: `base` (CRDs), then `istiod` (mesh config: access logs on,
 * REGISTRY_ONLY egress, DECODE_AND_MERGE_SLASHES path normalization, CNI instead of istio-init,
 * debug endpoints off), then the Istio CNI node agent and the ingress gateway behind an internal
 * NLB. `policyDependency` is what every policy object must depend on: the CRDs and the
 * validating webhook exist once it is ready.
 */
export class IstioMesh extends Construct {
  /** The pinned Istio version. */
  public readonly version: string;
  /** Depend on this before applying any Istio resource or meshed workload. */
  public readonly policyDependency: IDependable;
  /** The Helm values of istiod (for inspection and tests). */
  public readonly istiodValues: { [key: string]: unknown };
  /** The Helm values of the ingress gateway. */
  public readonly gatewayValues: { [key: string]: unknown };
  /** The ingress gateway's Helm release. */
  public readonly gateway: eks.HelmChart;

  constructor(scope: Construct, id: string, props: IstioMeshProps) {
    super(scope, id);
    this.version = props.version ?? '1.30.3';
    const repository = props.repository ?? 'https://istio-release.storage.googleapis.com/charts';
    const root = props.rootNamespace ?? 'istio-system';
    const cniNamespace = props.cniNamespace ?? 'istio-cni';
    const gatewayNamespace = props.gatewayNamespace ?? 'istio-ingress';
    const chart = (cid: string, name: string, release: string, namespace: string, values: { [key: string]: unknown }) =>
      new eks.HelmChart(this, cid, {
        cluster: props.cluster,
        chart: name,
        release,
        repository,
        version: this.version,
        namespace,
        values,
        createNamespace: false,
        wait: true,
        timeout: Duration.minutes(10),
      });

    // Namespaces first, labelled: only the CNI agent's namespace is privileged (it runs on the host network),
    // and every namespace that enforces less than restricted says why.
    const enforceVersion = podSecurityVersion(`IstioMesh '${this.node.path}'`, 'kubernetesVersion', props.kubernetesVersion);
    const namespaces = new eks.KubernetesManifest(this, 'Namespaces', {
      cluster: props.cluster,
      manifest: [
        namespaceObject(root, {
          'pod-security.kubernetes.io/enforce': 'baseline',
          'pod-security.kubernetes.io/enforce-version': enforceVersion,
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        }, { [POD_SECURITY_REASON_ANNOTATION]: ROOT_BASELINE_REASON }),
        namespaceObject(cniNamespace, {
          'pod-security.kubernetes.io/enforce': 'privileged',
          'pod-security.kubernetes.io/enforce-version': enforceVersion,
        }, { [POD_SECURITY_REASON_ANNOTATION]: CNI_PRIVILEGED_REASON }),
        namespaceObject(gatewayNamespace, {
          'istio-injection': 'enabled',
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': enforceVersion,
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/warn': 'restricted',
        }),
      ],
    });

    const base = chart('Base', 'base', 'istio-base', root, { defaultRevision: 'default' });
    base.node.addDependency(namespaces);

    this.istiodValues = {
      global: { istioNamespace: root, logAsJson: true },
      pilot: { cni: { enabled: true }, env: { ENABLE_DEBUG_ON_HTTP: 'false' } },
      meshConfig: {
        accessLogFile: '/dev/stdout',
        accessLogEncoding: 'JSON',
        outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
        pathNormalization: { normalization: 'DECODE_AND_MERGE_SLASHES' },
      },
    };
    const istiod = chart('Istiod', 'istiod', 'istiod', root, this.istiodValues);
    istiod.node.addDependency(base);

    const cni = chart('Cni', 'cni', 'istio-cni', cniNamespace, { global: { istioNamespace: root } });
    cni.node.addDependency(base);
    istiod.node.addDependency(cni);

    const scheme = props.internetFacing ? 'internet-facing' : 'internal';
    this.gatewayValues = {
      replicaCount: props.gatewayReplicas ?? 2,
      labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
      service: {
        type: 'LoadBalancer',
        annotations: {
          'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
          'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
          'service.beta.kubernetes.io/aws-load-balancer-scheme': scheme,
          ...(props.loadBalancerSubnetIds ? { 'service.beta.kubernetes.io/aws-load-balancer-subnets': props.loadBalancerSubnetIds.join(',') } : {}),
        },
      },
    };
    this.gateway = chart('IngressGateway', 'gateway', 'istio-ingressgateway', gatewayNamespace, this.gatewayValues);
    this.gateway.node.addDependency(istiod);

    this.policyDependency = istiod;
  }
}

function namespaceObject(name: string, labels: Record<string, string>, annotations?: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks', ...labels }, ...(annotations ? { annotations } : {}) },
  };
}
