import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { servicePeer } from './flows';
import { NetworkPolicyRenderer, tcp, udp } from './network-policies';
import { OBJECT_NAMES } from './object-names';
import { PlatformNetworkProps } from '../../model/platform-network';
import { PolicyModel } from '../../model/policy-model';

const WEBHOOK_PORT = 15017;
const MONITORING_PORT = 15014;
const GATEWAY_HEALTH_PORT = 15021;
const COREDNS_METRICS_PORT = 9153;

/**
 * Default deny plus exact allows for the platform namespaces (design.md section 7): istiod in the
 * mesh root, the ingress gateway, and CoreDNS when asked.
 */
export function renderPlatformPolicies(scope: Construct, model: PolicyModel, net: PlatformNetworkProps, policies: NetworkPolicyRenderer): void {
  const p = model.platform;
  const dnsPorts = [udp(p.dnsPort), tcp(p.dnsPort)];
  const apiServer = [...(net.apiServerServiceCidr ? [net.apiServerServiceCidr] : []), ...net.controlPlaneCidrs];

  // Mesh root: istiod. Sidecars from every namespace, webhooks from the control plane, metrics from scrapers.
  const root = new Construct(scope, 'MeshRoot');
  policies.defaultDeny(root, p.rootNamespace);
  policies.platform(root, 'Istiod', 'zero-trust.istiod', p.rootNamespace, p.istiodLabels, [
    { peers: [policies.anyPod()], ports: [tcp(p.istiodXdsPort)] },
    { peers: cidrPeers(net.controlPlaneCidrs), ports: [tcp(WEBHOOK_PORT)] },
    ...(net.scraperCidrs && net.scraperCidrs.length > 0 ? [{ peers: cidrPeers(net.scraperCidrs), ports: [tcp(MONITORING_PORT)] }] : []),
  ], [
    { peers: cidrPeers(apiServer), ports: [tcp(443)] },
    { peers: [policies.dnsPeer()], ports: dnsPorts },
  ]);

  // Ingress gateway: from its load balancer only; to the services that admit it.
  const gw = new Construct(scope, 'IngressGateway');
  policies.defaultDeny(gw, p.gatewayNamespace);
  const backends = model.services
    .map(s => ({ service: s, ports: [...new Set(s._inboundAllows().filter(a => a.caller.kind === 'ingress-gateway').map(a => a.port))].sort((a, b) => a - b) }))
    .filter(b => b.ports.length > 0);
  policies.platform(gw, 'Gateway', OBJECT_NAMES.ingressGateway, p.gatewayNamespace, p.gatewayLabels, [
    { peers: cidrPeers(net.loadBalancerCidrs), ports: [...p.gatewayPorts, GATEWAY_HEALTH_PORT].map(tcp) },
  ], [
    ...backends.map(b => ({ peers: [policies.peerOf(servicePeer(b.service))], ports: b.ports.map(tcp) })),
    { peers: [policies.istiodPeer()], ports: [tcp(p.istiodXdsPort)] },
    { peers: [policies.dnsPeer()], ports: dnsPorts },
  ]);

  if (net.coreDns) {
    const dns = new Construct(scope, 'CoreDns');
    policies.platform(dns, 'CoreDns', 'zero-trust.coredns', p.dnsNamespace, p.dnsLabels, [
      { peers: [policies.anyPod()], ports: dnsPorts },
      ...(net.scraperCidrs && net.scraperCidrs.length > 0 ? [{ peers: cidrPeers(net.scraperCidrs), ports: [tcp(COREDNS_METRICS_PORT)] }] : []),
    ], [
      { peers: cidrPeers([net.coreDns.resolverCidr]), ports: dnsPorts },
      { peers: cidrPeers(apiServer), ports: [tcp(443)] },
    ]);
  }
}

function cidrPeers(cidrs: string[]): k8s.NetworkPolicyPeer[] {
  return cidrs.map(cidr => ({ ipBlock: { cidr } }));
}
