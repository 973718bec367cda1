import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MANAGED_BY_LABELS, OBJECT_NAMES } from './object-names';
import { declarationError } from '../../model/errors';
import { Microservice } from '../../model/microservice';

/**
 * Labels of a service namespace: sidecar injection, and Pod Security `restricted` in every mode
 * (the `enforce-version` label comes from `podSecurityVersion`).
 */
export const SERVICE_NAMESPACE_LABELS = {
  'istio-injection': 'enabled',
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
} as const;

/**
 * The Pod Security `enforce-version` for a cluster's Kubernetes version: `v<major>.<minor>` (so a
 * control-plane upgrade never tightens or loosens what is enforced unannounced), or `latest` when
 * the version is not known (controls.md K8S-01).
 */
export function podSecurityVersion(owner: string, field: string, kubernetesVersion: string | undefined): string {
  if (kubernetesVersion === undefined || kubernetesVersion === 'latest') {
    return 'latest';
  }
  const m = typeof kubernetesVersion === 'string' ? /^v?(\d+)\.(\d+)(\.\d+)?$/.exec(kubernetesVersion) : null;
  if (!m) {
    throw declarationError(owner, field, kubernetesVersion, "must be the cluster's Kubernetes version, e.g. '1.35' (or 'latest')",
      "pass the minor version the cluster runs, e.g. '1.35' (eks.KubernetesVersion.V1_35.version), or leave it out for 'latest'");
  }
  return `v${Number(m[1])}.${Number(m[2])}`;
}

/** The Namespace of declared services. */
export function renderNamespace(scope: Construct, namespace: string, enforceVersion: string, annotations: Record<string, string> = {}): void {
  new kplus.Namespace(scope, 'Namespace', {
    metadata: {
      name: namespace,
      labels: { ...SERVICE_NAMESPACE_LABELS, 'pod-security.kubernetes.io/enforce-version': enforceVersion, ...MANAGED_BY_LABELS },
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
  });
}

/**
 * The namespace's `default` service account, which Kubernetes creates in every namespace and
 * gives every pod that names no account: its token is never mounted (controls.md K8S-09).
 * Services always get a dedicated account (`serviceAccountName: 'default'` is refused).
 */
export function renderDefaultServiceAccount(scope: Construct, namespace: string): void {
  new kplus.ServiceAccount(scope, 'DefaultServiceAccount', {
    metadata: { name: OBJECT_NAMES.defaultServiceAccount, namespace, labels: MANAGED_BY_LABELS },
    automountToken: false,
  });
}

/** A dedicated service account that pods do not mount a token of unless they opt in. */
export function renderServiceAccount(scope: Construct, name: string, namespace: string, annotations: Record<string, string>): void {
  new kplus.ServiceAccount(scope, 'ServiceAccount', {
    metadata: { name, namespace, labels: MANAGED_BY_LABELS, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    automountToken: false,
  });
}

/**
 * The Kubernetes Service: ports named by protocol with `appProtocol` set, so Istio never
 * guesses the protocol and Sidecar hosts resolve (design.md 3.5). None for a client-only service.
 */
export function renderService(scope: Construct, service: Microservice): void {
  if (service.ports.length === 0) {
    return;
  }
  const ports = [...service.ports].sort((a, b) => a.port - b.port);
  new kplus.k8s.KubeService(scope, 'Service', {
    metadata: { name: service.name, namespace: service.namespace, labels: MANAGED_BY_LABELS },
    spec: {
      type: 'ClusterIP',
      selector: { ...service.podLabels },
      ports: ports.map(p => ({
        name: p.name,
        port: p.port,
        targetPort: kplus.k8s.IntOrString.fromNumber(p.targetPort),
        protocol: 'TCP',
        appProtocol: p.protocol.appProtocol,
      })),
    },
  });
}
