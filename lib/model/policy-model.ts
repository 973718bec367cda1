import { Construct } from 'constructs';
import { declarationError } from './errors';
import { ExternalEndpoint, ExternalEndpointOptions } from './external-endpoint';
import { Microservice, MicroserviceOptions, IMicroservice } from './microservice';
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, suggestLabel } from './names';
import { ResolvedPlatform, SYSTEM_NAMESPACES } from './resolved-platform';
import { checkLabels } from './validation';

/** Settings of a policy model. */
export interface PolicyModelSettings {
  /** Who owns the model, for error messages, e.g. "ZeroTrustPolicyChart 'shop'". */
  readonly owner: string;
  readonly trustDomain: string;
  readonly clusterDomain: string;
  readonly defaultNamespace: string;
  readonly platform: ResolvedPlatform;
}

/**
 * The declaration: services, their ports and who may call them. Plain data, validated as it is
 * declared, read by every renderer (design.md section 1). It imports no renderer.
 */
export class PolicyModel {
  public readonly owner: string;
  public readonly trustDomain: string;
  public readonly clusterDomain: string;
  public readonly defaultNamespace: string;
  public readonly platform: ResolvedPlatform;
  private readonly byName = new Map<string, Microservice>();
  private readonly endpoints = new Map<string, ExternalEndpoint>();
  /** Identities (`namespace/serviceAccount`) that some service is allowed to call from. */
  private readonly callerIdentities = new Set<string>();

  constructor(settings: PolicyModelSettings) {
    this.owner = settings.owner;
    this.platform = settings.platform;
    this.clusterDomain = settings.clusterDomain;
    this.trustDomain = settings.trustDomain;
    this.defaultNamespace = settings.defaultNamespace;
    if (!isDns1123Subdomain(this.trustDomain)) {
      throw declarationError(this.owner, 'trustDomain', this.trustDomain, 'must be a DNS name', "use the mesh's trust domain, e.g. 'cluster.local'");
    }
    if (!isDns1123Subdomain(this.clusterDomain)) {
      throw declarationError(this.owner, 'clusterDomain', this.clusterDomain, 'must be a DNS name', "use the cluster's DNS domain, e.g. 'cluster.local'");
    }
  }

  /** The SPIFFE principal of a service account, as Istio writes it in `source.principals`. */
  public principalOf(namespace: string, serviceAccountName: string): string {
    return `${this.trustDomain}/ns/${namespace}/sa/${serviceAccountName}`;
  }

  /** The declared services, in declaration order. */
  public get services(): Microservice[] {
    return [...this.byName.values()];
  }

  /** The namespaces that hold declared services, sorted. */
  public get namespaces(): string[] {
    return [...new Set(this.services.map(s => s.namespace))].sort();
  }

