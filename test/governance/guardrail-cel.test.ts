/**
 * Every CEL expression of every emitted guardrail, evaluated offline against compliant and weakened
 * fixtures. The last test proves that each validation both admitted and denied at least one object.
 */
import { Testing } from 'cdk8s';
import { constraintMatches, evaluateConstraint, evaluatePolicy, Json, outcomes, policyMatches, Review, UserInfo, Verdict } from './admission-cel';
import { compliantCronJob, compliantDeployment, compliantPod, ECR, GUARDRAIL_PROPS, podSpecOf, synthGuardrails, weaken } from './fixtures';
import { ShopPolicies } from '../../examples/shop/shop';
import { RESPONDER_GROUP } from '../../lib/response/responder-rbac';

const objects = synthGuardrails();
const templates = objects.filter(o => o.kind === 'ConstraintTemplate');
const constraints = objects.filter(o => String(o.apiVersion).startsWith('constraints.gatekeeper.sh/'));
const policies = objects.filter(o => o.kind === 'ValidatingAdmissionPolicy');
const bindings = objects.filter(o => o.kind === 'ValidatingAdmissionPolicyBinding');
const shop = Testing.synth(new ShopPolicies(Testing.app(), 'shop')) as Json[];

const nameOf = (o: Json) => String((o.metadata as Json).name);
const find = (kind: string, namespace: string, name: string) =>
  shop.find(o => o.kind === kind && (o.metadata as Json).namespace === namespace && nameOf(o) === name) as Json;

/** Runs one Gatekeeper constraint of `kind` on an object (CREATE unless told), or undefined when it does not match. */
function gatekeeper(kind: string, obj: Json, operation: Review['operation'] = 'CREATE', oldObject?: Json): Verdict | undefined {
  const constraint = constraints.find(c => c.kind === kind);
  const template = templates.find(t => nameOf(t) === kind.toLowerCase());
  if (!constraint || !template) throw new Error(`no constraint ${kind}`);
  if (!constraintMatches(constraint, obj)) return undefined;
  const review: Review = operation === 'DELETE' ? { operation, oldObject: obj } : { operation, object: obj, oldObject };
  return evaluateConstraint(template, constraint, review);
}

function expectAdmitted(kind: string, obj: Json): void {
  const verdict = gatekeeper(kind, obj);
  expect(verdict).toBeDefined();
  expect(verdict!.messages).toEqual([]);
}

/** Expects a denial whose message names the object and says how to fix it. */
function expectDenied(kind: string, obj: Json, ...fragments: string[]): string[] {
  const verdict = gatekeeper(kind, obj);
  expect(verdict).toBeDefined();
  expect(verdict!.allowed).toBe(false);
  const meta = obj.metadata as Json;
  for (const message of verdict!.messages) {
    expect(message).toContain(`${String(obj.kind)} ${meta.namespace ? `${String(meta.namespace)}/` : ''}${String(meta.name ?? meta.generateName)}`);
    expect(message).toContain('Fix:');
  }
  for (const fragment of fragments) {
    expect(verdict!.messages.join('\n')).toContain(fragment);
  }
  return verdict!.messages;
}

function admission(policyName: string, review: Review): Verdict | undefined {
  const policy = policies.find(p => nameOf(p) === policyName)!;
  const binding = bindings.find(b => (b.spec as Json).policyName === policyName)!;
  return policyMatches(policy, binding, review) ? evaluatePolicy(policy, review) : undefined;
}

