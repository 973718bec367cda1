import { Construct, IConstruct } from 'constructs';
import { AllowOptions } from './allow-options';
import { declarationError, show } from './errors';
import { ExternalEndpoint } from './external-endpoint';
import { Caller, callerKey, InboundAllow } from './inbound-allow';
import type { PolicyModel } from './policy-model';
import { normalizeRestriction, restrictionKey } from './request-restriction';
import { ServicePort } from './service-port';

/** A declared microservice: one workload identity with its pods, ports and callers. */
export interface IMicroservice extends IConstruct {
  /** The service's name: also the name of its Kubernetes Service and of its policies. */
  readonly name: string;
  /** The namespace its pods run in. */
  readonly namespace: string;
  /** The service account its pods run as: its identity. */
  readonly serviceAccountName: string;
  /** The labels that select its pods. */
  readonly podLabels: { [key: string]: string };
  /** The ports it exposes (none for a client-only service). */
  readonly ports: ServicePort[];
  /** Its SPIFFE identity as Istio sees it: `<trustDomain>/ns/<namespace>/sa/<serviceAccountName>`. */
  readonly principal: string;
}

/** Options of `addService`. */
export interface MicroserviceOptions {
  /**
   * The namespace of the service's pods.
   * @default - the chart's namespace (`namespace` prop), else the chart's id
   */
  readonly namespace?: string;
  /**
   * The service account the pods run as. Services that share one are one identity to Istio.
   * @default - the service name
   */
  readonly serviceAccountName?: string;
  /**
   * The labels that select the service's pods (and only them) in its namespace.
   * @default { 'app.kubernetes.io/name': <service name> }
   */
  readonly podLabels?: { [key: string]: string };
  /**
   * The ports the service exposes. Leave empty for a client-only service (a job, a load generator).
   * @default - none
   */
  readonly ports?: ServicePort[];
}

/**
 * A microservice declared with `ZeroTrustPolicyChart.addService`. Call `allowFrom` to open
 * exactly one flow; everything not allowed is denied at both layers (NetworkPolicy and Istio).
 */
export class Microservice extends Construct implements IMicroservice {
  /**
   * Creates a service in a policy model (use `ZeroTrustPolicyChart.addService`).
   * @internal
   */
  public static _create(scope: Construct, model: PolicyModel, name: string, options: MicroserviceOptions): Microservice {
    return new Microservice(scope, model, name, options);
  }

  public readonly name: string;
  public readonly namespace: string;
  public readonly serviceAccountName: string;
  public readonly podLabels: { [key: string]: string };
  public readonly ports: ServicePort[];
  public readonly principal: string;

  /** @internal */
  public readonly _model: PolicyModel;
  /** Allows by `callerKey|port`, then by restriction key ('' = unrestricted). */
  private readonly inbound = new Map<string, Map<string, InboundAllow>>();
  private readonly external = new Map<string, ExternalEndpoint>();
  private readonly accountAnnotations = new Map<string, string>();

  private constructor(scope: Construct, model: PolicyModel, name: string, options: MicroserviceOptions) {
    super(scope, name);
    this._model = model;
    this.name = name;
    this.namespace = options.namespace ?? model.defaultNamespace;
    this.serviceAccountName = options.serviceAccountName ?? name;
    this.podLabels = { ...(options.podLabels ?? { 'app.kubernetes.io/name': name }) };
    this.ports = [...(options.ports ?? [])];
    this.principal = model.principalOf(this.namespace, this.serviceAccountName);
  }

  /**
   * Allows `caller` to call this service: on every port, or only on `options.ports`
   * (target ports), and only with `options.methods` and `options.paths` when given.
   * Repeated calls never widen one another.
   */
  public allowFrom(caller: IMicroservice, options: AllowOptions = {}): void {
    const subject = `service '${this.name}'`;
    const declared = this._model.resolveCaller(this, caller);
    if (declared === this) {
      throw declarationError(subject, 'allowFrom caller', caller.name, 'is the service itself',
        "calls inside one pod use localhost and need no policy; if replicas must reach each other, declare the peer role as its own service (e.g. addService('" + this.name + "-peer', ...)) and allow from it");
    }
    const twin = this._model.sharingIdentity(declared);
    if (twin) {
      throw declarationError(subject, 'allowFrom caller', declared.name,
        `shares service account '${declared.serviceAccountName}' in namespace '${declared.namespace}' with service '${twin.name}', so Istio cannot tell them apart: allowing one would admit both`,
        `give '${declared.name}' a dedicated serviceAccountName`);
    }
    this.addAllows({ kind: 'service', service: declared }, options, `allowFrom(${show(declared.name)})`);
    this._model.markCaller(declared);
  }

