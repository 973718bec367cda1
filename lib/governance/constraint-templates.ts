import { ANY, HAS_NAMESPACE, NAMESPACE_OF, OBJECT_REF } from './cel';

/** A CEL variable of a template or policy. */
export interface CelVariable {
  readonly name: string;
  readonly expression: string;
}

/** A CEL validation: the expression must be true to admit. */
export interface CelValidation {
  readonly expression: string;
  readonly message: string;
  readonly messageExpression: string;
}

/** The kinds a constraint matches (Gatekeeper `spec.match.kinds`). */
export interface KindMatch {
  readonly apiGroups: string[];
  readonly kinds: string[];
}

/** A Gatekeeper ConstraintTemplate written for the K8sNativeValidation (CEL) engine. @internal */
export interface TemplateDefinition {
  /** The Constraint kind (the template's name is its lower case). */
  readonly kind: string;
  readonly description: string;
  readonly match: KindMatch[];
  /** The openAPIV3Schema of `spec.parameters` (none when the template takes no parameters). */
  readonly parameters?: Record<string, unknown>;
  readonly variables: CelVariable[];
  readonly validations: CelValidation[];
}

/** Admits DELETE (Gatekeeper binds `object` to null): the shape checks judge what is being written. */
const WRITE = 'object == null || ';

/** Pod-bearing kinds: the pod itself and every built-in controller with a pod template. */
export const WORKLOAD_KINDS: KindMatch[] = [
  { apiGroups: [''], kinds: ['Pod', 'ReplicationController'] },
  { apiGroups: ['apps'], kinds: ['DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'] },
  { apiGroups: ['batch'], kinds: ['CronJob', 'Job'] },
];

/** Variables that find the pod spec, pod metadata and every container of a workload. */
const WORKLOAD_VARIABLES: CelVariable[] = [
  {
    name: 'podTemplate',
    expression: `${ANY}.kind == 'Pod' ? ${ANY} : (${ANY}.kind == 'CronJob' ? ${ANY}.spec.jobTemplate.spec.template : ${ANY}.spec.template)`,
  },
  { name: 'podSpec', expression: 'has(variables.podTemplate.spec) ? variables.podTemplate.spec : {}' },
  {
    name: 'podAnnotations',
    expression: 'has(variables.podTemplate.metadata) && has(variables.podTemplate.metadata.annotations) ? variables.podTemplate.metadata.annotations : {}',
  },
  {
    name: 'containers',
    expression: '(has(variables.podSpec.containers) ? variables.podSpec.containers : [])'
      + ' + (has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : [])'
      + ' + (has(variables.podSpec.ephemeralContainers) ? variables.podSpec.ephemeralContainers : [])',
  },
  { name: 'ref', expression: OBJECT_REF },
];

const REF: CelVariable = { name: 'ref', expression: OBJECT_REF };

const stringArray = { type: 'array', items: { type: 'string' } };

/** 1. Namespaces carry the mesh label and the Pod Security `restricted` labels. */
export const NAMESPACE_LABELS: TemplateDefinition = {
  kind: 'ZeroTrustNamespaceLabels',
  description: 'Namespaces carry the mesh injection label and the Pod Security restricted labels (controls.md K8S-01).',
  match: [{ apiGroups: [''], kinds: ['Namespace'] }],
  parameters: {
    type: 'object',
    properties: {
      labels: {
        type: 'array',
        description: 'Labels every namespace must carry, each with its exact value.',
        items: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'string' } }, required: ['key', 'value'] },
      },
    },
    required: ['labels'],
  },
  variables: [
    REF,
    { name: 'labels', expression: `has(${ANY}.metadata.labels) ? ${ANY}.metadata.labels : {}` },
    {
      name: 'missing',
      expression: 'variables.params.labels.filter(l, !(l.key in variables.labels && variables.labels[l.key] == l.value)).map(l, l.key + "=" + l.value)',
    },
  ],
  validations: [{
    expression: `${WRITE}variables.missing.size() == 0`,
    message: 'The namespace lacks the mesh or Pod Security restricted labels.',
    messageExpression: "variables.ref + ' lacks the zero-trust labels ' + variables.missing.join(', ')"
      + " + '. Fix: add them (ZeroTrustPolicyChart labels the namespaces it declares), or exempt the namespace with a reason (ZeroTrustGuardrails namespaceLabels.exemptions).'",
  }],
};

