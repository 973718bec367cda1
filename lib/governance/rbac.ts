/**
 * Namespace-scoped Kubernetes RBAC the library emits: the editor Role that human editors are bound
 * to, and the Roles of service accounts that ask for Kubernetes API access by name (controls.md
 * K8S-10, K8S-11). Plain objects, no aws-cdk-lib: the AWS layer applies them.
 */
import { MANAGED_BY_LABEL } from './zero-trust-guardrails';
import { isDns1123Label } from '../model/names';

/** One RBAC rule of a service's Kubernetes API access: exact API groups, resources and verbs. */
export interface KubernetesApiRule {
  /** API groups (`''` is the core group). No `*`. */
  readonly apiGroups: string[];
  /** Resources (e.g. `configmaps`, `leases`). No `*`. */
  readonly resources: string[];
  /** Verbs (e.g. `get`, `list`, `watch`). No `*`, `escalate`, `bind` or `impersonate`. */
  readonly verbs: string[];
  /**
   * Restrict the rule to these object names.
   * @default - every object of the resources in the namespace
   */
  readonly resourceNames?: string[];
}

/** A Kubernetes object as plain JSON. @internal */
export type KubeObject = Record<string, unknown>;

/** Verbs that let a holder gain permissions it was not given. */
const ESCALATING_VERBS = ['bind', 'escalate', 'impersonate'];
/** Sub-resources that hand out a shell, a tunnel or a credential. */
const FORBIDDEN_RESOURCES = ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'serviceaccounts/token', 'nodes/proxy'];

/** The group that editors of a namespace carry in their access entry. */
export function editorGroup(namespace: string): string {
  return `zero-trust:${namespace}:editors`;
}

/** The group that editors who may also use Secrets carry. */
export function secretEditorGroup(namespace: string): string {
  return `zero-trust:${namespace}:secret-editors`;
}

/** Names of the library's Roles (fixed names carry a dot, so they never collide with a service's name). */
export const RBAC_NAMES = {
  editor: 'zero-trust.editor',
  secretEditor: 'zero-trust.secret-editor',
  serviceRole: (serviceAccount: string) => `zero-trust.api.${serviceAccount}`,
} as const;

const WRITE = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const READ = ['get', 'list', 'watch'];

/**
 * What editors may do in a namespace: run and change workloads, Services, ConfigMaps and traffic
 * routing. Not NetworkPolicies, Istio security kinds, RBAC, ServiceAccounts, Secrets, exec, attach
 * or port-forward.
 */
export const EDITOR_RULES: KubernetesApiRule[] = [
  { apiGroups: [''], resources: ['configmaps', 'persistentvolumeclaims', 'pods', 'services'], verbs: WRITE },
  { apiGroups: [''], resources: ['endpoints', 'events', 'pods/log', 'pods/status', 'serviceaccounts'], verbs: READ },
  { apiGroups: ['apps'], resources: ['daemonsets', 'deployments', 'deployments/scale', 'replicasets', 'statefulsets', 'statefulsets/scale'], verbs: WRITE },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: WRITE },
  { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: WRITE },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: WRITE },
  { apiGroups: ['networking.istio.io'], resources: ['virtualservices'], verbs: WRITE },
];

/** The extra rule of editors that were explicitly given Secrets. */
export const SECRET_RULES: KubernetesApiRule[] = [{ apiGroups: [''], resources: ['secrets'], verbs: WRITE }];

function labels(): Record<string, string> {
  return { [MANAGED_BY_LABEL.key]: MANAGED_BY_LABEL.value };
}

function ruleObject(rule: KubernetesApiRule): KubeObject {
  return {
    apiGroups: [...rule.apiGroups],
    resources: [...rule.resources],
    verbs: [...rule.verbs],
    ...(rule.resourceNames && rule.resourceNames.length > 0 ? { resourceNames: [...rule.resourceNames] } : {}),
  };
}

/** A namespaced Role. */
export function roleObject(namespace: string, name: string, rules: KubernetesApiRule[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name, namespace, labels: labels() },
    rules: rules.map(ruleObject),
  };
}

/** A RoleBinding of a Role to groups or to a service account. */
export function roleBindingObject(namespace: string, name: string, subjects: Array<{ kind: 'Group' | 'ServiceAccount'; name: string }>): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace, labels: labels() },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: subjects.map(s => (s.kind === 'Group'
      ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: s.name }
      : { kind: 'ServiceAccount', name: s.name, namespace })),
  };
}

