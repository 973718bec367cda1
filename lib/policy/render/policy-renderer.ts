import { Construct } from 'constructs';
import { AuthorizationPolicyRenderer } from './authorization-policies';
import { calleesOfNamespace, compare, egressGrants, ingressGrants, principalRules } from './flows';
import { NAMESPACE_RESOURCES_OPT_OUT_ANNOTATION, renderNamespaceResources, ResolvedNamespaceResources, resolveNamespaceResources } from './namespace-resources';
import { NetworkPolicyRenderer } from './network-policies';
import { MANAGED_BY_LABELS, OBJECT_NAMES } from './object-names';
import { renderPlatformPolicies } from './platform-policies';
import { renderDefaultServiceAccount, renderNamespace, renderService, renderServiceAccount } from './workload-objects';
import { ExternalEndpoint, ExternalEndpointProtocol } from '../../model/external-endpoint';
import { Microservice } from '../../model/microservice';
import { PlatformNetworkProps } from '../../model/platform-network';
import { PolicyModel } from '../../model/policy-model';
import { addTo } from '../../util/multimap';
import { MutualTlsMode, PeerAuthentication } from '../istio/peer-authentication';
import { ServiceEntry } from '../istio/service-entry';
import { Sidecar } from '../istio/sidecar';
import { AccessLogTelemetry } from '../istio/telemetry';
import { MeshAccessLogging } from '../mesh-access-logging';

/** What the renderer needs besides the model. */
export interface RenderOptions {
  readonly platformNetwork?: PlatformNetworkProps;
  /** @default MeshAccessLogging.ALL_REQUESTS */
  readonly accessLogging?: MeshAccessLogging;
  /** The Pod Security `enforce-version` of service namespaces. @default 'latest' */
  readonly podSecurityVersion?: string;
  /** The ResourceQuota and LimitRange of service namespaces. @default - the defaults */
  readonly namespaceResources?: ResolvedNamespaceResources;
}

/**
 * Renders a policy model into cdk8s objects under `scope`, in a fixed order: mesh-wide objects,
 * then each namespace (sorted) with its own objects, then its services (sorted by name).
 */
export function renderPolicies(scope: Construct, model: PolicyModel, options: RenderOptions = {}): void {
  const { platformNetwork } = options;
  const accessLogging = options.accessLogging ?? MeshAccessLogging.ALL_REQUESTS;
  const resources = options.namespaceResources ?? resolveNamespaceResources(model.owner);
  const p = model.platform;
  const networkPolicies = new NetworkPolicyRenderer(model);
  const authorization = new AuthorizationPolicyRenderer(model);
  const egress = egressGrants(model);
  const scraperCidrs = platformNetwork?.scraperCidrs ?? [];

  const mesh = new Construct(scope, 'Mesh');
  new PeerAuthentication(mesh, 'StrictMtls', {
    metadata: { name: OBJECT_NAMES.peerAuthentication, namespace: p.rootNamespace, labels: MANAGED_BY_LABELS },
    mode: MutualTlsMode.STRICT,
  });
  authorization.allowNothing(mesh, p.rootNamespace);
  authorization.denyQuarantined(mesh);
  authorization.ingressGateway(mesh);
  if (accessLogging === MeshAccessLogging.ALL_REQUESTS) {
    new AccessLogTelemetry(mesh, 'AccessLogs', { metadata: { name: OBJECT_NAMES.meshTelemetry, namespace: p.rootNamespace, labels: MANAGED_BY_LABELS } });
  }
  if (platformNetwork) {
    renderPlatformPolicies(new Construct(scope, 'Platform'), model, platformNetwork, networkPolicies);
  }

  const byNamespace = new Map<string, Microservice[]>();
  for (const service of [...model.services].sort((a, b) => compare(a.name, b.name))) {
    addTo(byNamespace, service.namespace, service);
  }
  for (const namespace of model.namespaces) {
    const nsScope = new Construct(scope, `Namespace-${namespace}`);
    // A named opt-out of the ResourceQuota and LimitRange shows on the Namespace itself.
    const optOut: Record<string, string> = resources.optOutReason !== undefined
      ? { [NAMESPACE_RESOURCES_OPT_OUT_ANNOTATION]: resources.optOutReason }
      : {};
    renderNamespace(nsScope, namespace, options.podSecurityVersion ?? 'latest', optOut);
    renderNamespaceResources(nsScope, namespace, resources);
    new PeerAuthentication(nsScope, 'StrictMtls', {
      metadata: { name: OBJECT_NAMES.peerAuthentication, namespace, labels: MANAGED_BY_LABELS },
      mode: MutualTlsMode.STRICT,
    });
    authorization.allowNothing(nsScope, namespace);
    networkPolicies.defaultDeny(nsScope, namespace);
    networkPolicies.platformEgress(nsScope, namespace);
    if (scraperCidrs.length > 0) {
      networkPolicies.sidecarMetrics(nsScope, namespace, scraperCidrs);
    }
    const hosts = calleesOfNamespace(egress, namespace).map(c => `${c.namespace}/${c.name}.${c.namespace}.svc.${model.clusterDomain}`);
    const endpoints = externalEndpointsOf(byNamespace.get(namespace) ?? []);
    new Sidecar(nsScope, 'Sidecar', {
      metadata: { name: OBJECT_NAMES.sidecar, namespace, labels: MANAGED_BY_LABELS },
      egressHosts: [`${p.rootNamespace}/*`, ...hosts, ...endpoints.flatMap(e => e.hosts.map(h => `./${h}`))].sort(),
    });
    for (const endpoint of endpoints) {
      new ServiceEntry(nsScope, `ServiceEntry-${endpoint.name}`, {
        metadata: { name: endpoint.name, namespace, labels: MANAGED_BY_LABELS },
        hosts: endpoint.hosts,
        port: endpoint.port,
        protocol: endpoint.protocol,
        ...(endpoint.protocol === ExternalEndpointProtocol.TCP ? { addresses: endpoint.cidrs } : {}),
      });
    }

    const serviceAccounts = new Set<string>();
    for (const service of byNamespace.get(namespace) ?? []) {
      const svcScope = new Construct(nsScope, `Service-${service.name}`);
      if (!serviceAccounts.has(service.serviceAccountName)) {
        serviceAccounts.add(service.serviceAccountName);
        const annotations = serviceAccountAnnotations(byNamespace.get(namespace) ?? [], service.serviceAccountName);
        renderServiceAccount(svcScope, service.serviceAccountName, namespace, annotations);
      }
      renderService(svcScope, service);
      networkPolicies.service(svcScope, service, ingressGrants(model, service), egress.get(service) ?? []);
      authorization.service(svcScope, service, principalRules(model, service));
    }
    // Last in the namespace: Kubernetes creates `default` as soon as the Namespace exists, and a
    // client-side `kubectl apply` that still finds it missing would race that creation.
    renderDefaultServiceAccount(nsScope, namespace);
  }
}

/** The external endpoints any of these services may call, unique and sorted by name. */
function externalEndpointsOf(services: Microservice[]): ExternalEndpoint[] {
  const byName = new Map<string, ExternalEndpoint>();
  for (const s of services) {
    s._externalEndpoints().forEach(e => byName.set(e.name, e));
  }
  return [...byName.values()].sort((a, b) => compare(a.name, b.name));
}

/** The annotations of a (possibly shared) service account: the union of its services' annotations. */
function serviceAccountAnnotations(services: Microservice[], account: string): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const s of services.filter(x => x.serviceAccountName === account)) {
    Object.assign(merged, s._serviceAccountAnnotations());
  }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => compare(a, b)));
}
