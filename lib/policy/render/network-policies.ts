import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Peer, PortGrant } from './flows';
import { MANAGED_BY_LABELS, OBJECT_NAMES } from './object-names';
import { Microservice } from '../../model/microservice';
import { PolicyModel } from '../../model/policy-model';

/**
 * NetworkPolicies (design.md 3.4 and 3.6): default deny both ways per namespace, platform
 * egress (DNS, istiod), and per service exactly the declared flows. Every selected pod and every
 * peer excludes pods that carry the quarantine label, so a quarantined pod has no allowed flow.
 */
export class NetworkPolicyRenderer {
  private readonly notQuarantined: kplus.LabelExpression[];

  constructor(private readonly model: PolicyModel) {
    this.notQuarantined = [kplus.LabelExpression.doesNotExist(model.platform.quarantineLabel)];
  }

  /** The namespace-wide default deny, for Ingress and Egress, with no rules. */
  public defaultDeny(scope: Construct, namespace: string): void {
    new kplus.NetworkPolicy(scope, 'DefaultDeny', {
      metadata: { name: OBJECT_NAMES.defaultDeny, namespace, labels: MANAGED_BY_LABELS },
      selector: kplus.Pods.all(scope, 'AllPods'),
      ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
      egress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    });
  }

  /** DNS on UDP and TCP, and istiod's xDS/CA port, for every pod that is not quarantined. */
  public platformEgress(scope: Construct, namespace: string): void {
    const p = this.model.platform;
    const policy = new kplus.NetworkPolicy(scope, 'PlatformEgress', {
      metadata: { name: OBJECT_NAMES.platformEgress, namespace, labels: MANAGED_BY_LABELS },
      selector: kplus.Pods.select(scope, 'NotQuarantined', { expressions: this.notQuarantined }),
    });
    policy.addEgressRule(this.dnsPeer(scope), [kplus.NetworkPolicyPort.udp(p.dnsPort), kplus.NetworkPolicyPort.tcp(p.dnsPort)]);
    policy.addEgressRule(this.istiodPeer(scope), [kplus.NetworkPolicyPort.tcp(p.istiodXdsPort)]);
  }

  /**
   * One policy for the service's pods: ingress from each caller on its ports, egress to each
   * callee on its ports. Nothing is rendered for a service with neither.
   */
  public service(scope: Construct, service: Microservice, ingress: PortGrant[], egress: PortGrant[]): void {
    const external = service._externalEndpoints();
    if (ingress.length === 0 && egress.length === 0 && external.length === 0) {
      return;
    }
    const policy = new kplus.NetworkPolicy(scope, 'NetworkPolicy', {
      metadata: { name: service.name, namespace: service.namespace, labels: MANAGED_BY_LABELS },
      selector: kplus.Pods.select(scope, 'Pods', { labels: { ...service.podLabels }, expressions: this.notQuarantined }),
    });
    ingress.forEach((grant, i) => policy.addIngressRule(this.peerOf(scope, `From${i}`, grant.peer), ports(grant)));
    egress.forEach((grant, i) => policy.addEgressRule(this.peerOf(scope, `To${i}`, grant.peer), ports(grant)));
    // External endpoints: their CIDRs only, on their port (design.md 3.4).
    for (const endpoint of external) {
      endpoint.cidrs.forEach((cidr, i) => {
        const block = cidr.includes(':') ? kplus.NetworkPolicyIpBlock.ipv6(scope, `${endpoint.name}-${i}`, cidr) : kplus.NetworkPolicyIpBlock.ipv4(scope, `${endpoint.name}-${i}`, cidr);
        policy.addEgressRule(block, [kplus.NetworkPolicyPort.tcp(endpoint.port)]);
      });
    }
  }

  /** A policy for platform pods with these labels (not quarantined), with rules to add. */
  public platformPolicy(scope: Construct, id: string, name: string, namespace: string, podLabels: Readonly<Record<string, string>>): kplus.NetworkPolicy {
    return new kplus.NetworkPolicy(scope, id, {
      metadata: { name, namespace, labels: MANAGED_BY_LABELS },
      selector: kplus.Pods.select(scope, `${id}Pods`, { labels: { ...podLabels }, expressions: this.notQuarantined }),
    });
  }

  /** The cluster DNS pods. */
  public dnsPeer(scope: Construct): kplus.Pods {
    const p = this.model.platform;
    return this.peerOf(scope, 'ClusterDns', { key: 'dns', namespace: p.dnsNamespace, podLabels: p.dnsLabels, principal: '' });
  }

  /** The istiod pods. */
  public istiodPeer(scope: Construct): kplus.Pods {
    const p = this.model.platform;
    return this.peerOf(scope, 'Istiod', { key: 'istiod', namespace: p.rootNamespace, podLabels: p.istiodLabels, principal: '' });
  }

  /** Every pod that is not quarantined, in every namespace. */
  public anyPod(scope: Construct, id: string): kplus.Pods {
    return kplus.Pods.select(scope, id, { expressions: this.notQuarantined, namespaces: kplus.Namespaces.all(scope, `${id}Namespaces`) });
  }

  /** Pods with these labels (and no quarantine label) in exactly this namespace: one peer. */
  public peerOf(scope: Construct, id: string, peer: Peer): kplus.Pods {
    return kplus.Pods.select(scope, id, {
      labels: { ...peer.podLabels },
      expressions: this.notQuarantined,
      namespaces: kplus.Namespaces.select(scope, `${id}Namespace`, { names: [peer.namespace] }),
    });
  }
}

function ports(grant: PortGrant): kplus.NetworkPolicyPort[] {
  return grant.ports.map(p => kplus.NetworkPolicyPort.tcp(p));
}
