import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MANAGED_BY_LABELS } from './object-names';
import { Microservice } from '../../model/microservice';

/** Labels of a service namespace: sidecar injection, and Pod Security `restricted` in every mode. */
export const SERVICE_NAMESPACE_LABELS = {
  'istio-injection': 'enabled',
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
} as const;

/** The Namespace of declared services. */
export function renderNamespace(scope: Construct, namespace: string): void {
  new kplus.Namespace(scope, 'Namespace', {
    metadata: { name: namespace, labels: { ...SERVICE_NAMESPACE_LABELS, ...MANAGED_BY_LABELS } },
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
