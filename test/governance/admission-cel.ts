/**
 * Offline admission harness: evaluates the CEL of Gatekeeper K8sNativeValidation templates and of
 * ValidatingAdmissionPolicies with @bufbuild/cel, binding what Gatekeeper and the API server bind:
 *
 * - `object` (null on DELETE), `oldObject` (null on CREATE), `request` (operation, kind, name, namespace, userInfo);
 * - ValidatingAdmissionPolicy: `namespaceObject` (null for cluster-scoped objects);
 * - Gatekeeper: `variables.params` = the Constraint's `spec.parameters`, `variables.anyObject` = object, or
 *   oldObject on DELETE; then the template's own `source.variables`, in order;
 * - ValidatingAdmissionPolicy: the policy's `spec.variables`, in order.
 *
 * JSON values are converted like the API server converts unstructured objects (integers are CEL ints,
 * objects are maps). A compile error, an unknown function, an evaluation error, or a non-boolean result
 * throws: an expression that cannot be evaluated never passes or fails silently. Every evaluation is
 * recorded, so tests can prove that each validation both admitted and denied something.
 */
import { celEnv, CelInput, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

export type Json = Record<string, unknown>;

export interface UserInfo {
  readonly username: string;
  readonly groups?: string[];
}

export interface Review {
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE';
  readonly object?: Json;
  readonly oldObject?: Json;
  readonly userInfo?: UserInfo;
  /**
   * The subresource of the request (`status`, `eviction`, `scale`), if any. A rule's `pods` matches
   * only the main resource and a lone wildcard every main resource; subresources match only rules that
   * name them (`pods/eviction`, or a wildcard after or before the slash).
   */
  readonly subResource?: string;
}

export interface Verdict {
  readonly allowed: boolean;
  /** Messages of the failed validations (from messageExpression). */
  readonly messages: string[];
}

type Program = (bindings: Record<string, CelInput>) => unknown;

const env = celEnv({ funcs: [...strings] });
const programs = new Map<string, Program>();

/** `<policy>#<validation index>` -> outcomes seen. */
export const outcomes = new Map<string, { admitted: number; denied: number }>();

/**
 * CEL reserved words that cel-go rejects, or that the API server's typed objects expose only escaped
 * (`__namespace__`), when used as a field selection: expressions must index such keys instead.
 */
const RESERVED_SELECTION = /\.(as|break|const|continue|else|for|function|if|import|let|loop|namespace|package|return|var|void|while)\b/;

function compile(expression: string): Program {
  let program = programs.get(expression);
  if (program === undefined) {
    const withoutStrings = expression.replace(/'[^']*'|"[^"]*"/g, "''");
    if (RESERVED_SELECTION.test(withoutStrings)) {
      throw new Error(`CEL expression selects a reserved word as a field (not portable): ${expression}`);
    }
    program = plan(env, parse(expression)) as Program;
    programs.set(expression, program);
  }
  return program;
}

function run(expression: string, bindings: Record<string, CelInput>, what: string): unknown {
  const result = compile(expression)(bindings);
  if (isCelError(result)) {
    throw new Error(`CEL ${what} failed to evaluate: ${result.message}\n  expression: ${expression}`);
  }
  return result;
}

/** JSON -> CEL input, like unstructured objects in the API server. */
export function toCel(value: unknown): CelInput {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'object') return new Map(Object.entries(value as Json).map(([k, v]) => [k, toCel(v)]));
  throw new Error(`not JSON: ${String(value)}`);
}

function requestOf(review: Review): CelInput {
  const obj = review.object ?? review.oldObject ?? {};
  const meta = (obj.metadata ?? {}) as Json;
  return toCel({
    operation: review.operation,
    kind: { group: groupOf(obj.apiVersion), version: String(obj.apiVersion).split('/').pop(), kind: obj.kind },
    name: meta.name ?? '',
    namespace: meta.namespace ?? '',
    userInfo: { username: review.userInfo?.username ?? 'tenant', groups: review.userInfo?.groups ?? ['system:authenticated'] },
  });
}

interface Source {
  readonly variables?: { name: string; expression: string }[];
  readonly validations: { expression: string; messageExpression: string; message: string }[];
}

function evaluate(id: string, source: Source, base: Record<string, CelInput>, variables: Map<string, CelInput>): Verdict {
  const bindings: Record<string, CelInput> = { ...base, variables };
  for (const v of source.variables ?? []) {
    variables.set(v.name, toCelValue(run(v.expression, bindings, `variable ${v.name} of ${id}`)));
  }
  const messages: string[] = [];
  source.validations.forEach((validation, index) => {
    const result = run(validation.expression, bindings, `validation ${index} of ${id}`);
    if (typeof result !== 'boolean') throw new Error(`validation ${index} of ${id} returned a non-boolean: ${String(result)}`);
    const key = `${id}#${index}`;
    const seen = outcomes.get(key) ?? { admitted: 0, denied: 0 };
    if (result) {
      seen.admitted++;
    } else {
      seen.denied++;
      const message = run(validation.messageExpression, bindings, `messageExpression ${index} of ${id}`);
      if (typeof message !== 'string' || message.trim() === '') throw new Error(`messageExpression ${index} of ${id} is not a non-empty string`);
      messages.push(message);
    }
    outcomes.set(key, seen);
  });
  return { allowed: messages.length === 0, messages };
}

/** Results of variables are already CEL values: keep them as they are. */
function toCelValue(value: unknown): CelInput {
  return value as CelInput;
}

