/** Where istiod runs and how its pods are labelled (design.md section 2). */
export interface IstiodProps {
  /**
   * Labels of the istiod pods.
   * @default { app: 'istiod', istio: 'pilot' }
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * The xDS and CA port that every sidecar calls.
   * @default 15012
   */
  readonly xdsPort?: number;
}

/** The Istio ingress gateway that north-south traffic enters through (design.md section 2). */
export interface IngressGatewayProps {
  /**
   * Namespace of the gateway (reserved: no service may be declared in it).
   * @default 'istio-ingress'
   */
  readonly namespace?: string;
  /**
   * Service account of the gateway pods: the principal that `allowFromIngressGateway` admits.
   * @default 'istio-ingressgateway'
   */
  readonly serviceAccountName?: string;
  /**
   * Labels of the gateway pods.
   * @default { istio: 'ingressgateway', app: 'istio-ingressgateway' }
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * Container ports the gateway listens on (the `gateway` Helm chart binds 80 and 443).
   * @default [80, 443]
   */
  readonly ports?: number[];
}

/** Where cluster DNS runs (design.md section 2). */
export interface ClusterDnsProps {
  /**
   * Namespace of the DNS pods.
   * @default 'kube-system'
   */
  readonly namespace?: string;
  /**
   * Labels of the DNS pods.
   * @default { 'k8s-app': 'kube-dns' }
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * DNS port, opened on UDP and TCP.
   * @default 53
   */
  readonly port?: number;
}

/**
 * The platform workloads every renderer and the Istio installation agree on. Each default is
 * the one in design.md section 2; change one only when your installation differs.
 */
export interface MeshPlatformProps {
  /**
   * The mesh root namespace, where istiod runs and mesh-wide policies live.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /** @default - see IstiodProps */
  readonly istiod?: IstiodProps;
  /** @default - see IngressGatewayProps */
  readonly ingressGateway?: IngressGatewayProps;
  /** @default - see ClusterDnsProps */
  readonly clusterDns?: ClusterDnsProps;
  /**
   * The label that quarantines a pod. NetworkPolicies exclude any pod that carries the key;
   * the mesh-wide DENY matches the value 'true'.
   * @default 'zero-trust.cdk.io/quarantine'
   */
  readonly quarantineLabel?: string;
}