/** 2. PeerAuthentication is STRICT, namespace-wide and per port. */
export const PEER_AUTHENTICATION_STRICT: TemplateDefinition = {
  kind: 'ZeroTrustPeerAuthenticationStrict',
  description: 'PeerAuthentication accepts only mutual TLS: mode STRICT (or UNSET, inheriting STRICT), also in portLevelMtls (design.md 3.2).',
  match: [{ apiGroups: ['security.istio.io'], kinds: ['PeerAuthentication'] }],
  variables: [
    REF,
    { name: 'spec', expression: `has(${ANY}.spec) ? ${ANY}.spec : {}` },
    { name: 'mode', expression: "has(variables.spec.mtls) && has(variables.spec.mtls.mode) ? variables.spec.mtls.mode : 'UNSET'" },
    {
      name: 'weakPorts',
      expression: 'has(variables.spec.portLevelMtls) ? variables.spec.portLevelMtls.filter(p, has(variables.spec.portLevelMtls[p].mode)'
        + " && !(variables.spec.portLevelMtls[p].mode in ['STRICT', 'UNSET'])).map(p, string(p) + '=' + variables.spec.portLevelMtls[p].mode) : []",
    },
  ],
  validations: [
    {
      expression: `${WRITE}variables.mode in ['STRICT', 'UNSET']`,
      message: 'PeerAuthentication must use mTLS mode STRICT.',
      messageExpression: "variables.ref + ' sets spec.mtls.mode ' + variables.mode + ', which accepts plaintext. Fix: set spec.mtls.mode: STRICT.'",
    },
    {
      expression: `${WRITE}variables.weakPorts.size() == 0`,
      message: 'PeerAuthentication portLevelMtls must not weaken mTLS on any port.',
      messageExpression: "variables.ref + ' weakens mTLS per port (' + variables.weakPorts.join(', ')"
        + " + '). Fix: remove those portLevelMtls entries or set their mode to STRICT.'",
    },
  ],
};

/** 3. ALLOW AuthorizationPolicies name principals (except the ingress gateway's own policy). */
export const AUTHORIZATION_PRINCIPALS: TemplateDefinition = {
  kind: 'ZeroTrustAuthorizationPrincipals',
  description: 'ALLOW AuthorizationPolicies admit callers by exact SPIFFE principal: no rule without from, no source without principals, '
    + 'no wildcard principal; the ingress gateway policy (its namespace and selector) is exempt (design.md 3.3).',
  match: [{ apiGroups: ['security.istio.io'], kinds: ['AuthorizationPolicy'] }],
  parameters: {
    type: 'object',
    properties: {
      ingressGatewayNamespace: { type: 'string', description: 'Namespace of the ingress gateway.' },
      ingressGatewaySelector: {
        type: 'object', additionalProperties: { type: 'string' }, description: 'Pod labels of the ingress gateway (all must be in the policy selector).',
      },
    },
    required: ['ingressGatewayNamespace', 'ingressGatewaySelector'],
  },
  variables: [
    REF,
    { name: 'spec', expression: `has(${ANY}.spec) ? ${ANY}.spec : {}` },
    { name: 'isAllow', expression: "!has(variables.spec.action) || variables.spec.action == 'ALLOW'" },
    {
      name: 'isGateway',
      expression: `${HAS_NAMESPACE(ANY)} && ${NAMESPACE_OF(ANY)} == variables.params.ingressGatewayNamespace`
        + ' && variables.params.ingressGatewaySelector.size() > 0 && has(variables.spec.selector) && has(variables.spec.selector.matchLabels)'
        + ' && variables.params.ingressGatewaySelector.all(k, k in variables.spec.selector.matchLabels'
        + ' && variables.spec.selector.matchLabels[k] == variables.params.ingressGatewaySelector[k])',
    },
    { name: 'checked', expression: 'variables.isAllow && !variables.isGateway' },
    { name: 'rules', expression: 'has(variables.spec.rules) ? variables.spec.rules : []' },
    {
      name: 'sources',
      expression: 'variables.rules.filter(r, has(r.from)).map(r, r.from.map(f, has(f.source) ? f.source : {}))',
    },
  ],
  validations: [
    {
      expression: `${WRITE}!variables.checked || variables.rules.all(r, has(r.from) && r.from.size() > 0)`,
      message: 'An ALLOW AuthorizationPolicy has a rule without from: it admits every caller.',
      messageExpression: "variables.ref + ' is an ALLOW policy with a rule that has no from, so it admits any caller."
        + " Fix: list the callers in rules[].from[].source.principals (ZeroTrustPolicyChart: allowFrom).'",
    },
    {
      expression: `${WRITE}!variables.checked || variables.sources.all(fs, fs.all(s, has(s.principals) && s.principals.size() > 0))`,
      message: 'An ALLOW AuthorizationPolicy has a source without principals.',
      messageExpression: "variables.ref + ' has a from.source without principals (namespaces, ipBlocks or requestPrincipals alone do not"
        + " prove the calling workload). Fix: name each caller as <trustDomain>/ns/<namespace>/sa/<serviceAccount> in source.principals.'",
    },
    {
      expression: `${WRITE}!variables.checked || variables.sources.all(fs, fs.all(s, !has(s.principals) || s.principals.all(p, !p.contains('*'))))`,
      message: 'An ALLOW AuthorizationPolicy names a wildcard principal.',
      messageExpression: "variables.ref + ' names a wildcard principal, which admits identities nobody declared."
        + " Fix: list exact principals <trustDomain>/ns/<namespace>/sa/<serviceAccount>.'",
    },
  ],
};