describe('1. namespaces carry the mesh and Pod Security restricted labels', () => {
  const ns = find('Namespace', undefined as unknown as string, 'shop') ?? shop.find(o => o.kind === 'Namespace' && nameOf(o) === 'shop')!;
  test('the namespaces ZeroTrustPolicyChart emits are admitted', () => {
    expectAdmitted('ZeroTrustNamespaceLabels', ns);
  });
  test('a namespace without labels is denied, naming every missing label', () => {
    expectDenied('ZeroTrustNamespaceLabels', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } },
      'istio-injection=enabled', 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/audit=restricted');
  });
  test('a namespace that relaxes enforce to baseline is denied, also on UPDATE', () => {
    const weak = weaken(ns, o => { o.metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline'; });
    expectDenied('ZeroTrustNamespaceLabels', weak, 'pod-security.kubernetes.io/enforce=restricted');
    expect(gatekeeper('ZeroTrustNamespaceLabels', weak, 'UPDATE', ns)?.allowed).toBe(false);
  });
  test('a namespace without the mesh label is denied', () => {
    expectDenied('ZeroTrustNamespaceLabels', weaken(ns, o => { delete o.metadata.labels['istio-injection']; }), 'istio-injection=enabled');
  });
  test('deleting a namespace is not judged; system and platform namespaces are excluded', () => {
    expect(gatekeeper('ZeroTrustNamespaceLabels', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }, 'DELETE')?.allowed).toBe(true);
    for (const name of ['kube-system', 'istio-system', 'istio-ingress', 'istio-cni', 'gatekeeper-system', 'default']) {
      expect(gatekeeper('ZeroTrustNamespaceLabels', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).toBeUndefined();
    }
  });
});

describe('2. PeerAuthentication is STRICT', () => {
  const pa = find('PeerAuthentication', 'shop', 'default');
  const root = find('PeerAuthentication', 'istio-system', 'default');
  test('the library PeerAuthentications (namespace and mesh-wide) are admitted', () => {
    expectAdmitted('ZeroTrustPeerAuthenticationStrict', pa);
    expectAdmitted('ZeroTrustPeerAuthenticationStrict', root);
    expectAdmitted('ZeroTrustPeerAuthenticationStrict', weaken(pa, o => { o.spec = { selector: { matchLabels: { app: 'x' } } }; }));
    expectAdmitted('ZeroTrustPeerAuthenticationStrict', weaken(pa, o => { o.spec.portLevelMtls = { 8080: { mode: 'STRICT' } }; }));
  });
  test.each(['PERMISSIVE', 'DISABLE'])('mode %s is denied, also in the mesh root namespace', (mode) => {
    expectDenied('ZeroTrustPeerAuthenticationStrict', weaken(pa, o => { o.spec.mtls.mode = mode; }), `spec.mtls.mode ${mode}`, 'set spec.mtls.mode: STRICT');
    expectDenied('ZeroTrustPeerAuthenticationStrict', weaken(root, o => { o.spec.mtls.mode = mode; }), mode);
  });
  test('a per-port PERMISSIVE or DISABLE is denied, naming the port', () => {
    expectDenied('ZeroTrustPeerAuthenticationStrict', weaken(pa, o => { o.spec.portLevelMtls = { 8080: { mode: 'PERMISSIVE' }, 9090: { mode: 'STRICT' } }; }),
      '8080=PERMISSIVE');
    const messages = expectDenied('ZeroTrustPeerAuthenticationStrict', weaken(pa, o => { o.spec.portLevelMtls = { 15020: { mode: 'DISABLE' } }; }));
    expect(messages.join()).not.toContain('9090');
  });
});

describe('3. ALLOW AuthorizationPolicies name principals', () => {
  const userPolicy = find('AuthorizationPolicy', 'shop', 'user');
  const gateway = find('AuthorizationPolicy', 'istio-ingress', 'zero-trust.ingress-gateway');
  test('every AuthorizationPolicy of the seed scenario is admitted (ALLOW by principal, allow-nothing, DENY quarantine, gateway)', () => {
    const all = shop.filter(o => o.kind === 'AuthorizationPolicy');
    expect(all.length).toBeGreaterThanOrEqual(6);
    for (const policy of all) expectAdmitted('ZeroTrustAuthorizationPrincipals', policy);
  });
  test('a rule without from is denied (it admits every caller)', () => {
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(userPolicy, o => { o.spec.rules = [{}]; }), 'has no from');
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(userPolicy, o => { o.spec.rules[0].from = []; }), 'has no from');
  });
  test('a source by namespace only, or a from without source, is denied', () => {
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(userPolicy, o => { o.spec.rules[0].from = [{ source: { namespaces: ['shop'] } }]; }),
      'without principals');
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(userPolicy, o => { o.spec.rules[0].from = [{}]; }), 'without principals');
  });
  test.each(['*', 'cluster.local/ns/shop/sa/*'])('the wildcard principal %s is denied', (principal) => {
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(userPolicy, o => { o.spec.rules[0].from[0].source.principals.push(principal); }),
      'wildcard principal');
  });
  test('an explicit action ALLOW is checked; DENY and AUDIT policies are not', () => {
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(userPolicy, o => { o.spec.action = 'ALLOW'; o.spec.rules = [{}]; }));
    expectAdmitted('ZeroTrustAuthorizationPrincipals', weaken(userPolicy, o => { o.spec.action = 'DENY'; o.spec.rules = [{}]; }));
  });
  test('the gateway exemption needs both its namespace and its full selector', () => {
    expectAdmitted('ZeroTrustAuthorizationPrincipals', gateway);
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(gateway, o => { o.metadata.namespace = 'shop'; }), 'has no from');
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(gateway, o => { delete o.spec.selector; }), 'has no from');
    expectDenied('ZeroTrustAuthorizationPrincipals', weaken(gateway, o => { delete o.spec.selector.matchLabels.app; }), 'has no from');
  });
});