/** Evaluates a Gatekeeper ConstraintTemplate's K8sNativeValidation code for a Constraint. */
export function evaluateConstraint(template: Json, constraint: Json, review: Review): Verdict {
  const target = ((template.spec as Json).targets as Json[])[0];
  const code = (target.code as Json[]).find(c => c.engine === 'K8sNativeValidation');
  if (code === undefined) throw new Error('template has no K8sNativeValidation code');
  const object = toCel(review.object);
  const oldObject = toCel(review.oldObject);
  const variables = new Map<string, CelInput>([
    ['params', toCel((constraint.spec as Json).parameters ?? null)],
    ['anyObject', review.operation === 'DELETE' && review.object === undefined ? oldObject : object],
  ]);
  const name = String((template.metadata as Json).name);
  return evaluate(name, code.source as Source, { object, oldObject, request: requestOf(review) }, variables);
}

/** Evaluates a ValidatingAdmissionPolicy. */
export function evaluatePolicy(policy: Json, review: Review): Verdict {
  const spec = policy.spec as Json;
  const name = String((policy.metadata as Json).name);
  const obj = (review.object ?? review.oldObject) as Json;
  const namespace = (obj.metadata as Json).namespace;
  const base = {
    object: toCel(review.object),
    oldObject: toCel(review.oldObject),
    request: requestOf(review),
    // The API server binds the namespace's object for namespaced requests, null otherwise.
    namespaceObject: toCel(namespace === undefined ? null : { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }),
  };
  return evaluate(name, spec as unknown as Source, base, new Map());
}

function groupOf(apiVersion: unknown): string {
  const text = String(apiVersion);
  return text.includes('/') ? text.slice(0, text.indexOf('/')) : '';
}

/** Gatekeeper's match: kinds, then excludedNamespaces (a Namespace is matched by its own name). */
export function constraintMatches(constraint: Json, obj: Json): boolean {
  const match = (constraint.spec as Json).match as { kinds: { apiGroups: string[]; kinds: string[] }[]; excludedNamespaces?: string[] };
  const group = groupOf(obj.apiVersion);
  if (!match.kinds.some(k => k.apiGroups.includes(group) && k.kinds.includes(String(obj.kind)))) return false;
  const meta = obj.metadata as Json;
  const namespace = obj.kind === 'Namespace' ? meta.name : meta.namespace;
  return !(match.excludedNamespaces ?? []).includes(String(namespace));
}

const RESOURCES: Record<string, string> = {
  Pod: 'pods',
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  Service: 'services',
  NetworkPolicy: 'networkpolicies',
  ConfigMap: 'configmaps',
  PeerAuthentication: 'peerauthentications',
  AuthorizationPolicy: 'authorizationpolicies',
  Sidecar: 'sidecars',
  Telemetry: 'telemetries',
  ServiceEntry: 'serviceentries',
  ConstraintTemplate: 'constrainttemplates',
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
  EndpointSlice: 'endpointslices',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Deployment: 'deployments',
  ResourceQuota: 'resourcequotas',
  LimitRange: 'limitranges',
};

function selectorMatches(selector: Json | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return true;
  const matchLabels = (selector.matchLabels ?? {}) as Record<string, string>;
  const expressions = (selector.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[];
  return Object.entries(matchLabels).every(([k, v]) => labels[k] === v) && expressions.every(e => {
    switch (e.operator) {
      case 'Exists': return e.key in labels;
      case 'DoesNotExist': return !(e.key in labels);
      case 'In': return e.key in labels && (e.values ?? []).includes(labels[e.key]);
      case 'NotIn': return !(e.key in labels) || !(e.values ?? []).includes(labels[e.key]);
      default: throw new Error(`operator ${e.operator}`);
    }
  });
}

const labelsOf = (obj: Json | undefined) => ((obj?.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>;

/**
 * The API server's match of a policy and its binding: resource rules (main resources only), the
 * objectSelector on the old or the new object, the binding's namespaceSelector (by namespace name label).
 */
export function policyMatches(policy: Json, binding: Json, review: Review): boolean {
  const obj = (review.object ?? review.oldObject) as Json;
  const constraints = (policy.spec as Json).matchConstraints as Json;
  const resource = groupOf(obj.apiVersion) === 'constraints.gatekeeper.sh' ? String(obj.kind).toLowerCase() : RESOURCES[String(obj.kind)];
  if (resource === undefined) throw new Error(`add ${String(obj.kind)} to RESOURCES`);
  const rules = constraints.resourceRules as { apiGroups: string[]; operations: string[]; resources: string[] }[];
  const group = groupOf(obj.apiVersion);
  const sub = review.subResource;
  const resourceMatches = (listed: string) => {
    const [main, subresource] = listed.split('/');
    if (subresource === undefined) return sub === undefined && (main === resource || main === '*');
    return sub !== undefined && (main === resource || main === '*') && (subresource === sub || subresource === '*');
  };
  const ruleMatches = rules.some(r => (r.apiGroups.includes(group) || r.apiGroups.includes('*')) && r.operations.includes(review.operation)
    && r.resources.some(resourceMatches));
  if (!ruleMatches) return false;
  const selector = constraints.objectSelector as Json | undefined;
  if (!selectorMatches(selector, labelsOf(review.object)) && !selectorMatches(selector, labelsOf(review.oldObject))) return false;
  const namespaceSelector = ((binding.spec as Json).matchResources as Json | undefined)?.namespaceSelector as Json | undefined;
  const meta = obj.metadata as Json;
  if (obj.kind !== 'Namespace' && meta.namespace === undefined) return true; // other cluster-scoped objects: never skipped
  const namespace = String(obj.kind === 'Namespace' ? meta.name : meta.namespace);
  return selectorMatches(namespaceSelector, { 'kubernetes.io/metadata.name': namespace });
}
