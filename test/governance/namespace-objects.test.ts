/**
 * The objects every service namespace gets besides its policies (ResourceQuota, LimitRange, the
 * `default` ServiceAccount, the pinned Pod Security labels), against the guardrails: the deployer
 * may apply them, and a tenant may not loosen them.
 */
import { constraintMatches, evaluateConstraint, evaluatePolicy, Json, policyMatches, Review, UserInfo } from './admission-cel';
import { GUARDRAIL_PROPS, synthGuardrails, weaken } from './fixtures';
import { ServicePort } from '../../lib';
import { EDITOR_RULES } from '../../lib/governance/rbac';
import { newChart, synth } from '../support/manifests';

const guardrails = synthGuardrails();
const templates = guardrails.filter(o => o.kind === 'ConstraintTemplate');
const constraints = guardrails.filter(o => String(o.apiVersion).startsWith('constraints.gatekeeper.sh/'));
const nameOf = (o: Json) => String((o.metadata as Json).name);
const deployer: UserInfo = { username: `${GUARDRAIL_PROPS.deployers!.usernamePrefixes![0]}handler` };
const tenant: UserInfo = { username: 'arn:aws:sts::111122223333:assumed-role/ShopEditors/bob', groups: ['zero-trust:shop:editors', 'system:authenticated'] };

function chartObjects(optOutReason?: string): Json[] {
  const chart = newChart({ kubernetesVersion: '1.35', namespaceResources: optOutReason ? { optOutReason } : undefined });
  const order = chart.addService('order', {});
  chart.addService('payment', { namespace: 'payments', ports: [ServicePort.http(8443)] }).allowFrom(order);
  return synth(chart) as unknown as Json[];
}

const NEW_KINDS = ['ResourceQuota', 'LimitRange', 'Namespace', 'ServiceAccount'];
const find = (objects: Json[], kind: string, namespace: string | undefined, name: string) =>
  objects.find(o => o.kind === kind && (o.metadata as Json).namespace === namespace && nameOf(o) === name)!;

/** The managed-objects admission policy's verdict, or undefined when it does not match the request. */
function managedObjects(review: Review) {
  const policy = guardrails.find(o => o.kind === 'ValidatingAdmissionPolicy' && nameOf(o) === 'zero-trust-managed-objects')!;
  const binding = guardrails.find(o => o.kind === 'ValidatingAdmissionPolicyBinding' && (o.spec as Json).policyName === 'zero-trust-managed-objects')!;
  return policyMatches(policy, binding, review) ? evaluatePolicy(policy, review) : undefined;
}

describe.each([['the defaults', undefined], ['the named opt-out', 'quotas are managed by the platform repository']])('with %s', (_name, optOut) => {
  const objects = chartObjects(optOut).filter(o => NEW_KINDS.includes(String(o.kind)));

  test('every Gatekeeper constraint that matches one of these objects admits it', () => {
    let judged = 0;
    for (const obj of objects) {
      for (const constraint of constraints.filter(c => constraintMatches(c, obj))) {
        const template = templates.find(t => nameOf(t) === String(constraint.kind).toLowerCase())!;
        judged++;
        const ref = `${String(obj.kind)} ${nameOf(obj)}`;
        expect({ ref, constraint: constraint.kind, messages: evaluateConstraint(template, constraint, { operation: 'CREATE', object: obj }).messages })
          .toEqual({ ref, constraint: constraint.kind, messages: [] });
      }
    }
    // Both Namespaces, with enforce-version v1.35 (and the opt-out annotation), are judged by the namespace-labels guardrail.
    expect(judged).toBeGreaterThanOrEqual(2);
  });

  test('each of them is guarded by the managed-objects policy, and the deployer may create, update and delete it', () => {
    expect(new Set(objects.map(o => o.kind))).toEqual(new Set(optOut ? ['Namespace', 'ServiceAccount'] : NEW_KINDS));
    for (const obj of objects) {
      for (const review of [{ operation: 'CREATE', object: obj }, { operation: 'UPDATE', object: obj, oldObject: obj }, { operation: 'DELETE', oldObject: obj }] as Review[]) {
        const ref = `${review.operation} ${String(obj.kind)} ${nameOf(obj)}`;
        // undefined (not matched) would mean a tenant could change it unjudged.
        expect({ ref, allowed: managedObjects({ ...review, userInfo: deployer })?.allowed }).toEqual({ ref, allowed: true });
      }
    }
  });
});