describe('4. LoadBalancer and NodePort Services only in the ingress namespace', () => {
  const service = find('Service', 'shop', 'user');
  test('ClusterIP Services of the seed scenario are admitted, and an ingress LoadBalancer', () => {
    for (const s of shop.filter(o => o.kind === 'Service')) expectAdmitted('ZeroTrustServiceExposure', s);
    expectAdmitted('ZeroTrustServiceExposure', weaken(service, o => { o.metadata.namespace = 'istio-ingress'; o.spec.type = 'LoadBalancer'; }));
    expectAdmitted('ZeroTrustServiceExposure', weaken(service, o => { delete o.spec.type; }));
  });
  test.each(['LoadBalancer', 'NodePort'])('a %s Service in a service namespace is denied', (type) => {
    expectDenied('ZeroTrustServiceExposure', weaken(service, o => { o.spec.type = type; }), `type ${type}`, 'istio-ingress');
  });
});

const WORKLOADS: [string, () => Json][] = [['Pod', compliantPod], ['Deployment', compliantDeployment], ['CronJob', compliantCronJob]];

describe.each(WORKLOADS)('5-7. workload guardrails on a %s', (_kind, make) => {
  const good = make();
  const change = (f: (spec: any) => void) => weaken(good, o => f(podSpecOf(o)));
  test('a compliant workload is admitted by every workload guardrail', () => {
    for (const kind of ['ZeroTrustPodServiceAccount', 'ZeroTrustHostIsolation', 'ZeroTrustAllowedRegistries']) expectAdmitted(kind, good);
  });
  test('5. the default service account, or none, is denied', () => {
    expectDenied('ZeroTrustPodServiceAccount', change(s => { s.serviceAccountName = 'default'; }), 'default service account');
    expectDenied('ZeroTrustPodServiceAccount', change(s => { delete s.serviceAccountName; }), 'set serviceAccountName');
  });
  test('5. a mounted token is denied unless the pod opts in with the annotation', () => {
    expectDenied('ZeroTrustPodServiceAccount', change(s => { delete s.automountServiceAccountToken; }), 'zero-trust.cdk.io/kubernetes-api-access: "true"');
    expectDenied('ZeroTrustPodServiceAccount', change(s => { s.automountServiceAccountToken = true; }), 'mounts its service account token');
    const optIn = weaken(change(s => { s.automountServiceAccountToken = true; }), o => {
      const meta = o.kind === 'Pod' ? o.metadata : (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template : o.spec.template);
      meta.metadata = o.kind === 'Pod' ? undefined : { annotations: { 'zero-trust.cdk.io/kubernetes-api-access': 'true' } };
      if (o.kind === 'Pod') o.metadata.annotations = { 'zero-trust.cdk.io/kubernetes-api-access': 'true' };
    });
    expectAdmitted('ZeroTrustPodServiceAccount', JSON.parse(JSON.stringify(optIn)));
    expectDenied('ZeroTrustPodServiceAccount', JSON.parse(JSON.stringify(optIn).replace('kubernetes-api-access":"true"', 'kubernetes-api-access":"yes"')));
  });
  test.each(['hostNetwork', 'hostPID', 'hostIPC'])('6. %s is denied', (field) => {
    expectDenied('ZeroTrustHostIsolation', change(s => { s[field] = true; }), field);
    expectAdmitted('ZeroTrustHostIsolation', change(s => { s[field] = false; }));
  });
  test('6. a privileged container (also init or ephemeral) is denied, by name', () => {
    expectDenied('ZeroTrustHostIsolation', change(s => { s.containers[0].securityContext.privileged = true; }), 'privileged containers (app)');
    expectDenied('ZeroTrustHostIsolation', change(s => { s.initContainers[0].securityContext.privileged = true; }), '(migrate)');
    expectDenied('ZeroTrustHostIsolation', change(s => { s.ephemeralContainers = [{ name: 'debug', image: `${ECR}debug:1`, securityContext: { privileged: true } }]; }),
      '(debug)');
  });
  test('6. a host port and a hostPath volume are denied', () => {
    expectDenied('ZeroTrustHostIsolation', change(s => { s.containers[0].ports[0].hostPort = 8080; }), 'host ports');
    expectAdmitted('ZeroTrustHostIsolation', change(s => { s.containers[0].ports[0].hostPort = 0; }));
    expectDenied('ZeroTrustHostIsolation', change(s => { s.volumes.push({ name: 'sock', hostPath: { path: '/run/containerd/containerd.sock' } }); }), 'hostPath volumes (sock)');
  });
  test('7. images outside the allowed registries are denied, by image', () => {
    expectDenied('ZeroTrustAllowedRegistries', change(s => { s.containers[0].image = 'nginx:1.27'; }), 'nginx:1.27');
    expectDenied('ZeroTrustAllowedRegistries', change(s => { s.initContainers[0].image = 'docker.io/istio-evil/proxy:1'; }), 'docker.io/istio-evil/proxy:1');
    expectDenied('ZeroTrustAllowedRegistries', change(s => { s.containers[0].image = '222233334444.dkr.ecr.eu-west-1.amazonaws.com/x:1'; }));
    expectAdmitted('ZeroTrustAllowedRegistries', change(s => { s.containers[0].image = 'docker.io/istio/proxyv2:1.30.3'; }));
  });
});

