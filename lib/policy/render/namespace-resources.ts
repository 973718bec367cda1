import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MANAGED_BY_LABELS, OBJECT_NAMES } from './object-names';
import { declarationError } from '../../model/errors';
import { isLabelKey } from '../../model/names';
import type { ContainerResourceDefaults, NamespaceResourceOptions } from '../zero-trust-policy-chart';

/** The annotation on a service Namespace that records why it has no ResourceQuota and LimitRange. */
export const NAMESPACE_RESOURCES_OPT_OUT_ANNOTATION = 'zero-trust.cdk.io/namespace-resources-opt-out';

/**
 * The ResourceQuota of every service namespace unless changed (controls.md K8S-08). Requests and
 * the memory limit bound what one tenant can take from the shared nodes; LoadBalancer and NodePort
 * Services belong only in the ingress gateway's namespace.
 */
export const DEFAULT_NAMESPACE_QUOTA: Readonly<Record<string, string>> = {
  // Sized so that 50 pods fit with room for a rolling update: each meshed pod also carries the Istio proxy
  // (by default 100m CPU and 128Mi requested, a 1Gi memory limit) next to a container with the LimitRange defaults.
  'limits.memory': '96Gi',
  'pods': '50',
  'requests.cpu': '16',
  'requests.memory': '32Gi',
  'services.loadbalancers': '0',
  'services.nodeports': '0',
};

/** What the LimitRange gives a container that sets no resources, unless changed. */
export const DEFAULT_CONTAINER_RESOURCES = {
  cpuRequest: '100m',
  memoryRequest: '128Mi',
  memoryLimit: '512Mi',
} as const;

/** Quota entries that must stay '0' in service namespaces (only the ingress gateway's namespace exposes Services outside the cluster). */
const ZERO_ONLY = ['services.loadbalancers', 'services.nodeports'];

/** The namespace resources after defaults and validation. */
export interface ResolvedNamespaceResources {
  /** Set when the user opted out: no ResourceQuota, no LimitRange, an annotation on each Namespace. */
  readonly optOutReason?: string;
  /** `spec.hard` of the ResourceQuota, sorted by key. */
  readonly quota: Readonly<Record<string, string>>;
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
  readonly cpuLimit?: string;
}

/**
 * Applies the defaults to `options` and checks every quantity, so a bad value fails when the chart
 * is created with the chart, field, value and fix in the message.
 */
