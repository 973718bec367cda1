import { declarationError } from './errors';
import { isDns1123Label, isDns1123Subdomain, isLabelKey } from './names';
import { MeshPlatformProps } from './platform';
import { checkLabels, checkPort } from './validation';

/** The resolved platform: every default filled in and checked. */
export interface ResolvedPlatform {
  readonly rootNamespace: string;
  readonly istiodLabels: Readonly<Record<string, string>>;
  readonly istiodXdsPort: number;
  readonly gatewayNamespace: string;
  readonly gatewayServiceAccount: string;
  readonly gatewayLabels: Readonly<Record<string, string>>;
  readonly gatewayPorts: readonly number[];
  readonly dnsNamespace: string;
  readonly dnsLabels: Readonly<Record<string, string>>;
  readonly dnsPort: number;
  readonly quarantineLabel: string;
}

/** Namespaces that no service may be declared in. */
export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'] as const;

/** Fills in and checks the platform defaults. */
export function resolvePlatform(props: MeshPlatformProps = {}): ResolvedPlatform {
  const subject = 'ZeroTrustPolicyChart platform';
  const resolved: ResolvedPlatform = {
    rootNamespace: props.rootNamespace ?? 'istio-system',
    istiodLabels: props.istiod?.podLabels ?? { app: 'istiod', istio: 'pilot' },
    istiodXdsPort: props.istiod?.xdsPort ?? 15012,
    gatewayNamespace: props.ingressGateway?.namespace ?? 'istio-ingress',
    gatewayServiceAccount: props.ingressGateway?.serviceAccountName ?? 'istio-ingressgateway',
    gatewayLabels: props.ingressGateway?.podLabels ?? { istio: 'ingressgateway', app: 'istio-ingressgateway' },
    gatewayPorts: [...new Set(props.ingressGateway?.ports ?? [80, 443])].sort((a, b) => a - b),
    dnsNamespace: props.clusterDns?.namespace ?? 'kube-system',
    dnsLabels: props.clusterDns?.podLabels ?? { 'k8s-app': 'kube-dns' },
    dnsPort: props.clusterDns?.port ?? 53,
    quarantineLabel: props.quarantineLabel ?? 'zero-trust.cdk.io/quarantine',
  };
  for (const [field, ns] of [['rootNamespace', resolved.rootNamespace], ['ingressGateway.namespace', resolved.gatewayNamespace], ['clusterDns.namespace', resolved.dnsNamespace]]) {
    if (!isDns1123Label(ns)) {
      throw declarationError(subject, field, ns, 'must be an RFC 1123 label', "use a namespace name such as 'istio-system'");
    }
  }
  if (!isDns1123Subdomain(resolved.gatewayServiceAccount)) {
    throw declarationError(subject, 'ingressGateway.serviceAccountName', resolved.gatewayServiceAccount, 'must be an RFC 1123 subdomain', "use e.g. 'istio-ingressgateway'");
  }
  for (const [field, labels] of [['istiod.podLabels', resolved.istiodLabels], ['ingressGateway.podLabels', resolved.gatewayLabels], ['clusterDns.podLabels', resolved.dnsLabels]] as const) {
    checkLabels(subject, field, labels, true);
  }
  for (const [field, port] of [['istiod.xdsPort', resolved.istiodXdsPort], ['clusterDns.port', resolved.dnsPort], ...resolved.gatewayPorts.map(p => ['ingressGateway.ports', p] as const)] as const) {
    checkPort(subject, field, port);
  }
  if (!isLabelKey(resolved.quarantineLabel)) {
    throw declarationError(subject, 'quarantineLabel', resolved.quarantineLabel, 'must be a Kubernetes label key', "use e.g. 'security.example.com/quarantine'");
  }
  return resolved;
}
