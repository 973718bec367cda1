import { App, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { Microservice, ServicePort, ZeroTrustPolicyChart } from '../../lib';

/**
 * Random service graphs for property tests: services with ports in a few namespaces, and allows
 * between them that are valid by construction (no self-loops, ports the callee exposes, L7
 * restrictions only on HTTP/gRPC ports, and one caller->callee pair either always or never restricted).
 */

export type Proto = 'http' | 'grpc' | 'tcp';
export interface PortSpec { readonly protocol: Proto; readonly port: number; readonly targetPort: number }
export interface ServiceSpec {
  readonly name: string;
  readonly namespace: string;
  readonly ports: readonly PortSpec[];
  /** Non-default pod labels (always containing the name, so no two services' labels nest). */
  readonly podLabels?: Readonly<Record<string, string>>;
  /**
   * Non-default service account: `<name>.sa` (a dot, so it never equals another service's default), or
   * `shared.sa`, shared by every service of the namespace that draws it (such services call nobody:
   * a caller's identity may not be shared).
   */
  readonly serviceAccountName?: string;
}
export interface Restriction { readonly methods?: readonly string[]; readonly paths?: readonly string[] }
/** `caller` is a service index or the ingress gateway; `ports` are callee target ports (undefined: all). */
export interface AllowSpec { readonly caller: number | 'gateway'; readonly callee: number; readonly ports?: readonly number[]; readonly restriction?: Restriction }
export interface GraphSpec { readonly services: readonly ServiceSpec[]; readonly allows: readonly AllowSpec[] }

export const NAMESPACES = ['ns-a', 'ns-b', 'ns-c'] as const;
export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
/** Path patterns we declare, and the sample request paths each one matches (an oracle table, not a matcher). */
export const PATH_MATCHES: Readonly<Record<string, readonly string[]>> = {
  '/a': ['/a'],
  '/b/c': ['/b/c'],
  '/api/*': ['/api/', '/api/x', '/api/x/y'],
  '/users/{*}/orders': ['/users/7/orders'],
};
export const SAMPLE_PATHS = ['/a', '/b/c', '/api/x', '/api/x/y', '/users/7/orders', '/users/7/8/orders', '/zzz', '/a/b'] as const;

const nameArb = fc.stringMatching(/^[a-z]([-a-z0-9]{0,14}[a-z0-9])?$/);

/** Ports the Istio sidecar uses in every pod: the model refuses them as container ports. */
const SIDECAR_PORTS = new Set([15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090]);
const containerPortArb = fc.integer({ min: 1, max: 65535 }).filter(p => !SIDECAR_PORTS.has(p));

const portArb: fc.Arbitrary<PortSpec> = fc.record({
  protocol: fc.constantFrom<Proto>('http', 'grpc', 'tcp'),
  port: fc.integer({ min: 1, max: 65535 }),
  retarget: fc.option(containerPortArb, { freq: 3 }),
}).map(({ protocol, port, retarget }) => ({ protocol, port, targetPort: retarget ?? (SIDECAR_PORTS.has(port) ? port + 100 : port) }));

const serviceShapeArb = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  labelStyle: fc.constantFrom('default', 'default', 'app', 'tiered'),
  tier: fc.constantFrom('web', 'data', 'batch'),
  account: fc.constantFrom('default', 'own', 'shared'),
  // Unique service ports; target ports made unique too (one container port, one protocol).
  ports: fc.uniqueArray(portArb, { maxLength: 3, selector: p => p.port })
    .map(ps => ps.filter((p, i) => ps.findIndex(q => q.targetPort === p.targetPort) === i)),
});

const restrictionArb: fc.Arbitrary<Restriction> = fc.record({
  methods: fc.option(fc.subarray([...METHODS], { minLength: 1 }), { nil: undefined }),
  paths: fc.option(fc.subarray(Object.keys(PATH_MATCHES), { minLength: 1 }), { nil: undefined }),
}).map(r => (r.methods === undefined && r.paths === undefined ? { methods: ['GET'] } : r));

interface RawAllow { readonly caller: number | 'gateway'; readonly callee: number; readonly portMask?: readonly boolean[]; readonly restriction?: Restriction }

const rawAllowArb: fc.Arbitrary<RawAllow> = fc.record({
  caller: fc.oneof({ weight: 9, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.constant<'gateway'>('gateway') }),
  callee: fc.nat(),
  portMask: fc.option(fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), { nil: undefined }),
  restriction: fc.option(restrictionArb, { nil: undefined, freq: 3 }),
});

