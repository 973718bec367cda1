import { declarationError } from './errors';
import { isDns1123Label, isDns1123Subdomain, isToken } from './names';
import { checkPort } from './validation';

/**
 * How callers reach an external endpoint, which decides how the sidecar recognizes the traffic
 * under `REGISTRY_ONLY`.
 */
export class ExternalEndpointProtocol {
  /**
   * TLS: the sidecar matches the SNI against the hosts, resolved by DNS (an AWS API behind VPC
   * endpoints, a managed database). The default.
   */
  public static readonly TLS = new ExternalEndpointProtocol('TLS');
  /**
   * Opaque TCP to fixed addresses: the sidecar matches the destination IP against the CIDRs (the
   * ServiceEntry's `addresses`, resolution NONE) and forwards to the address the client dialled;
   * the hosts only name the entry. For node-local agents on link-local addresses, such as the EKS
   * Pod Identity Agent on 169.254.170.23:80, which speak plain HTTP without a DNS name.
   */
  public static readonly TCP = new ExternalEndpointProtocol('TCP');
  private constructor(
    /** The Istio port protocol (`TLS` or `TCP`). */
    public readonly name: string,
  ) {}
}

/** Options of an endpoint outside the mesh that declared services may call. */
export interface ExternalEndpointOptions {
  /**
   * Its DNS names, as clients call them (e.g. 'sts.eu-west-1.amazonaws.com'); a leading '*.' is
   * allowed. They become the Istio ServiceEntry hosts and the callers' Sidecar egress hosts. With
   * `ExternalEndpointProtocol.TCP` they only name the entry (e.g. 'eks-pod-identity-agent.internal').
   */
  readonly hosts: string[];
  /**
   * The addresses those names resolve to, as CIDRs: the callers' NetworkPolicy egress ipBlocks.
   * Name narrow, dedicated ranges (e.g. the VPC endpoint subnets), never node or pod subnets.
   */
  readonly cidrs: string[];
  /**
   * The port callers connect to.
   * @default 443
   */
  readonly port?: number;
  /**
   * How callers reach it: TLS matched by SNI, or opaque TCP matched by destination address (the
   * CIDRs then also become the ServiceEntry's `addresses`).
   * @default ExternalEndpointProtocol.TLS
   */
  readonly protocol?: ExternalEndpointProtocol;
}

/**
 * An endpoint outside the mesh (an AWS API behind VPC endpoints, a database service, a node-local
 * agent on a link-local address): declared
 * once with `ZeroTrustPolicyChart.addExternalEndpoint`, opened per service with `allowEgressTo`.
 */
export class ExternalEndpoint {
  /**
   * Checks and creates an endpoint (use `ZeroTrustPolicyChart.addExternalEndpoint`).
   * @internal
   */
  public static _create(owner: string, name: string, options: ExternalEndpointOptions): ExternalEndpoint {
    const subject = `${owner} external endpoint '${name}'`;
    if (!isDns1123Label(name)) {
      throw declarationError(subject, 'name', name, 'must be a lowercase RFC 1123 label', "use e.g. 'aws-sts'");
    }
    if (options.hosts.length === 0) {
      throw declarationError(subject, 'hosts', options.hosts, 'must not be empty', "name the DNS names clients call, e.g. ['sts.eu-west-1.amazonaws.com']");
    }
    for (const host of options.hosts) {
      const bare = host.startsWith('*.') ? host.slice(2) : host;
      if (!isToken(host) && !isDns1123Subdomain(bare)) {
        throw declarationError(subject, 'hosts', host, "must be a DNS name (a leading '*.' is allowed)", "use e.g. 'sts.eu-west-1.amazonaws.com'");
      }
    }
    if (options.cidrs.length === 0) {
      throw declarationError(subject, 'cidrs', options.cidrs, 'must not be empty', 'name the CIDRs the hosts resolve to, e.g. the VPC endpoint subnets');
    }
    for (const cidr of options.cidrs) {
      if (isToken(cidr)) {
        continue;
      }
      const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr) ?? /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(cidr);
      if (!match || (cidr.includes('.') && (match[1].split('.').some(o => Number(o) > 255) || Number(match[2]) > 32)) || Number(match[2]) > 128) {
        throw declarationError(subject, 'cidrs', cidr, 'must be a CIDR', "use e.g. '10.0.8.0/27'");
      }
      if (Number(match[2]) === 0) {
        throw declarationError(subject, 'cidrs', cidr, 'opens egress to every address', 'name the narrow ranges the hosts resolve to');
      }
    }
    const port = options.port ?? 443;
    checkPort(subject, 'port', port);
    const protocol = options.protocol ?? ExternalEndpointProtocol.TLS;
    if (protocol !== ExternalEndpointProtocol.TLS && protocol !== ExternalEndpointProtocol.TCP) {
      throw declarationError(subject, 'protocol', (protocol as { name?: unknown } | undefined)?.name ?? protocol, 'must be ExternalEndpointProtocol.TLS or ExternalEndpointProtocol.TCP',
        'leave protocol out for a TLS endpoint, or pass ExternalEndpointProtocol.TCP for fixed addresses');
    }
    return new ExternalEndpoint(name, [...new Set(options.hosts)].sort(), [...new Set(options.cidrs)].sort(), port, protocol);
  }

  private constructor(
    /** The endpoint's name: the name of its ServiceEntry. */
    public readonly name: string,
    /** Its DNS names, sorted. */
    public readonly hosts: string[],
    /** Its CIDRs, sorted. */
    public readonly cidrs: string[],
    /** The port callers connect to. */
    public readonly port: number,
    /** How callers reach it (TLS by SNI, or TCP by destination address). */
    public readonly protocol: ExternalEndpointProtocol,
  ) {}
}