describe('5-7. scope of the workload guardrails', () => {
  test('a generated pod name is reported with *', () => {
    const pod = weaken(compliantPod(), o => { delete o.metadata.name; o.metadata.generateName = 'order-7d9f-'; o.spec.serviceAccountName = 'default'; });
    expectDenied('ZeroTrustPodServiceAccount', pod, 'Pod shop/order-7d9f-*');
  });
  test('platform namespaces are excluded from 5 and 6 but not from 7; system namespaces from all', () => {
    const cni = weaken(compliantPod(), o => { o.metadata.namespace = 'istio-cni'; o.spec.hostNetwork = true; o.spec.serviceAccountName = 'default'; });
    expect(gatekeeper('ZeroTrustHostIsolation', cni)).toBeUndefined();
    expect(gatekeeper('ZeroTrustPodServiceAccount', cni)).toBeUndefined();
    expect(gatekeeper('ZeroTrustAllowedRegistries', weaken(cni, o => { o.spec.containers[0].image = 'quay.io/x:1'; }))?.allowed).toBe(false);
    expect(gatekeeper('ZeroTrustAllowedRegistries', weaken(cni, o => { o.metadata.namespace = 'kube-system'; }))).toBeUndefined();
  });
  test('deleting a non-compliant pod is admitted', () => {
    expect(gatekeeper('ZeroTrustHostIsolation', weaken(compliantPod(), o => { o.spec.hostPID = true; }), 'DELETE')?.allowed).toBe(true);
  });
});

describe('8. the quarantine label (ValidatingAdmissionPolicy)', () => {
  const Q = 'zero-trust.cdk.io/quarantine';
  const pod = compliantPod();
  const quarantined = weaken(pod, o => { o.metadata.labels[Q] = 'true'; });
  const responder: UserInfo = { username: 'system:serviceaccount:zero-trust:responder' };
  const breakGlass: UserInfo = { username: 'arn:aws:sts::111122223333:assumed-role/BreakGlass/alice', groups: ['zero-trust:break-glass', 'system:authenticated'] };
  const tenant: UserInfo = { username: 'arn:aws:sts::111122223333:assumed-role/ShopEditor/bob', groups: ['shop:editors', 'system:authenticated'] };
  test('the responder and break-glass may add and remove the label', () => {
    for (const user of [responder, breakGlass]) {
      expect(admission('zero-trust-quarantine-label', { operation: 'UPDATE', object: quarantined, oldObject: pod, userInfo: user })?.allowed).toBe(true);
      expect(admission('zero-trust-quarantine-label', { operation: 'UPDATE', object: pod, oldObject: quarantined, userInfo: user })?.allowed).toBe(true);
    }
  });
  test('a tenant may not remove, change or add the label', () => {
    const removal = admission('zero-trust-quarantine-label', { operation: 'UPDATE', object: pod, oldObject: quarantined, userInfo: tenant });
    expect(removal?.allowed).toBe(false);
    expect(removal?.messages[0]).toContain('Pod shop/order-7d9f');
    expect(removal?.messages[0]).toContain('(true -> <absent>)');
    expect(removal?.messages[0]).toContain('Fix:');
    const changed = weaken(quarantined, o => { o.metadata.labels[Q] = 'false'; });
    expect(admission('zero-trust-quarantine-label', { operation: 'UPDATE', object: changed, oldObject: quarantined, userInfo: tenant })?.allowed).toBe(false);
    expect(admission('zero-trust-quarantine-label', { operation: 'UPDATE', object: quarantined, oldObject: pod, userInfo: tenant })?.allowed).toBe(false);
    expect(admission('zero-trust-quarantine-label', { operation: 'CREATE', object: quarantined, userInfo: tenant })?.allowed).toBe(false);
  });
  test('other updates of a quarantined pod, and pods without the label, are not blocked', () => {
    const relabelled = weaken(quarantined, o => { o.metadata.labels.team = 'x'; });
    expect(admission('zero-trust-quarantine-label', { operation: 'UPDATE', object: relabelled, oldObject: quarantined, userInfo: tenant })?.allowed).toBe(true);
    expect(admission('zero-trust-quarantine-label', { operation: 'UPDATE', object: pod, oldObject: pod, userInfo: tenant })).toBeUndefined();
    expect(admission('zero-trust-quarantine-label', { operation: 'CREATE', object: pod, userInfo: tenant })).toBeUndefined();
  });
});