/** A random valid declaration with 1..maxServices services. */
export function graphArb(maxServices = 40): fc.Arbitrary<GraphSpec> {
  // Sizes are drawn explicitly: fast-check's default size would keep arrays small.
  return fc.integer({ min: 1, max: maxServices })
    .chain(n => fc.uniqueArray(nameArb, { minLength: n, maxLength: n }))
    .chain(names => fc.tuple(
      fc.array(serviceShapeArb, { minLength: names.length, maxLength: names.length }),
      fc.array(rawAllowArb, { maxLength: names.length * 3, size: 'max' }),
    ).map(([shapes, raw]) => {
      const services = names.map((name, i): ServiceSpec => {
        const { namespace, ports, labelStyle, tier, account } = shapes[i];
        const podLabels: Record<string, string> | undefined = labelStyle === 'app' ? { app: name } : labelStyle === 'tiered' ? { 'app.kubernetes.io/name': name, tier } : undefined;
        const serviceAccountName = account === 'own' ? `${name}.sa` : account === 'shared' ? 'shared.sa' : undefined;
        return { name, namespace, ports, podLabels, serviceAccountName };
      });
      return { services, allows: normalizeAllows(services, raw) };
    }));
}

function normalizeAllows(services: readonly ServiceSpec[], raw: readonly RawAllow[]): AllowSpec[] {
  const n = services.length;
  const restrictedPair = new Map<string, Restriction | undefined>();
  const out: AllowSpec[] = [];
  for (const r of raw) {
    const callee = r.callee % n;
    const caller = r.caller === 'gateway' ? 'gateway' : r.caller % n;
    const targets = services[callee].ports;
    if (caller === callee || targets.length === 0 || (caller !== 'gateway' && sharesAccount(services, caller))) {
      continue;
    }
    const pair = `${caller}->${callee}`;
    const l7 = targets.filter(p => p.protocol !== 'tcp').map(p => p.targetPort);
    if (!restrictedPair.has(pair)) {
      restrictedPair.set(pair, l7.length > 0 ? r.restriction : undefined); // the pair's first allow decides
    }
    const pairRestriction = restrictedPair.get(pair);
    let ports = r.portMask === undefined ? undefined : targets.filter((_, i) => r.portMask![i]).map(p => p.targetPort);
    if (ports !== undefined && ports.length === 0) {
      ports = [targets[0].targetPort];
    }
    if (pairRestriction === undefined) {
      out.push({ caller, callee, ports });
      continue;
    }
    const restricted = (ports ?? l7).filter(p => l7.includes(p));
    out.push({ caller, callee, ports: restricted.length > 0 ? restricted : [l7[0]], restriction: r.restriction ?? pairRestriction });
  }
  return out;
}

/** Whether another service of the same namespace runs under the same service account. */
function sharesAccount(services: readonly ServiceSpec[], i: number): boolean {
  const account = (s: ServiceSpec) => s.serviceAccountName ?? s.name;
  return services.some((s, j) => j !== i && s.namespace === services[i].namespace && account(s) === account(services[i]));
}

function servicePort(p: PortSpec): ServicePort {
  const options = p.targetPort === p.port ? {} : { targetPort: p.targetPort };
  return p.protocol === 'http' ? ServicePort.http(p.port, options) : p.protocol === 'grpc' ? ServicePort.grpc(p.port, options) : ServicePort.tcp(p.port, options);
}

/** Declares the graph in a fresh chart (in `app`, a fresh test app by default). */
export function buildChart(spec: GraphSpec, app: App = Testing.app()): { chart: ZeroTrustPolicyChart; services: Microservice[] } {
  const chart = new ZeroTrustPolicyChart(app, 'graph', { namespace: NAMESPACES[0] });
  const services = spec.services.map(s => chart.addService(s.name, {
    namespace: s.namespace,
    ports: s.ports.map(servicePort),
    podLabels: s.podLabels ? { ...s.podLabels } : undefined,
    serviceAccountName: s.serviceAccountName,
  }));
  for (const a of spec.allows) {
    const options = {
      ports: a.ports ? [...a.ports] : undefined,
      methods: a.restriction?.methods ? [...a.restriction.methods] : undefined,
      paths: a.restriction?.paths ? [...a.restriction.paths] : undefined,
    };
    if (a.caller === 'gateway') {
      services[a.callee].allowFromIngressGateway(options);
    } else {
      services[a.callee].allowFrom(services[a.caller], options);
    }
  }
  return { chart, services };
}

/** The pod labels a service's pods carry. */
export function podLabelsOf(s: ServiceSpec): Record<string, string> {
  return { ...(s.podLabels ?? { 'app.kubernetes.io/name': s.name }) };
}

/** The service account a service's pods run as. */
export function serviceAccountOf(s: ServiceSpec): string {
  return s.serviceAccountName ?? s.name;
}

/** The target ports an allow opens. */
export function allowPorts(spec: GraphSpec, a: AllowSpec): readonly number[] {
  return a.ports ?? spec.services[a.callee].ports.map(p => p.targetPort);
}
