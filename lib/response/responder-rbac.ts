import { RESPONDERS_GROUP } from '../cluster/guardrails-wiring';

/**
 * The Kubernetes RBAC of the quarantine responder: in each service namespace, a Role bound to the
 * responder's Kubernetes group. Plain objects, so the rules are read and tested alone.
 *
 * What each rule is for (and nothing else is granted: no create, update, delete, watch, no other
 * resource, no cluster-scoped role):
 * - `pods`: `get` (read the pod's uid, resourceVersion and labels before patching), `patch` (the
 *   JSON merge patch that sets the quarantine label), `list` (a finding that names a workload is
 *   resolved to the pods its selector matches; without `list`, workload findings could not be acted on).
 * - `deployments`, `replicasets`, `statefulsets`, `daemonsets` (apps) and `jobs` (batch): `get`
 *   only, to read the workload's uid (the finding's must match) and its selector.
 * - With the scale-down action only (`QuarantineAction.SCALE_DOWN`): `patch` on the `scale`
 *   subresource of `deployments` and `statefulsets` (apps), to set replicas to 0 under the
 *   workload's uid and resourceVersion. Not `update`, not `get` on the subresource (the workload's
 *   own `get` gives its replicas and resourceVersion), no other kind.
 */

/**
 * The Kubernetes group the responder's EKS access entry maps to: the same constant the cluster gives
 * the quarantine-label admission policy as its responders, so there is one group, not two.
 */
export const RESPONDER_GROUP = RESPONDERS_GROUP;

/** The Role's name in every service namespace. */
export const RESPONDER_ROLE_NAME = 'zero-trust-quarantine-responder';

/** The rules of the responder's Role. */
export const RESPONDER_RULES: ReadonlyArray<{ apiGroups: string[]; resources: string[]; verbs: string[] }> = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'patch'] },
  { apiGroups: ['apps'], resources: ['deployments', 'replicasets', 'statefulsets', 'daemonsets'], verbs: ['get'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] },
];

/** The rule the scale-down action adds, and only it. */
export const SCALE_DOWN_RULE: { apiGroups: string[]; resources: string[]; verbs: string[] } = {
  apiGroups: ['apps'], resources: ['deployments/scale', 'statefulsets/scale'], verbs: ['patch'],
};

/** A Role and a RoleBinding to the responder group per namespace; `scaleDown` adds `SCALE_DOWN_RULE`. */
export function responderRbac(namespaces: readonly string[], group: string = RESPONDER_GROUP, scaleDown: boolean = false): Record<string, unknown>[] {
  const rules = scaleDown ? [...RESPONDER_RULES, SCALE_DOWN_RULE] : RESPONDER_RULES;
  const labels = { 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks', 'app.kubernetes.io/component': 'quarantine-responder' };
  return namespaces.flatMap(namespace => [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: RESPONDER_ROLE_NAME, namespace, labels },
      rules: rules.map(r => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: RESPONDER_ROLE_NAME, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: RESPONDER_ROLE_NAME },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
    },
  ]);
}
