/** The Kubernetes username the managed collector's access entry maps to (AMP documentation's convention). */
export const SCRAPER_USERNAME = 'aps-collector-user';
/** The ClusterRole (and binding) that lets the collector discover its targets. */
export const SCRAPER_CLUSTER_ROLE = 'zero-trust:metrics-scraper';

/**
 * The managed collector's Prometheus configuration: the sidecars' Envoy metrics (port
 * `http-envoy-prom`, 15090), istiod's monitoring port (15014) and the API server. Nothing else is
 * scraped: the NetworkPolicies admit the scraper subnets to exactly these ports.
 */
export function scrapeConfiguration(scrapeIntervalSeconds: number): string {
  return [
    'global:',
    `  scrape_interval: ${scrapeIntervalSeconds}s`,
    'scrape_configs:',
    '  - job_name: istio-sidecars',
    '    metrics_path: /stats/prometheus',
    '    kubernetes_sd_configs:',
    '      - role: pod',
    '    relabel_configs:',
    '      - source_labels: [__meta_kubernetes_pod_container_port_name]',
    '        action: keep',
    '        regex: http-envoy-prom',
    '      - source_labels: [__meta_kubernetes_namespace]',
    '        target_label: namespace',
    '      - source_labels: [__meta_kubernetes_pod_name]',
    '        target_label: pod',
    '  - job_name: istiod',
    '    kubernetes_sd_configs:',
    '      - role: endpoints',
    '    relabel_configs:',
    '      - source_labels: [__meta_kubernetes_service_name, __meta_kubernetes_endpoint_port_name]',
    '        action: keep',
    '        regex: istiod;http-monitoring',
    '  - job_name: kubernetes-apiservers',
    '    scheme: https',
    '    bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token',
    '    tls_config:',
    '      ca_file: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    '      insecure_skip_verify: false',
    '    kubernetes_sd_configs:',
    '      - role: endpoints',
    '    relabel_configs:',
    '      - source_labels: [__meta_kubernetes_namespace, __meta_kubernetes_service_name, __meta_kubernetes_endpoint_port_name]',
    '        action: keep',
    '        regex: default;kubernetes;https',
    '',
  ].join('\n');
}

/**
 * The collector's RBAC: discover pods, endpoints and services (read only) and read `/metrics`;
 * no Secrets, no writes, no node proxy.
 */
export function scraperRbac(): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: SCRAPER_CLUSTER_ROLE, labels: { 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks' } },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'pods', 'services'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: SCRAPER_CLUSTER_ROLE, labels: { 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: SCRAPER_CLUSTER_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: SCRAPER_USERNAME }],
    },
  ];
}