  /**
   * Allows this service to call an endpoint outside the mesh: egress on its port to its CIDRs
   * only, and its hosts in a ServiceEntry and in the namespace's Sidecar.
   */
  public allowEgressTo(endpoint: ExternalEndpoint): void {
    const declared = this._model.externalEndpoint(endpoint.name);
    if (declared !== endpoint) {
      throw declarationError(`service '${this.name}'`, 'allowEgressTo endpoint', endpoint.name, `is not an external endpoint declared in ${this._model.owner}`,
        `declare it with addExternalEndpoint('${endpoint.name}', {...}) on the same chart`);
    }
    this.external.set(endpoint.name, endpoint);
  }

  /**
   * Adds an annotation to the service account (e.g. the IRSA role ARN). A later call with the
   * same key replaces the value.
   */
  public annotateServiceAccount(key: string, value: string): void {
    this.accountAnnotations.set(key, value);
  }

  /**
   * The external endpoints this service may call, sorted by name.
   * @internal
   */
  public _externalEndpoints(): ExternalEndpoint[] {
    return [...this.external.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * The service account's annotations, sorted by key.
   * @internal
   */
  public _serviceAccountAnnotations(): Record<string, string> {
    return Object.fromEntries([...this.accountAnnotations].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Allows the Istio ingress gateway to forward north-south traffic to this service. */
  public allowFromIngressGateway(options: AllowOptions = {}): void {
    this.addAllows({ kind: 'ingress-gateway' }, options, 'allowFromIngressGateway');
  }

  /**
   * Every admitted (caller, port, restriction), in a stable order.
   * @internal
   */
  public _inboundAllows(): InboundAllow[] {
    const out: InboundAllow[] = [];
    for (const byRestriction of this.inbound.values()) {
      out.push(...byRestriction.values());
    }
    return out;
  }

  private addAllows(caller: Caller, options: AllowOptions, call: string): void {
    const subject = `service '${this.name}' ${call}`;
    if (this.ports.length === 0) {
      throw declarationError(subject, 'ports', [], 'cannot be allowed: the service exposes no ports', 'declare its ports in addService, e.g. ports: [ServicePort.http(8080)]');
    }
    const restriction = normalizeRestriction(subject, options);
    const targets = this.targetPorts();
    const ports = options.ports === undefined ? [...targets.keys()] : [...new Set(options.ports)];
    if (ports.length === 0) {
      throw declarationError(subject, 'ports', [], 'must not be empty', 'leave ports out to allow every port of the service, or list target ports');
    }
    for (const port of ports) {
      const protocol = targets.get(port);
      if (protocol === undefined) {
        throw declarationError(subject, 'ports', port, `is not a target port of service '${this.name}' (it exposes ${[...targets.keys()].join(', ')})`,
          'name a target (container) port the service declares, or add it to the service\'s ports');
      }
      if (restriction && !protocol.supportsRequestMatching) {
        throw declarationError(subject, 'methods/paths', options.methods ?? options.paths, `cannot apply to port ${port}, which is ${protocol.name.toUpperCase()}: Istio never matches methods or paths there, so the rule would never allow anything`,
          'declare the port as ServicePort.http or ServicePort.grpc, or pass ports: [...] listing only HTTP/gRPC ports');
      }
    }
    const rKey = restrictionKey(restriction);
    const sorted = ports.sort((a, b) => a - b);
    // Check every port before recording any, so a failed call leaves the declaration unchanged.
    for (const port of sorted) {
      const existing = this.inbound.get(`${callerKey(caller)}|${port}`);
      const conflict = existing !== undefined && (rKey === '' ? [...existing.keys()].some(k => k !== '') : existing.has(''));
      if (conflict) {
        throw declarationError(subject, 'methods/paths', options.methods ?? options.paths ?? 'none',
          `conflicts with an earlier allow of the same caller on port ${port}: one is unrestricted and the other restricts methods/paths, and Istio ORs rules, so the restriction would be lost`,
          'keep only the unrestricted allow, or make every allow of this caller on this port restricted');
      }
    }
    for (const port of sorted) {
      const key = `${callerKey(caller)}|${port}`;
      const existing = this.inbound.get(key) ?? new Map<string, InboundAllow>();
      existing.set(rKey, { caller, port, restriction });
      this.inbound.set(key, existing);
    }
  }

  /** Target port -> protocol. */
  private targetPorts(): Map<number, ServicePort['protocol']> {
    const map = new Map<number, ServicePort['protocol']>();
    for (const p of this.ports) {
      map.set(p.targetPort, p.protocol);
    }
    return map;
  }
}