/** 4. LoadBalancer and NodePort Services only in the ingress namespace. */
export const SERVICE_EXPOSURE: TemplateDefinition = {
  kind: 'ZeroTrustServiceExposure',
  description: 'Services of type LoadBalancer or NodePort exist only in the ingress gateway namespace: north-south traffic enters through the gateway.',
  match: [{ apiGroups: [''], kinds: ['Service'] }],
  parameters: {
    type: 'object',
    properties: { allowedNamespaces: { ...stringArray, description: 'Namespaces that may expose Services outside the cluster.' } },
    required: ['allowedNamespaces'],
  },
  variables: [
    REF,
    { name: 'serviceType', expression: `has(${ANY}.spec) && has(${ANY}.spec.type) ? ${ANY}.spec.type : 'ClusterIP'` },
    { name: 'serviceNamespace', expression: `${HAS_NAMESPACE(ANY)} ? ${NAMESPACE_OF(ANY)} : ''` },
  ],
  validations: [{
    expression: `${WRITE}!(variables.serviceType in ['LoadBalancer', 'NodePort']) || variables.serviceNamespace in variables.params.allowedNamespaces`,
    message: 'Only the ingress gateway namespace may have LoadBalancer or NodePort Services.',
    messageExpression: "variables.ref + ' is of type ' + variables.serviceType + ', which bypasses the mesh entry point; only '"
      + " + variables.params.allowedNamespaces.join(', ') + ' may expose Services. Fix: use type ClusterIP and route through the ingress gateway"
      + " (allowFromIngressGateway).'",
  }],
};

/** The annotation with which a pod opts in to mounting its service account token. */
export const API_ACCESS_ANNOTATION = 'zero-trust.cdk.io/kubernetes-api-access';

/** 5. Pods use a dedicated service account and mount its token only when they opt in. */
export const POD_SERVICE_ACCOUNT: TemplateDefinition = {
  kind: 'ZeroTrustPodServiceAccount',
  description: 'Pods run as a dedicated service account (not default) and set automountServiceAccountToken: false unless annotated as calling '
    + 'the Kubernetes API (controls.md K8S-09).',
  match: WORKLOAD_KINDS,
  parameters: {
    type: 'object',
    properties: { optInAnnotation: { type: 'string', description: 'Pod annotation that, set to "true", allows mounting the token.' } },
    required: ['optInAnnotation'],
  },
  variables: [
    ...WORKLOAD_VARIABLES,
    { name: 'serviceAccount', expression: "has(variables.podSpec.serviceAccountName) ? variables.podSpec.serviceAccountName : ''" },
    {
      name: 'optedIn',
      expression: 'variables.params.optInAnnotation in variables.podAnnotations && variables.podAnnotations[variables.params.optInAnnotation] == "true"',
    },
  ],
  validations: [
    {
      expression: `${WRITE}!(variables.serviceAccount in ['', 'default'])`,
      message: 'Pods must run as a dedicated service account, not default.',
      messageExpression: "variables.ref + ' runs as the namespace default service account. Fix: set serviceAccountName in the pod spec to the"
        + " workload own ServiceAccount (ZeroTrustPolicyChart.addService creates one per service).'",
    },
    {
      expression: `${WRITE}variables.optedIn || (has(variables.podSpec.automountServiceAccountToken) && variables.podSpec.automountServiceAccountToken == false)`,
      message: 'Pods must not mount their service account token unless they opt in.',
      messageExpression: "variables.ref + ' mounts its service account token. Fix: set automountServiceAccountToken: false in the pod spec, or, if"
        + " it calls the Kubernetes API, annotate the pod template with ' + variables.params.optInAnnotation + ': \"true\".'",
    },
  ],
};

