import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PlatformNetworkProps } from '../../model/platform-network';
import { PolicyModel } from '../../model/policy-model';
import { servicePeer } from './flows';
import { NetworkPolicyRenderer } from './network-policies';
import { OBJECT_NAMES } from './object-names';

const WEBHOOK_PORT = 15017;
const MONITORING_PORT = 15014;
const GATEWAY_HEALTH_PORT = 15021;

/**
 * Default deny plus exact allows for the platform namespaces (design.md section 7): istiod in the
 * mesh root, the ingress gateway, and CoreDNS when asked.
 */
export function renderPlatformPolicies(scope: Construct, model: PolicyModel, net: PlatformNetworkProps, policies: NetworkPolicyRenderer): void {
  const p = model.platform;
  const tcp = (ports: number[]) => ports.map(x => kplus.NetworkPolicyPort.tcp(x));
  const dnsPorts = [kplus.NetworkPolicyPort.udp(p.dnsPort), kplus.NetworkPolicyPort.tcp(p.dnsPort)];
  const apiServer = [...(net.apiServerServiceCidr ? [net.apiServerServiceCidr] : []), ...net.controlPlaneCidrs];

  // Mesh root: istiod.
  const root = new Construct(scope, 'MeshRoot');
  policies.defaultDeny(root, p.rootNamespace);
  const istiod = policies.platformPolicy(root, 'Istiod', 'zero-trust.istiod', p.rootNamespace, p.istiodLabels);
  istiod.addIngressRule(policies.anyPod(root, 'AllMeshedPods'), tcp([p.istiodXdsPort]));
  allowFromCidrs(istiod, 'ingress', root, 'ControlPlane', net.controlPlaneCidrs, tcp([WEBHOOK_PORT]));
  if (net.scraperCidrs && net.scraperCidrs.length > 0) {
    allowFromCidrs(istiod, 'ingress', root, 'Scrapers', net.scraperCidrs, tcp([MONITORING_PORT]));
  }
  allowFromCidrs(istiod, 'egress', root, 'ApiServer', apiServer, tcp([443]));
  istiod.addEgressRule(policies.dnsPeer(root), dnsPorts);

  // Ingress gateway: from its load balancer only; to the services that admit it.
  const gw = new Construct(scope, 'IngressGateway');
  policies.defaultDeny(gw, p.gatewayNamespace);
  const gateway = policies.platformPolicy(gw, 'Gateway', OBJECT_NAMES.ingressGateway, p.gatewayNamespace, p.gatewayLabels);
  allowFromCidrs(gateway, 'ingress', gw, 'LoadBalancer', net.loadBalancerCidrs, tcp([...p.gatewayPorts, GATEWAY_HEALTH_PORT]));
  const backends = model.services
    .map(s => ({ service: s, ports: [...new Set(s._inboundAllows().filter(a => a.caller.kind === 'ingress-gateway').map(a => a.port))].sort((a, b) => a - b) }))
    .filter(b => b.ports.length > 0);
  backends.forEach((b, i) => gateway.addEgressRule(policies.peerOf(gw, `Backend${i}`, servicePeer(b.service)), tcp(b.ports)));
  gateway.addEgressRule(policies.istiodPeer(gw), tcp([p.istiodXdsPort]));
  gateway.addEgressRule(policies.dnsPeer(gw), dnsPorts);

  if (net.coreDns) {
    const dns = new Construct(scope, 'CoreDns');
    const coredns = policies.platformPolicy(dns, 'CoreDns', 'zero-trust.coredns', p.dnsNamespace, p.dnsLabels);
    coredns.addIngressRule(policies.anyPod(dns, 'AllPods'), dnsPorts);
    allowFromCidrs(coredns, 'egress', dns, 'Resolver', [net.coreDns.resolverCidr], dnsPorts);
    allowFromCidrs(coredns, 'egress', dns, 'ApiServer', apiServer, tcp([443]));
  }
}

/** One ipBlock peer per CIDR: cdk8s-plus takes one peer per rule, so each CIDR gets a rule with the same ports. */
function allowFromCidrs(policy: kplus.NetworkPolicy, direction: 'ingress' | 'egress', scope: Construct, id: string, cidrs: string[], ports: kplus.NetworkPolicyPort[]): void {
  cidrs.forEach((cidr, i) => {
    const block = cidr.includes(':') ? kplus.NetworkPolicyIpBlock.ipv6(scope, `${id}${i}`, cidr) : kplus.NetworkPolicyIpBlock.ipv4(scope, `${id}${i}`, cidr);
    if (direction === 'ingress') {
      policy.addIngressRule(block, ports);
    } else {
      policy.addEgressRule(block, ports);
    }
  });
}
