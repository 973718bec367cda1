/**
 * Names of the rendered objects. Names derived from a service are the service's own name (an
 * RFC 1035 label, so it has no dot); fixed names carry a dot, so the two can never collide.
 */
export const OBJECT_NAMES = {
  /** Namespace-wide default-deny NetworkPolicy (Ingress and Egress). */
  defaultDeny: 'zero-trust.default-deny',
  /** Namespace-wide NetworkPolicy opening DNS and istiod to every non-quarantined pod. */
  platformEgress: 'zero-trust.platform-egress',
  /** Namespace-wide NetworkPolicy admitting the metrics scraper to the sidecar metrics ports. */
  sidecarMetrics: 'zero-trust.sidecar-metrics',
  /** Mesh-wide access-log Telemetry in the root namespace (Istio's conventional name). */
  meshTelemetry: 'mesh-default',
  /** Allow-nothing AuthorizationPolicy (mesh-wide in the root namespace, and per namespace). */
  allowNothing: 'zero-trust.allow-nothing',
  /** Mesh-wide DENY of every request into a quarantined pod. */
  denyQuarantined: 'zero-trust.deny-quarantined',
  /** ALLOW policy of the ingress gateway. */
  ingressGateway: 'zero-trust.ingress-gateway',
  /** PeerAuthentication: Istio's conventional name for the namespace-wide (or mesh-wide) policy. */
  peerAuthentication: 'default',
  /** Sidecar: the namespace-wide one. */
  sidecar: 'default',
  /** The ServiceAccount Kubernetes gives pods that name none (services may not use it, so no service account collides). */
  defaultServiceAccount: 'default',
  /** The ResourceQuota of a service namespace. */
  resourceQuota: 'zero-trust.resource-quota',
  /** The LimitRange of a service namespace (default requests and limits of containers). */
  limitRange: 'zero-trust.limit-range',
} as const;

/** The label every rendered object carries, so guardrails can protect what this library manages. */
export const MANAGED_BY_LABELS = { 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks' } as const;