/** The editor Roles and their bindings in one namespace (the secret editor only when someone asked for it). */
export function editorObjects(namespace: string, withSecrets: boolean): KubeObject[] {
  const objects = [
    roleObject(namespace, RBAC_NAMES.editor, EDITOR_RULES),
    roleBindingObject(namespace, RBAC_NAMES.editor, [{ kind: 'Group', name: editorGroup(namespace) }]),
  ];
  if (withSecrets) {
    objects.push(
      roleObject(namespace, RBAC_NAMES.secretEditor, SECRET_RULES),
      roleBindingObject(namespace, RBAC_NAMES.secretEditor, [{ kind: 'Group', name: secretEditorGroup(namespace) }]),
    );
  }
  return objects;
}

/** The Role and RoleBinding of a service account that asked for Kubernetes API access. */
export function serviceAccountObjects(namespace: string, serviceAccount: string, rules: KubernetesApiRule[]): KubeObject[] {
  const name = RBAC_NAMES.serviceRole(serviceAccount);
  return [
    roleObject(namespace, name, rules),
    roleBindingObject(namespace, name, [{ kind: 'ServiceAccount', name: serviceAccount }]),
  ];
}

/**
 * Checks a service's rules: non-empty lists, no wildcard, no escalating verb, no shell, tunnel or
 * token sub-resource. Throws an error naming the owner, the field, the value and the fix.
 */
export function checkApiRules(owner: string, field: string, rules: KubernetesApiRule[]): void {
  if (rules.length === 0) {
    throw new Error(`${owner}: ${field} is empty. Fix: leave it out (no Kubernetes RBAC), or list the exact API groups, resources and verbs the service needs.`);
  }
  rules.forEach((rule, i) => {
    const at = `${field}[${i}]`;
    for (const [key, values] of [['apiGroups', rule.apiGroups], ['resources', rule.resources], ['verbs', rule.verbs]] as const) {
      if (values.length === 0) {
        throw new Error(`${owner}: ${at}.${key} is empty. Fix: name the exact ${key} (the core API group is "").`);
      }
      for (const value of values) {
        if (value.includes('*')) {
          throw new Error(`${owner}: ${at}.${key} contains the wildcard "${value}" (controls.md K8S-10). Fix: list the exact ${key} the service needs.`);
        }
      }
    }
    for (const verb of rule.verbs) {
      if (ESCALATING_VERBS.includes(verb.toLowerCase())) {
        throw new Error(`${owner}: ${at}.verbs contains "${verb}", which lets the service grant itself more than it was given (controls.md K8S-10). `
          + 'Fix: remove it; a service never needs escalate, bind or impersonate.');
      }
    }
    for (const resource of rule.resources) {
      if (FORBIDDEN_RESOURCES.includes(resource.toLowerCase())) {
        throw new Error(`${owner}: ${at}.resources contains "${resource}", which opens a shell, a tunnel or a credential (controls.md K8S-10). `
          + 'Fix: remove it; call the API the service needs instead.');
      }
    }
    for (const name of rule.resourceNames ?? []) {
      if (name.trim() === '' || name.includes('*')) {
        throw new Error(`${owner}: ${at}.resourceNames contains "${name}". Fix: name exact objects, or leave resourceNames out.`);
      }
    }
  });
}

/** Checks a namespace list of an access grant: non-empty, namespace names, no duplicates. */
export function checkNamespaceList(owner: string, field: string, namespaces: string[]): string[] {
  if (namespaces.length === 0) {
    throw new Error(`${owner}: ${field} is empty, so the grant would give nothing (or, to EKS, the whole cluster). `
      + 'Fix: list the namespaces the principal works in.');
  }
  const seen = new Set<string>();
  for (const ns of namespaces) {
    if (!isDns1123Label(ns)) {
      throw new Error(`${owner}: ${field} contains "${ns}", which is not a namespace name. Fix: use a lower-case DNS label such as "shop".`);
    }
    if (seen.has(ns)) {
      throw new Error(`${owner}: ${field} lists "${ns}" twice. Fix: list each namespace once.`);
    }
    seen.add(ns);
  }
  return [...seen].sort();
}
