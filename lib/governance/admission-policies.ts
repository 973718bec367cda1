import { identityExpression, ResolvedIdentities } from './admission-identities';
import { celString, hasLabel } from './cel';
import { CelValidation, CelVariable } from './constraint-templates';

/** A resource rule of a ValidatingAdmissionPolicy's matchConstraints. @internal */
export interface ResourceRule {
  readonly apiGroups: string[];
  readonly apiVersions: string[];
  readonly operations: string[];
  readonly resources: string[];
}

/** A ValidatingAdmissionPolicy's content. @internal */
export interface AdmissionPolicyDefinition {
  readonly name: string;
  readonly description: string;
  readonly resourceRules: ResourceRule[];
  readonly objectSelector: Record<string, unknown>;
  readonly variables: CelVariable[];
  readonly validations: CelValidation[];
}

/** Kubernetes controllers that delete objects when their namespace or owner is deleted. */
export const LIFECYCLE_CONTROLLERS = [
  'system:serviceaccount:kube-system:generic-garbage-collector',
  'system:serviceaccount:kube-system:namespace-controller',
];

/**
 * `Kind namespace/name` for messages. `namespace` is a CEL reserved word (`request.namespace` and
 * `object.metadata.namespace` are not portable), so the namespace comes from `namespaceObject`.
 */
const OBJECT_REF_VAP = "request.kind.kind + ' ' + (namespaceObject != null ? namespaceObject.metadata.name + '/' : '') + request.name";

/** The kube-controller-manager controllers that delete pods, by their service accounts in kube-system. */
const POD_DELETING_CONTROLLERS = [
  'replicaset-controller', 'statefulset-controller', 'daemon-set-controller', 'job-controller', 'generic-garbage-collector',
  'namespace-controller', 'pod-garbage-collector', 'node-controller', 'taint-eviction-controller',
];

/**
 * Kubernetes' own components that delete pods in normal operation, as the API server authenticates
 * them: the kube-controller-manager's controllers, each with its service account in kube-system
 * (ReplicaSet, StatefulSet, DaemonSet and Job controllers, the garbage collector, the namespace
 * controller, the pod garbage collector, the node lifecycle and taint eviction controllers), the
 * controller manager and scheduler themselves (preemption deletes its victims), and the kubelets
 * (`system:node:<name>`, which remove a pod once it has terminated). Evictions (the `pods/eviction`
 * subresource: node drains, the node group's rolling update) delete without a pod DELETE admission
 * request of their own, so they need no entry here.
 */
export const POD_LIFECYCLE_IDENTITIES: ResolvedIdentities = {
  usernames: [
    'system:kube-controller-manager', 'system:kube-scheduler',
    // kube-controller-manager with --use-service-account-credentials: one service account per controller (by name,
    // so add-ons that also run in kube-system, e.g. the load balancer controller, may not delete a quarantined pod).
    ...POD_DELETING_CONTROLLERS.map(sa => `system:serviceaccount:kube-system:${sa}`),
  ],
  usernamePrefixes: ['system:node:'],
  groups: [],
};

/**
 * 8. Only responders and break-glass may add, change or remove the quarantine label of a pod, and
 * delete a quarantined pod outside Kubernetes' own lifecycle (its controller would replace it
 * unlabelled: released, with the evidence gone). Scaling or deleting the owning workload still
 * ends the pod through its controller: tenant RBAC on workloads, not this policy, governs that.
 */
