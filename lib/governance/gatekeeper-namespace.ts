/**
 * Gatekeeper's namespace and its NetworkPolicies (design.md section 7): default deny in both
 * directions; the admission webhook's container port only from the control-plane ENI subnets;
 * egress only to the Kubernetes API (the `kubernetes` Service ClusterIP /32 and the control-plane
 * subnets, TCP 443; controls.md pitfall 8) and to cluster DNS. Plain objects, no aws-cdk-lib.
 */
import { KubeObject } from './rbac';
import { MANAGED_BY_LABEL } from './zero-trust-guardrails';
import { podSecurityVersion } from '../policy/render/workload-objects';

/** What the Gatekeeper namespace objects need to know. @internal */
export interface GatekeeperNamespaceSpec {
  readonly namespace: string;
  /** The control-plane ENI subnets' CIDRs (webhook callers, API server endpoints). */
  readonly controlPlaneCidrs: string[];
  /** The `kubernetes` Service ClusterIP as a /32. */
  readonly apiServerServiceCidr: string;
  /** The webhook's container port. */
  readonly webhookPort: number;
  /** The labels of the webhook (controller-manager) pods. */
  readonly webhookPodLabels: Record<string, string>;
  /**
   * The cluster's Kubernetes version, e.g. '1.35': Pod Security `enforce-version` is pinned to
   * `v1.35`, like every other namespace of the library (controls.md K8S-01).
   * @default 'latest'
   */
  readonly kubernetesVersion?: string;
}

/**
 * The Pod Security level of Gatekeeper's namespace, in every mode. The chart's pods (controller
 * manager, audit, the CRD upgrade hook) run as non-root (uid 1000 / 65532), drop ALL capabilities,
 * forbid privilege escalation, use a read-only root filesystem and, with the chart's
 * `enableRuntimeDefaultSeccompProfile: true`, the RuntimeDefault seccomp profile: `restricted`
 * holds, so no `zero-trust.cdk.io/pod-security-reason` is recorded.
 */
export const GATEKEEPER_POD_SECURITY = 'restricted';

/**
 * The label with which Gatekeeper's webhook skips a namespace. Not set: the chart already excludes its
 * release namespace by name (and starts the manager with --exempt-namespace for it).
 */
export const GATEKEEPER_IGNORE_LABEL = 'admission.gatekeeper.sh/ignore';

function meta(namespace: string, name: string): KubeObject {
  return { name, namespace, labels: { [MANAGED_BY_LABEL.key]: MANAGED_BY_LABEL.value } };
}

/** The Namespace and its NetworkPolicies, in apply order. */
export function gatekeeperNamespaceObjects(spec: GatekeeperNamespaceSpec): KubeObject[] {
  const ns = spec.namespace;
  const enforceVersion = podSecurityVersion(`Gatekeeper namespace '${ns}'`, 'kubernetesVersion', spec.kubernetesVersion);
  const cidrs = [...new Set(spec.controlPlaneCidrs)].sort();
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: ns,
        labels: {
          [MANAGED_BY_LABEL.key]: MANAGED_BY_LABEL.value,
          // Gatekeeper's pods meet restricted (GATEKEEPER_POD_SECURITY); enforce-version is the cluster's minor.
          'pod-security.kubernetes.io/enforce': GATEKEEPER_POD_SECURITY,
          'pod-security.kubernetes.io/enforce-version': enforceVersion,
          'pod-security.kubernetes.io/audit': GATEKEEPER_POD_SECURITY,
          'pod-security.kubernetes.io/warn': GATEKEEPER_POD_SECURITY,
        },
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(ns, 'zero-trust.default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(ns, 'zero-trust.gatekeeper-webhook'),
      spec: {
        podSelector: { matchLabels: { ...spec.webhookPodLabels } },
        policyTypes: ['Ingress'],
        ingress: [{ from: cidrs.map(cidr => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: spec.webhookPort }] }],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(ns, 'zero-trust.kubernetes-api'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          { to: [spec.apiServerServiceCidr, ...cidrs].map(cidr => ({ ipBlock: { cidr } })), ports: [{ protocol: 'TCP', port: 443 }] },
          {
            to: [{
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            }],
            ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
          },
        ],
      },
    },
  ];
}