  /** Declares a service after checking everything about it; nothing is recorded when a check fails. */
  public addService(scope: Construct, name: string, options: MicroserviceOptions = {}): Microservice {
    const subject = `service ${JSON.stringify(name)}`.replace(/"/g, "'");
    if (typeof name !== 'string' || !isDns1035Label(name)) {
      throw declarationError(subject, 'name', name, 'must be a lowercase RFC 1123 label that starts with a letter (a Kubernetes Service name), at most 63 characters',
        `use e.g. '${suggestLabel(String(name))}'`);
    }
    if (this.byName.has(name)) {
      throw declarationError(subject, 'name', name, `is already declared in ${this.owner}`, 'give every service a unique name');
    }
    const namespace = options.namespace ?? this.defaultNamespace;
    this.checkNamespace(subject, namespace, options.namespace === undefined);
    const serviceAccountName = options.serviceAccountName ?? name;
    if (!isDns1123Subdomain(serviceAccountName)) {
      throw declarationError(subject, 'serviceAccountName', serviceAccountName, 'must be an RFC 1123 subdomain (lowercase alphanumerics, - and .)', `use e.g. '${suggestLabel(serviceAccountName)}'`);
    }
    if (serviceAccountName === 'default') {
      throw declarationError(subject, 'serviceAccountName', serviceAccountName, "must not be the namespace's 'default' service account, which every pod without its own identity shares",
        `leave it out to get a dedicated one ('${name}')`);
    }
    const podLabels = options.podLabels ?? { 'app.kubernetes.io/name': name };
    checkLabels(subject, 'podLabels', podLabels, true);
    if (Object.keys(podLabels).includes(this.platform.quarantineLabel)) {
      throw declarationError(subject, 'podLabels', podLabels, `must not contain the quarantine label '${this.platform.quarantineLabel}'`, 'remove it: only incident response sets it');
    }
    this.checkPorts(subject, options);
    for (const other of this.byName.values()) {
      if (other.namespace === namespace && (isSubset(podLabels, other.podLabels) || isSubset(other.podLabels, podLabels))) {
        throw declarationError(subject, 'podLabels', podLabels,
          `would select the pods of service '${other.name}' (podLabels ${JSON.stringify(other.podLabels)}) in namespace '${namespace}', or they would select these, so their policies would leak into each other`,
          "give each service in a namespace a label the other lacks, e.g. { 'app.kubernetes.io/name': '" + name + "' }");
      }
    }
    if (this.callerIdentities.has(`${namespace}/${serviceAccountName}`)) {
      throw declarationError(subject, 'serviceAccountName', serviceAccountName,
        'is the identity of a service that is already allowed to call others, so Istio could not tell the two apart',
        `give '${name}' a dedicated serviceAccountName`);
    }
    const service = Microservice._create(scope, this, name, { ...options, namespace, serviceAccountName, podLabels });
    this.byName.set(name, service);
    return service;
  }

  /** Another declared service with the same identity as `service`, if any. */
  public sharingIdentity(service: Microservice): Microservice | undefined {
    return this.services.find(s => s !== service && s.namespace === service.namespace && s.serviceAccountName === service.serviceAccountName);
  }

  /** Records that `service`'s identity is used as a caller (it may then not be shared). */
  public markCaller(service: Microservice): void {
    this.callerIdentities.add(`${service.namespace}/${service.serviceAccountName}`);
  }

  /** Declares an endpoint outside the mesh. */
  public addExternalEndpoint(name: string, options: ExternalEndpointOptions): ExternalEndpoint {
    if (this.endpoints.has(name)) {
      throw declarationError(`${this.owner} external endpoint '${name}'`, 'name', name, 'is already declared', 'give every external endpoint a unique name');
    }
    const endpoint = ExternalEndpoint._create(this.owner, name, options);
    this.endpoints.set(name, endpoint);
    return endpoint;
  }

  /** A declared external endpoint by name. */
  public externalEndpoint(name: string): ExternalEndpoint | undefined {
    return this.endpoints.get(name);
  }

  /** Finds the declared service behind `caller`, or explains why there is none. */
  public resolveCaller(callee: Microservice, caller: IMicroservice): Microservice {
    const subject = `service '${callee.name}'`;
    const declared = caller instanceof Microservice ? caller : undefined;
    if (declared && declared._model !== this) {
      throw declarationError(subject, 'allowFrom caller', caller.name, `belongs to another chart (${declared._model.owner}), so this chart cannot write its egress policy`,
        `declare '${caller.name}' in ${this.owner} with addService and allow from that service`);
    }
    const found = this.byName.get(caller.name);
    if (!found || (declared && found !== declared) || found.principal !== caller.principal) {
      throw declarationError(subject, 'allowFrom caller', caller.name, `is not a service declared in ${this.owner}`,
        `declare it first: const ${camel(caller.name)} = chart.addService('${caller.name}', {...})`);
    }
    return found;
  }

  private checkNamespace(subject: string, namespace: string, defaulted: boolean): void {
    const fromWhere = defaulted ? ' (defaulted from the chart)' : '';
    if (typeof namespace !== 'string' || !isDns1123Label(namespace)) {
      throw declarationError(subject, `namespace${fromWhere}`, namespace, 'must be a lowercase RFC 1123 label, at most 63 characters', `use e.g. '${suggestLabel(String(namespace))}'`);
    }
    const reserved: Record<string, string> = {
      [this.platform.rootNamespace]: 'the mesh root namespace (policies there apply mesh-wide)',
      [this.platform.gatewayNamespace]: "the ingress gateway's namespace",
    };
    for (const ns of SYSTEM_NAMESPACES) {
      reserved[ns] = 'reserved for Kubernetes system components';
    }
    if (reserved[namespace]) {
      throw declarationError(subject, `namespace${fromWhere}`, namespace, `is ${reserved[namespace]}`, "put the service in a namespace of its own, e.g. 'shop'");
    }
  }

  private checkPorts(subject: string, options: MicroserviceOptions): void {
    const byPort = new Map<number, number>();
    const protocolByTarget = new Map<number, string>();
    for (const p of options.ports ?? []) {
      p._validate(subject);
      const seen = byPort.get(p.port);
      if (seen !== undefined) {
        const problem = seen === p.targetPort ? 'is declared twice' : `is given two targetPorts (${seen} and ${p.targetPort})`;
        throw declarationError(subject, 'ports: port', p.port, problem, 'declare each service port once, with one targetPort');
      }
      byPort.set(p.port, p.targetPort);
      const protocol = protocolByTarget.get(p.targetPort);
      if (protocol !== undefined && protocol !== p.protocol.name) {
        throw declarationError(subject, 'ports: targetPort', p.targetPort, `is exposed as both ${protocol} and ${p.protocol.name}`, 'give a container port one protocol');
      }
      protocolByTarget.set(p.targetPort, p.protocol.name);
    }
  }
}

function isSubset(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  return Object.entries(a).every(([k, v]) => b[k] === v);
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