/** 6. No host namespaces, privileged containers, host ports or hostPath volumes. */
export const HOST_ISOLATION: TemplateDefinition = {
  kind: 'ZeroTrustHostIsolation',
  description: 'Pods share no host namespace, run no privileged container, bind no host port and mount no hostPath volume '
    + '(defence in depth under Pod Security Admission; controls.md K8S-05, K8S-06).',
  match: WORKLOAD_KINDS,
  variables: [
    ...WORKLOAD_VARIABLES,
    {
      name: 'hostNamespaces',
      expression: "['hostNetwork', 'hostPID', 'hostIPC'].filter(f, f in variables.podSpec && variables.podSpec[f] == true)",
    },
    {
      name: 'privileged',
      expression: 'variables.containers.filter(c, has(c.securityContext) && has(c.securityContext.privileged)'
        + " && c.securityContext.privileged == true).map(c, has(c.name) ? c.name : '<unnamed>')",
    },
    {
      name: 'hostPorts',
      expression: "variables.containers.filter(c, has(c.ports) && c.ports.exists(p, has(p.hostPort) && p.hostPort != 0)).map(c, has(c.name) ? c.name : '<unnamed>')",
    },
    {
      name: 'hostPaths',
      expression: "has(variables.podSpec.volumes) ? variables.podSpec.volumes.filter(v, has(v.hostPath)).map(v, has(v.name) ? v.name : '<unnamed>') : []",
    },
  ],
  validations: [
    {
      expression: `${WRITE}variables.hostNamespaces.size() == 0`,
      message: 'Pods must not share host namespaces.',
      messageExpression: "variables.ref + ' shares host namespaces (' + variables.hostNamespaces.join(', ') + '). Fix: remove these fields from the pod spec.'",
    },
    {
      expression: `${WRITE}variables.privileged.size() == 0`,
      message: 'Containers must not be privileged.',
      messageExpression: "variables.ref + ' runs privileged containers (' + variables.privileged.join(', ')"
        + " + '). Fix: remove securityContext.privileged (grant a specific capability only if unavoidable).'",
    },
    {
      expression: `${WRITE}variables.hostPorts.size() == 0`,
      message: 'Containers must not bind host ports.',
      messageExpression: "variables.ref + ' binds host ports in containers (' + variables.hostPorts.join(', ')"
        + " + '). Fix: remove ports[].hostPort and expose the port through a ClusterIP Service.'",
    },
    {
      expression: `${WRITE}variables.hostPaths.size() == 0`,
      message: 'Pods must not mount hostPath volumes.',
      messageExpression: "variables.ref + ' mounts hostPath volumes (' + variables.hostPaths.join(', ')"
        + " + '). Fix: use emptyDir, a projected volume or a PersistentVolumeClaim instead.'",
    },
  ],
};

/** 7. Images only from allowed registries. */
export const ALLOWED_REGISTRIES: TemplateDefinition = {
  kind: 'ZeroTrustAllowedRegistries',
  description: 'Every container, init container and ephemeral container image starts with an allowed registry prefix (controls.md K8S-14).',
  match: WORKLOAD_KINDS,
  parameters: {
    type: 'object',
    properties: { registries: { ...stringArray, description: 'Allowed image prefixes, each ending with "/".' } },
    required: ['registries'],
  },
  variables: [
    ...WORKLOAD_VARIABLES,
    {
      name: 'badImages',
      expression: "variables.containers.filter(c, !has(c.image) || !variables.params.registries.exists(r, c.image.startsWith(r))).map(c, has(c.image) ? c.image : '<none>')",
    },
  ],
  validations: [{
    expression: `${WRITE}variables.badImages.size() == 0`,
    message: 'Images must come from an allowed registry.',
    messageExpression: "variables.ref + ' uses images outside the allowed registries (' + variables.badImages.join(', ') + '); allowed: '"
      + " + variables.params.registries.join(', ') + '. Fix: push the image to an allowed registry (this account ECR) and reference it there.'",
  }],
};

/** Every template, in constraint order. */
export const TEMPLATES: TemplateDefinition[] = [
  NAMESPACE_LABELS, PEER_AUTHENTICATION_STRICT, AUTHORIZATION_PRINCIPALS, SERVICE_EXPOSURE, POD_SERVICE_ACCOUNT, HOST_ISOLATION, ALLOWED_REGISTRIES,
];