describe('a tenant may not loosen them', () => {
  const objects = chartObjects();

  test('mounting the default service account\'s token, or deleting it, is denied by the managed-objects admission policy', () => {
    const sa = find(objects, 'ServiceAccount', 'shop', 'default');
    const mounting = weaken(sa, o => { (o as Json).automountServiceAccountToken = true; });
    const update = managedObjects({ operation: 'UPDATE', object: mounting, oldObject: sa, userInfo: tenant });
    expect(update?.allowed).toBe(false);
    expect(update?.messages[0]).toContain('ServiceAccount shop/default is managed by cdk-zero-trust-eks');
    expect(managedObjects({ operation: 'DELETE', oldObject: sa, userInfo: tenant })?.allowed).toBe(false);
  });

  test('raising the ResourceQuota or removing the LimitRange is denied, naming the object and the fix', () => {
    const quota = find(objects, 'ResourceQuota', 'payments', 'zero-trust.resource-quota');
    const limits = find(objects, 'LimitRange', 'payments', 'zero-trust.limit-range');
    const raised = weaken(quota, o => { o.spec.hard = { ...o.spec.hard, pods: '100000' }; });
    const update = managedObjects({ operation: 'UPDATE', object: raised, oldObject: quota, userInfo: tenant });
    expect(update?.allowed).toBe(false);
    expect(update?.messages[0]).toMatch(/^ResourceQuota payments\/zero-trust\.resource-quota is managed by cdk-zero-trust-eks; .* may not UPDATE it\. Fix: /);
    const removal = managedObjects({ operation: 'DELETE', oldObject: limits, userInfo: tenant });
    expect(removal?.allowed).toBe(false);
    expect(removal?.messages[0]).toContain('LimitRange payments/zero-trust.limit-range is managed by cdk-zero-trust-eks');
    // A look-alike created by a tenant with the managed-by label is refused too (a second, looser quota).
    expect(managedObjects({ operation: 'CREATE', object: weaken(raised, o => { o.metadata.name = 'mine'; }), userInfo: tenant })?.allowed).toBe(false);
  });

  test('the editor Role grants no write on ResourceQuotas, LimitRanges or ServiceAccounts', () => {
    const writable = EDITOR_RULES.filter(r => r.verbs.some(v => ['create', 'update', 'patch', 'delete'].includes(v)))
      .flatMap(r => r.apiGroups.flatMap(g => r.resources.map(res => `${g}/${res}`)));
    for (const resource of ['/resourcequotas', '/limitranges', '/serviceaccounts', '/namespaces']) {
      expect(writable).not.toContain(resource);
    }
    expect(writable.some(w => w.includes('*'))).toBe(false);
  });

  test('the namespace-labels guardrail still refuses a namespace that drops restricted, whatever its enforce-version', () => {
    const ns = find(objects, 'Namespace', undefined, 'payments');
    const constraint = constraints.find(c => c.kind === 'ZeroTrustNamespaceLabels')!;
    const template = templates.find(t => nameOf(t) === 'zerotrustnamespacelabels')!;
    const weak = weaken(ns, o => { o.metadata.labels['pod-security.kubernetes.io/warn'] = 'baseline'; });
    expect(evaluateConstraint(template, constraint, { operation: 'CREATE', object: weak }).allowed).toBe(false);
  });
});
