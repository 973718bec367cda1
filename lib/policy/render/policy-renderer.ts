import { Construct } from 'constructs';
import { AuthorizationPolicyRenderer } from './authorization-policies';
import { calleesOfNamespace, compare, egressGrants, ingressGrants, principalRules } from './flows';
import { NetworkPolicyRenderer } from './network-policies';
import { MANAGED_BY_LABELS, OBJECT_NAMES } from './object-names';
import { renderNamespace, renderService, renderServiceAccount } from './workload-objects';
import { Microservice } from '../../model/microservice';
import { PolicyModel } from '../../model/policy-model';
import { MutualTlsMode, PeerAuthentication } from '../istio/peer-authentication';
import { Sidecar } from '../istio/sidecar';

/**
 * Renders a policy model into cdk8s objects under `scope`, in a fixed order: mesh-wide objects,
 * then each namespace (sorted) with its own objects, then its services (sorted by name).
 */
export function renderPolicies(scope: Construct, model: PolicyModel): void {
  const p = model.platform;
  const networkPolicies = new NetworkPolicyRenderer(model);
  const authorization = new AuthorizationPolicyRenderer(model);
  const egress = egressGrants(model);

  const mesh = new Construct(scope, 'Mesh');
  new PeerAuthentication(mesh, 'StrictMtls', {
    metadata: { name: OBJECT_NAMES.peerAuthentication, namespace: p.rootNamespace, labels: MANAGED_BY_LABELS },
    mode: MutualTlsMode.STRICT,
  });
  authorization.allowNothing(mesh, p.rootNamespace);
  authorization.denyQuarantined(mesh);
  authorization.ingressGateway(mesh);

  const byNamespace = new Map<string, Microservice[]>();
  for (const service of [...model.services].sort((a, b) => compare(a.name, b.name))) {
    byNamespace.set(service.namespace, [...(byNamespace.get(service.namespace) ?? []), service]);
  }
  for (const namespace of model.namespaces) {
    const nsScope = new Construct(scope, `Namespace-${namespace}`);
    renderNamespace(nsScope, namespace);
    new PeerAuthentication(nsScope, 'StrictMtls', {
      metadata: { name: OBJECT_NAMES.peerAuthentication, namespace, labels: MANAGED_BY_LABELS },
      mode: MutualTlsMode.STRICT,
    });
    authorization.allowNothing(nsScope, namespace);
    networkPolicies.defaultDeny(nsScope, namespace);
    networkPolicies.platformEgress(nsScope, namespace);
    const hosts = calleesOfNamespace(egress, namespace).map(c => `${c.namespace}/${c.name}.${c.namespace}.svc.${model.clusterDomain}`);
    new Sidecar(nsScope, 'Sidecar', {
      metadata: { name: OBJECT_NAMES.sidecar, namespace, labels: MANAGED_BY_LABELS },
      egressHosts: [`${p.rootNamespace}/*`, ...hosts].sort(),
    });

    const serviceAccounts = new Set<string>();
    for (const service of byNamespace.get(namespace) ?? []) {
      const svcScope = new Construct(nsScope, `Service-${service.name}`);
      if (!serviceAccounts.has(service.serviceAccountName)) {
        serviceAccounts.add(service.serviceAccountName);
        renderServiceAccount(svcScope, service.serviceAccountName, namespace);
      }
      renderService(svcScope, service);
      networkPolicies.service(svcScope, service, ingressGrants(model, service), egress.get(service) ?? []);
      authorization.service(svcScope, service, principalRules(model, service));
    }
  }
}