export function resolveNamespaceResources(owner: string, options: NamespaceResourceOptions = {}): ResolvedNamespaceResources {
  const field = 'namespaceResources';
  if (options.optOutReason !== undefined) {
    if (typeof options.optOutReason !== 'string' || options.optOutReason.trim() === '') {
      throw declarationError(owner, `${field}.optOutReason`, options.optOutReason, 'must say why the service namespaces get no ResourceQuota and LimitRange',
        "give the reason, e.g. 'quotas are managed by the platform team's Kyverno policies', or leave optOutReason out to keep the defaults");
    }
    if (options.quota !== undefined || options.containerDefaults !== undefined) {
      throw declarationError(owner, `${field}.optOutReason`, options.optOutReason, 'cannot be combined with quota or containerDefaults, which would never be emitted',
        'either opt out (optOutReason only) or tune the quota and container defaults');
    }
    return { optOutReason: options.optOutReason.trim(), quota: {}, ...DEFAULT_CONTAINER_RESOURCES };
  }

  const quota: Record<string, string> = { ...DEFAULT_NAMESPACE_QUOTA };
  for (const [resource, value] of Object.entries(options.quota ?? {})) {
    const at = `${field}.quota['${resource}']`;
    if (!isLabelKey(resource)) {
      throw declarationError(owner, `${field}.quota key`, resource, 'must be a Kubernetes resource name (a qualified name such as requests.cpu, pods or count/deployments.apps)',
        "use a quota resource name, e.g. 'requests.cpu', 'limits.memory', 'pods' or 'count/configmaps'");
    }
    const count = isCountResource(resource);
    checkQuantity(owner, at, value, count);
    if (ZERO_ONLY.includes(resource) && parseQuantity(value) !== 0) {
      throw declarationError(owner, at, value, "must stay '0': Services of type LoadBalancer or NodePort belong only in the ingress gateway's namespace (controls.md K8S-08)",
        'expose the service through the ingress gateway (allowFromIngressGateway) instead, or leave this key out');
    }
    quota[resource] = value;
  }

  const defaults: ContainerResourceDefaults = options.containerDefaults ?? {};
  const cpuRequest = defaults.cpuRequest ?? DEFAULT_CONTAINER_RESOURCES.cpuRequest;
  const memoryRequest = defaults.memoryRequest ?? DEFAULT_CONTAINER_RESOURCES.memoryRequest;
  const memoryLimit = defaults.memoryLimit ?? DEFAULT_CONTAINER_RESOURCES.memoryLimit;
  const cpuLimit = defaults.cpuLimit;
  checkQuantity(owner, `${field}.containerDefaults.cpuRequest`, cpuRequest, false);
  checkQuantity(owner, `${field}.containerDefaults.memoryRequest`, memoryRequest, false);
  checkQuantity(owner, `${field}.containerDefaults.memoryLimit`, memoryLimit, false);
  if (cpuLimit !== undefined) {
    checkQuantity(owner, `${field}.containerDefaults.cpuLimit`, cpuLimit, false);
  }
  for (const [name, value] of [['cpuRequest', cpuRequest], ['memoryRequest', memoryRequest], ['memoryLimit', memoryLimit]] as const) {
    if (parseQuantity(value) === 0) {
      throw declarationError(owner, `${field}.containerDefaults.${name}`, value, 'must be greater than 0', `use e.g. '${DEFAULT_CONTAINER_RESOURCES[name]}'`);
    }
  }
  if (parseQuantity(memoryRequest) > parseQuantity(memoryLimit)) {
    throw declarationError(owner, `${field}.containerDefaults.memoryRequest`, memoryRequest, `is more than containerDefaults.memoryLimit '${memoryLimit}', which the API server rejects in a LimitRange`,
      'make the default memory request at most the default memory limit');
  }
  if (cpuLimit !== undefined && parseQuantity(cpuRequest) > parseQuantity(cpuLimit)) {
    throw declarationError(owner, `${field}.containerDefaults.cpuRequest`, cpuRequest, `is more than containerDefaults.cpuLimit '${cpuLimit}', which the API server rejects in a LimitRange`,
      'make the default CPU request at most the default CPU limit');
  }
  if (quota['limits.cpu'] !== undefined && cpuLimit === undefined) {
    throw declarationError(owner, `${field}.quota['limits.cpu']`, quota['limits.cpu'],
      'needs a CPU limit on every container, but the LimitRange gives containers none, so every pod that sets no CPU limit would be refused',
      "also set containerDefaults.cpuLimit (e.g. '1'), or leave limits.cpu out of the quota");
  }
  // A default larger than the namespace's whole quota would refuse every pod that relies on it.
  const fits: Array<[string, string, string[]]> = [
    ['cpuRequest', cpuRequest, ['requests.cpu', 'cpu']],
    ['memoryRequest', memoryRequest, ['requests.memory', 'memory']],
    ['memoryLimit', memoryLimit, ['limits.memory']],
    ...(cpuLimit !== undefined ? [['cpuLimit', cpuLimit, ['limits.cpu']] as [string, string, string[]]] : []),
  ];
  for (const [name, value, keys] of fits) {
    for (const key of keys.filter(k => quota[k] !== undefined)) {
      if (parseQuantity(value) > parseQuantity(quota[key])) {
        throw declarationError(owner, `${field}.containerDefaults.${name}`, value, `is more than the namespace quota ${key} '${quota[key]}', so no pod relying on the default could start`,
          `lower containerDefaults.${name} or raise quota['${key}']`);
      }
    }
  }

  const sorted = Object.fromEntries(Object.entries(quota).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { quota: sorted, cpuRequest, memoryRequest, memoryLimit, ...(cpuLimit !== undefined ? { cpuLimit } : {}) };
}

/** The namespace's ResourceQuota and LimitRange (none when opted out). */
export function renderNamespaceResources(scope: Construct, namespace: string, resources: ResolvedNamespaceResources): void {
  if (resources.optOutReason !== undefined) {
    return;
  }
  const quantities = (values: Record<string, string>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, k8s.Quantity.fromString(v)]));
  new k8s.KubeResourceQuota(scope, 'ResourceQuota', {
    metadata: { name: OBJECT_NAMES.resourceQuota, namespace, labels: MANAGED_BY_LABELS },
    spec: { hard: quantities({ ...resources.quota }) },
  });
  new k8s.KubeLimitRange(scope, 'LimitRange', {
    metadata: { name: OBJECT_NAMES.limitRange, namespace, labels: MANAGED_BY_LABELS },
    spec: {
      limits: [{
        type: 'Container',
        defaultRequest: quantities({ cpu: resources.cpuRequest, memory: resources.memoryRequest }),
        default: quantities({ ...(resources.cpuLimit !== undefined ? { cpu: resources.cpuLimit } : {}), memory: resources.memoryLimit }),
      }],
    },
  });
}

/** Object-count quota resources (`pods`, `services.nodeports`, `count/...`): whole numbers only. */
function isCountResource(resource: string): boolean {
  return resource.startsWith('count/') || resource.startsWith('services')
    || ['pods', 'configmaps', 'secrets', 'persistentvolumeclaims', 'replicationcontrollers', 'resourcequotas'].includes(resource);
}

/**
 * A Kubernetes quantity without a sign (apimachinery `resource.ParseQuantity`): a decimal number,
 * then a binary (Ki..Ei) or decimal (n, u, m, k, M..E) suffix or a decimal exponent (e3, E-2).
 */
const QUANTITY = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** Each suffix's power of 2 (binary) or of 10 (decimal). */
const BINARY_EXPONENTS: Record<string, number> = Object.fromEntries(['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'].map((s, i) => [s, 10 * (i + 1)]));
const DECIMAL_EXPONENTS: Record<string, number> = Object.fromEntries(
  [['n', -9], ['u', -6], ['m', -3], ['k', 3], ['M', 6], ['G', 9], ['T', 12], ['P', 15], ['E', 18]] as Array<[string, number]>);

function checkQuantity(owner: string, field: string, value: unknown, wholeNumber: boolean): void {
  if (typeof value !== 'string' || !QUANTITY.test(value)) {
    throw declarationError(owner, field, value, 'must be a Kubernetes quantity without a sign, e.g. 500m, 2, 512Mi or 4Gi',
      "write CPU in cores or millicores ('2', '500m') and memory in bytes with a suffix ('512Mi', '4Gi')");
  }
  if (wholeNumber && !/^\d+$/.test(value)) {
    throw declarationError(owner, field, value, 'counts objects, so it must be a whole number', "use e.g. '20'");
  }
}

/** The value of a quantity that `checkQuantity` accepted, as a number (precise enough to compare). */
export function parseQuantity(value: string): number {
  const m = QUANTITY.exec(value);
  if (!m) {
    return NaN;
  }
  const suffix = m[3] ?? '';
  const scale = suffix === '' ? 1
    : /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1))
      : BINARY_EXPONENTS[suffix] !== undefined ? 2 ** BINARY_EXPONENTS[suffix] : 10 ** DECIMAL_EXPONENTS[suffix];
  return Number(m[1]) * scale;
}