describe('8. the quarantine label with the cluster\'s identities: the responders group, break-glass role sessions', () => {
  // What ZeroTrustCluster gives the guardrails (lib/cluster/guardrails-wiring.ts): groups for the responder, username prefixes for break-glass.
  const clusterObjects = synthGuardrails({
    ...GUARDRAIL_PROPS,
    responders: { groups: [RESPONDER_GROUP] },
    breakGlass: { usernamePrefixes: ['arn:aws:sts::111122223333:assumed-role/BreakGlass/'] },
  });
  const policy = clusterObjects.find(o => o.kind === 'ValidatingAdmissionPolicy' && nameOf(o) === 'zero-trust-quarantine-label')!;
  const binding = clusterObjects.find(o => o.kind === 'ValidatingAdmissionPolicyBinding' && nameOf(o) === 'zero-trust-quarantine-label')!;
  const quarantine = (review: Review) => (policyMatches(policy, binding, review) ? evaluatePolicy(policy, review) : undefined);
  const Q = 'zero-trust.cdk.io/quarantine';
  const pod = compliantPod();
  const quarantined = weaken(pod, o => { o.metadata.labels[Q] = 'true'; });
  const changed = weaken(quarantined, o => { o.metadata.labels[Q] = 'false'; });
  const session = (role: string, name: string, groups: string[]): UserInfo => ({ username: `arn:aws:sts::111122223333:assumed-role/${role}/${name}`, groups });
  const responder = session('ZeroTrustResponder', '1700000000000', [RESPONDER_GROUP, 'system:authenticated']);
  const breakGlass = session('BreakGlass', 'alice', ['system:authenticated']);
  const authenticated = session('Auditor', 'eve', ['system:authenticated']);
  const editor = session('ShopEditors', 'bob', ['zero-trust:shop:editors', 'system:authenticated']);
  const lookAlikes: UserInfo[] = [
    session('Responder', 'mallory', ['zero-trust:responders-evil', 'system:authenticated']),
    { username: RESPONDER_GROUP, groups: ['system:authenticated'] },
    session('BreakGlassX', 'mallory', ['system:authenticated']),
  ];
  const labelChanges: [string, Review][] = [
    ['add', { operation: 'UPDATE', object: quarantined, oldObject: pod }],
    ['remove', { operation: 'UPDATE', object: pod, oldObject: quarantined }],
    ['change', { operation: 'UPDATE', object: changed, oldObject: quarantined }],
    ['create with', { operation: 'CREATE', object: quarantined }],
  ];

  test('the responders group is what the responder RBAC binds', () => {
    expect(RESPONDER_GROUP).toBe('zero-trust:responders');
    expect(JSON.stringify((policy.spec as Json).variables)).toContain('g in [\\"zero-trust:responders\\"]');
  });
  test.each(labelChanges)('a member of zero-trust:responders and a break-glass session may %s the label', (_what, review) => {
    for (const user of [responder, breakGlass]) {
      expect(quarantine({ ...review, userInfo: user })?.allowed).toBe(true);
    }
  });
  test.each(labelChanges)('a user in system:authenticated only, a tenant editor and look-alikes may not %s the label', (_what, review) => {
    for (const user of [authenticated, editor, ...lookAlikes]) {
      const verdict = quarantine({ ...review, userInfo: user });
      expect({ user: user.username, allowed: verdict?.allowed }).toEqual({ user: user.username, allowed: false });
      expect(verdict?.messages[0]).toContain(`Pod shop/order-7d9f: ${user.username} may not change the quarantine label ${Q}`);
      expect(verdict?.messages[0]).toContain('Fix:');
    }
  });

  test('a tenant (or any non-system identity) may not delete a quarantined pod: the message names the pod and the fix', () => {
    for (const user of [editor, authenticated, ...lookAlikes, { username: 'system:serviceaccount:shop:order', groups: ['system:serviceaccounts'] },
      { username: 'system:serviceaccount:kube-systemx:evil' }, { username: 'arn:aws:sts::111122223333:assumed-role/KubectlRole/handler' },
      // add-ons that also run in kube-system are not Kubernetes' pod lifecycle
      { username: 'system:serviceaccount:kube-system:aws-load-balancer-controller' }, { username: 'system:serviceaccount:kube-system:aws-node' },
      { username: 'system:serviceaccount:kube-system:replicaset-controller-evil' }]) {
      const verdict = quarantine({ operation: 'DELETE', oldObject: quarantined, userInfo: user });
      expect({ user: user.username, allowed: verdict?.allowed }).toEqual({ user: user.username, allowed: false });
      expect(verdict?.messages).toEqual([`Pod shop/order-7d9f is quarantined (${Q}=true); ${user.username} may not delete it: that ends the quarantine`
        + ' (a replacement pod carries no label) and destroys the evidence. Fix: leave the pod for the investigation; the incident responder or'
        + ' break-glass releases or deletes it.']);
    }
  });
  test('the responders and break-glass may delete a quarantined pod; pods without the label are not judged', () => {
    for (const user of [responder, breakGlass]) {
      expect(quarantine({ operation: 'DELETE', oldObject: quarantined, userInfo: user })?.allowed).toBe(true);
    }
    expect(quarantine({ operation: 'DELETE', oldObject: pod, userInfo: editor })).toBeUndefined();
  });
  test.each([
    ['the ReplicaSet controller (scale-down, rollout)', 'system:serviceaccount:kube-system:replicaset-controller', []],
    ['the StatefulSet controller', 'system:serviceaccount:kube-system:statefulset-controller', []],
    ['the DaemonSet controller', 'system:serviceaccount:kube-system:daemon-set-controller', []],
    ['the Job controller', 'system:serviceaccount:kube-system:job-controller', []],
    ['the taint eviction controller', 'system:serviceaccount:kube-system:taint-eviction-controller', []],
    ['the controller manager (without per-controller credentials)', 'system:kube-controller-manager', []],
    ['the garbage collector (owner deleted)', 'system:serviceaccount:kube-system:generic-garbage-collector', []],
    ['the namespace controller (namespace deleted)', 'system:serviceaccount:kube-system:namespace-controller', []],
    ['the pod garbage collector (node gone)', 'system:serviceaccount:kube-system:pod-garbage-collector', []],
    ['the node lifecycle controller (NoExecute taints)', 'system:serviceaccount:kube-system:node-controller', []],
    ['the kubelet (final removal after graceful termination)', 'system:node:ip-10-0-1-23.eu-west-1.compute.internal', ['system:nodes', 'system:authenticated']],
    ['the scheduler (preemption)', 'system:kube-scheduler', []],
  ])('%s may delete a quarantined pod, but not change its label', (_who, username, groups) => {
    const user: UserInfo = { username, groups };
    expect(quarantine({ operation: 'DELETE', oldObject: quarantined, userInfo: user })?.allowed).toBe(true);
    expect(quarantine({ operation: 'UPDATE', object: pod, oldObject: quarantined, userInfo: user })?.allowed).toBe(false);
  });
  test('the responder\'s scale-down: label (responder), graceful delete (ReplicaSet controller), final delete (kubelet) are all admitted', () => {
    expect(quarantine({ operation: 'UPDATE', object: quarantined, oldObject: pod, userInfo: responder })?.allowed).toBe(true);
    const terminating = weaken(quarantined, o => { o.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'; });
    expect(quarantine({ operation: 'DELETE', oldObject: quarantined, userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' } })?.allowed).toBe(true);
    expect(quarantine({ operation: 'DELETE', oldObject: terminating, userInfo: { username: 'system:node:ip-10-0-1-23.eu-west-1.compute.internal', groups: ['system:nodes'] } })?.allowed)
      .toBe(true);
  });
  test('evictions (node drains, node group updates) and status writes are not judged: the policy matches the pods resource only', () => {
    const eviction = { ...quarantined, metadata: (quarantined.metadata as Json) };
    for (const user of [editor, { username: 'eks:node-manager' }]) {
      expect(quarantine({ operation: 'CREATE', subResource: 'eviction', object: eviction, userInfo: user })).toBeUndefined();
    }
    expect(quarantine({
      operation: 'UPDATE',
      subResource: 'status',
      object: quarantined,
      oldObject: quarantined,
      userInfo: { username: 'system:node:ip-10-0-1-23.eu-west-1.compute.internal' },
    })).toBeUndefined();
    expect((policy.spec as any).matchConstraints.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE', 'DELETE'], resources: ['pods'] }]);
  });
  test('other updates of a quarantined pod by anyone (e.g. the garbage collector orphaning it) are admitted', () => {
    const orphaned = weaken(quarantined, o => { o.metadata.ownerReferences = []; o.metadata.labels.team = 'x'; });
    for (const user of [editor, { username: 'system:serviceaccount:kube-system:generic-garbage-collector' }]) {
      expect(quarantine({ operation: 'UPDATE', object: orphaned, oldObject: quarantined, userInfo: user })?.allowed).toBe(true);
    }
  });
});

describe('9. managed objects change only through the deployer and break-glass (ValidatingAdmissionPolicy)', () => {
  const pa = find('PeerAuthentication', 'shop', 'default');
  const np = find('NetworkPolicy', 'shop', 'zero-trust.default-deny');
  const deployer: UserInfo = { username: 'arn:aws:sts::111122223333:assumed-role/KubectlRole/handler' };
  const breakGlass: UserInfo = { username: 'alice', groups: ['zero-trust:break-glass'] };
  const tenant: UserInfo = { username: 'arn:aws:sts::111122223333:assumed-role/KubectlRoleX/handler', groups: ['system:authenticated'] };
  const loosened = weaken(pa, o => { o.spec.mtls.mode = 'PERMISSIVE'; });
  const quota = find('ResourceQuota', 'shop', 'zero-trust.resource-quota');
  const limits = find('LimitRange', 'shop', 'zero-trust.limit-range');
  const sa = find('ServiceAccount', 'shop', 'default');
  test('every object of the seed scenario is matched (every kind the chart emits is guarded) and may be created, updated and deleted by the deployer', () => {
    expect(new Set(shop.map(o => o.kind))).toEqual(new Set(['Namespace', 'ResourceQuota', 'LimitRange', 'ServiceAccount', 'Service', 'NetworkPolicy',
      'PeerAuthentication', 'AuthorizationPolicy', 'Sidecar', 'Telemetry']));
    for (const obj of shop) {
      expect(((obj.metadata as Json).labels as Record<string, string>)['app.kubernetes.io/managed-by']).toBe('cdk-zero-trust-eks');
      for (const review of [{ operation: 'CREATE', object: obj }, { operation: 'UPDATE', object: obj, oldObject: obj }, { operation: 'DELETE', oldObject: obj }] as Review[]) {
        const ref = `${review.operation} ${String(obj.kind)} ${nameOf(obj)}`;
        expect({ ref, allowed: admission('zero-trust-managed-objects', { ...review, userInfo: deployer })?.allowed })
          .toEqual({ ref, allowed: true });
      }
    }
  });
  test('a tenant may not raise the ResourceQuota, drop the LimitRange defaults, mount the default account\'s token, or delete any of them', () => {
    const raised = weaken(quota, o => { o.spec.hard = { ...o.spec.hard, 'limits.memory': '10Ti' }; });
    const update = admission('zero-trust-managed-objects', { operation: 'UPDATE', object: raised, oldObject: quota, userInfo: tenant });
    expect(update?.allowed).toBe(false);
    expect(update?.messages[0]).toContain(`ResourceQuota shop/${nameOf(quota)} is managed by cdk-zero-trust-eks`);
    expect(update?.messages[0]).toContain('Fix:');
    const unlimited = weaken(limits, o => { o.spec.limits = []; });
    expect(admission('zero-trust-managed-objects', { operation: 'UPDATE', object: unlimited, oldObject: limits, userInfo: tenant })?.allowed).toBe(false);
    const mounting = weaken(sa, o => { (o as Json).automountServiceAccountToken = true; });
    expect(admission('zero-trust-managed-objects', { operation: 'UPDATE', object: mounting, oldObject: sa, userInfo: tenant })?.messages[0])
      .toContain('ServiceAccount shop/default is managed by cdk-zero-trust-eks');
    for (const obj of [quota, limits, sa]) {
      const verdict = admission('zero-trust-managed-objects', { operation: 'DELETE', oldObject: obj, userInfo: tenant });
      expect(verdict?.allowed).toBe(false);
      expect(verdict?.messages[0]).toContain(`${String(obj.kind)} shop/${nameOf(obj)}`);
    }
  });
  test('Kubernetes controllers keep working: namespace deletion removes them, quota usage is written to /status, the default account is re-created unlabelled', () => {
    for (const username of ['system:serviceaccount:kube-system:namespace-controller', 'system:serviceaccount:kube-system:generic-garbage-collector']) {
      for (const obj of [quota, limits, sa]) {
        expect(admission('zero-trust-managed-objects', { operation: 'DELETE', oldObject: obj, userInfo: { username } })?.allowed).toBe(true);
      }
    }
    // The resource quota controller (and the quota admission plugin) write usage through the status subresource only.
    const used = weaken(quota, o => { o.status = { hard: o.spec.hard, used: { pods: '3' } }; });
    expect(admission('zero-trust-managed-objects', {
      operation: 'UPDATE', subResource: 'status', object: used, oldObject: quota, userInfo: { username: 'system:serviceaccount:kube-system:resourcequota-controller' },
    })).toBeUndefined();
    // The serviceaccounts controller re-creates a deleted `default` account without the label: not matched, so never refused.
    const recreated = weaken(sa, o => { delete o.metadata.labels; delete (o as Json).automountServiceAccountToken; });
    expect(admission('zero-trust-managed-objects', {
      operation: 'CREATE', object: recreated, userInfo: { username: 'system:serviceaccount:kube-system:service-account-controller' },
    })).toBeUndefined();
    // On Kubernetes >= 1.24 the tokens controller updates a ServiceAccount only to drop a deleted token Secret from its
    // `secrets` list; the library's accounts list none, so it never writes them.
    for (const account of shop.filter(o => o.kind === 'ServiceAccount')) {
      expect({ name: nameOf(account), secrets: account.secrets, automount: account.automountServiceAccountToken })
        .toEqual({ name: nameOf(account), secrets: undefined, automount: false });
    }
    // But any other change by a controller identity is still refused.
    expect(admission('zero-trust-managed-objects', {
      operation: 'UPDATE',
      object: weaken(sa, o => { o.secrets = [{ name: 'x' }]; }),
      oldObject: sa,
      userInfo: { username: 'system:serviceaccount:kube-system:namespace-controller' },
    })?.allowed).toBe(false);
  });
  test('a tenant may not update, unlabel, delete or forge a managed object (a prefix look-alike is not the deployer)', () => {
    const update = admission('zero-trust-managed-objects', { operation: 'UPDATE', object: loosened, oldObject: pa, userInfo: tenant });
    expect(update?.allowed).toBe(false);
    expect(update?.messages[0]).toContain('PeerAuthentication shop/default is managed by cdk-zero-trust-eks');
    expect(update?.messages[0]).toContain('Fix:');
    const unlabelled = weaken(np, o => { delete o.metadata.labels; });
    expect(admission('zero-trust-managed-objects', { operation: 'UPDATE', object: unlabelled, oldObject: np, userInfo: tenant })?.allowed).toBe(false);
    expect(admission('zero-trust-managed-objects', { operation: 'DELETE', oldObject: np, userInfo: tenant })?.allowed).toBe(false);
    expect(admission('zero-trust-managed-objects', { operation: 'CREATE', object: loosened, userInfo: tenant })?.allowed).toBe(false);
  });
  test('break-glass may change them; namespace and garbage collectors may only delete them', () => {
    expect(admission('zero-trust-managed-objects', { operation: 'UPDATE', object: loosened, oldObject: pa, userInfo: breakGlass })?.allowed).toBe(true);
    const collector: UserInfo = { username: 'system:serviceaccount:kube-system:namespace-controller' };
    expect(admission('zero-trust-managed-objects', { operation: 'DELETE', oldObject: np, userInfo: collector })?.allowed).toBe(true);
    expect(admission('zero-trust-managed-objects', { operation: 'UPDATE', object: loosened, oldObject: pa, userInfo: collector })?.allowed).toBe(false);
  });
  test('unmanaged objects, and copies the EndpointSlice controller makes of Service labels, are not matched', () => {
    const unmanaged = weaken(pa, o => { delete o.metadata.labels; });
    expect(admission('zero-trust-managed-objects', { operation: 'UPDATE', object: unmanaged, oldObject: unmanaged, userInfo: tenant })).toBeUndefined();
    const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'user-abc', namespace: 'shop', labels: (pa.metadata as Json).labels } };
    expect(admission('zero-trust-managed-objects', { operation: 'CREATE', object: slice, userInfo: tenant })).toBeUndefined();
  });
});

describe('dogfooding: the seed scenario against every guardrail', () => {
  test('every emitted object is admitted by every Gatekeeper constraint that matches it', () => {
    let evaluated = 0;
    for (const obj of shop) {
      for (const constraint of constraints) {
        const verdict = gatekeeper(String(constraint.kind), obj);
        if (verdict === undefined) continue;
        evaluated++;
        expect({ obj: `${String(obj.kind)} ${nameOf(obj)}`, constraint: constraint.kind, messages: verdict.messages })
          .toEqual({ obj: `${String(obj.kind)} ${nameOf(obj)}`, constraint: constraint.kind, messages: [] });
      }
    }
    // Namespaces (3), PeerAuthentications (4), AuthorizationPolicies and Services are all judged.
    expect(evaluated).toBeGreaterThanOrEqual(3 + 4 + 8 + 5);
  });
  test('the guardrails themselves may be applied by the deployer', () => {
    for (const obj of objects) {
      const verdict = admission('zero-trust-managed-objects', { operation: 'CREATE', object: obj, userInfo: { username: 'x', groups: ['zero-trust:break-glass'] } });
      if (verdict) expect(verdict.allowed).toBe(true);
    }
  });
});

test('every validation of every template and admission policy both admitted and denied something', () => {
  const expected = [
    ...templates.map(t => ({ id: nameOf(t), count: (t.spec as any).targets[0].code[0].source.validations as unknown[] })),
    ...policies.map(p => ({ id: nameOf(p), count: (p.spec as Json).validations as unknown[] })),
  ].flatMap(({ id, count }) => count.map((_, i) => `${id}#${i}`));
  // namespace 1, peer authentication 2, authorization 3, service 1, service account 2, host 4, registries 1;
  // quarantine label 2 (label change, delete), managed objects 1
  expect(expected.length).toBe(17);
  const missing = expected.filter(key => !(outcomes.get(key)?.admitted && outcomes.get(key)?.denied));
  expect(missing).toEqual([]);
});