export function quarantineLabelPolicy(label: string, trusted: string): AdmissionPolicyDefinition {
  const value = (obj: string) => `${obj} != null && ${hasLabel(obj, label)} ? ${obj}.metadata.labels[${celString(label)}] : '<absent>'`;
  return {
    name: 'zero-trust-quarantine-label',
    description: `Only the incident responder and break-glass identities may add, change or remove the pod label ${label}, `
      + 'or delete a pod that carries it (Kubernetes controllers and kubelets excepted) (controls.md IR-05).',
    resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['pods'] }],
    // On UPDATE the selector matches when the old or the new object carries the key; on DELETE, the old one.
    objectSelector: { matchExpressions: [{ key: label, operator: 'Exists' }] },
    variables: [
      { name: 'oldValue', expression: value('oldObject') },
      { name: 'newValue', expression: value('object') },
      { name: 'trusted', expression: trusted },
      { name: 'podLifecycle', expression: identityExpression(POD_LIFECYCLE_IDENTITIES) },
    ],
    validations: [
      {
        expression: "request.operation == 'DELETE' || variables.oldValue == variables.newValue || variables.trusted",
        message: `Only the incident responder or break-glass may set, change or remove the label ${label}.`,
        messageExpression: `${OBJECT_REF_VAP} + ': ' + request.userInfo.username + ' may not change the quarantine label ${label}`
          + ' (\' + variables.oldValue + \' -> \' + variables.newValue + \'). Fix: leave the label as it is; only the incident responder or'
          + ' break-glass may quarantine or release a pod.\'',
      },
      {
        expression: "request.operation != 'DELETE' || variables.trusted || variables.podLifecycle",
        message: `Only the incident responder, break-glass or Kubernetes controllers may delete a pod labelled ${label}.`,
        messageExpression: `${OBJECT_REF_VAP} + ' is quarantined (${label}=' + variables.oldValue + '); ' + request.userInfo.username`
          + " + ' may not delete it: that ends the quarantine (a replacement pod carries no label) and destroys the evidence."
          + " Fix: leave the pod for the investigation; the incident responder or break-glass releases or deletes it.'",
      },
    ],
  };
}

/** The kinds the library emits and labels as managed (what a tenant must not loosen). */
export const MANAGED_RESOURCE_RULES = (operations: string[]): ResourceRule[] => [
  { apiGroups: [''], apiVersions: ['v1'], operations, resources: ['limitranges', 'namespaces', 'resourcequotas', 'serviceaccounts', 'services'] },
  { apiGroups: ['networking.k8s.io'], apiVersions: ['*'], operations, resources: ['networkpolicies'] },
  { apiGroups: ['rbac.authorization.k8s.io'], apiVersions: ['*'], operations, resources: ['clusterrolebindings', 'clusterroles', 'rolebindings', 'roles'] },
  {
    apiGroups: ['constraints.gatekeeper.sh', 'networking.istio.io', 'security.istio.io', 'telemetry.istio.io', 'templates.gatekeeper.sh'],
    apiVersions: ['*'],
    operations,
    resources: ['*'],
  },
];

/** 9. Objects labelled as managed by this library change only through the deployer or break-glass. */
export function managedObjectsPolicy(managedBy: { key: string; value: string }, trusted: string): AdmissionPolicyDefinition {
  return {
    name: 'zero-trust-managed-objects',
    description: `Objects labelled ${managedBy.key}=${managedBy.value} are created, changed and deleted only by their deployer and `
      + 'break-glass (and deleted by the namespace and garbage collectors), so no tenant can loosen a policy.',
    resourceRules: MANAGED_RESOURCE_RULES(['CREATE', 'UPDATE', 'DELETE']),
    // CREATE: the new object; UPDATE: the old or the new one; DELETE: the old one.
    objectSelector: { matchLabels: { [managedBy.key]: managedBy.value } },
    variables: [
      { name: 'trusted', expression: trusted },
      {
        name: 'collector',
        expression: `request.operation == 'DELETE' && request.userInfo.username in [${LIFECYCLE_CONTROLLERS.map(celString).join(', ')}]`,
      },
    ],
    validations: [{
      expression: 'variables.trusted || variables.collector',
      message: `Objects labelled ${managedBy.key}=${managedBy.value} may be changed only by their deployer or break-glass.`,
      messageExpression: `${OBJECT_REF_VAP} + ' is managed by ${managedBy.value}; ' + request.userInfo.username + ' may not '`
        + " + request.operation + ' it. Fix: change the declaration and let the deployer apply it (or use break-glass in an incident).'",
    }],
  };
}
