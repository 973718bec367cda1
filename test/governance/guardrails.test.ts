/** The emitted guardrail objects: schema, shape, props, ordering and a reviewed snapshot. */
import Ajv from 'ajv';
import { Chart, Testing } from 'cdk8s';
import { Json } from './admission-cel';
import { GUARDRAIL_PROPS, synthGuardrails } from './fixtures';
import { EnforcementAction, ZeroTrustGuardrails, ZeroTrustGuardrailsProps } from '../../lib/governance';
import { expectValidManifests } from '../support/schema-validator';

const objects = synthGuardrails();
const templates = objects.filter(o => o.kind === 'ConstraintTemplate');
const constraints = objects.filter(o => String(o.apiVersion).startsWith('constraints.gatekeeper.sh/'));
const nameOf = (o: Json) => String((o.metadata as Json).name);
const specOf = (o: Json) => o.spec as any;

function build(props: ZeroTrustGuardrailsProps): Json[] {
  return synthGuardrails({ ...GUARDRAIL_PROPS, ...props });
}

describe('emitted objects', () => {
  test('ConstraintTemplates, ValidatingAdmissionPolicies and bindings are valid against their schemas', () => {
    expect(templates).toHaveLength(7);
    expectValidManifests(objects.filter(o => !constraints.includes(o)));
    expect(objects.filter(o => o.kind === 'ValidatingAdmissionPolicy').map(nameOf)).toEqual(['zero-trust-quarantine-label', 'zero-trust-managed-objects']);
  });

  test('every object carries the managed-by label', () => {
    expect(objects).toHaveLength(7 + 7 + 4);
    for (const o of objects) expect((o.metadata as Json).labels).toEqual({ 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks' });
  });

  test('templates use the CEL engine, are named after their kind and carry only K8sNativeValidation code', () => {
    for (const t of templates) {
      const spec = specOf(t);
      expect(nameOf(t)).toBe(spec.crd.spec.names.kind.toLowerCase());
      expect(spec.targets).toHaveLength(1);
      expect(spec.targets[0].target).toBe('admission.k8s.gatekeeper.sh');
      expect(spec.targets[0].rego).toBeUndefined();
      expect(spec.targets[0].code.map((c: Json) => c.engine)).toEqual(['K8sNativeValidation']);
      for (const v of spec.targets[0].code[0].source.validations) {
        expect(v.expression).toMatch(/^object == null \|\| /); // DELETE is never judged on shape
        expect(v.messageExpression).toContain('Fix:');
      }
    }
  });

  test('each Constraint is of its template kind, denies by default, excludes system namespaces and has parameters its schema accepts', () => {
    const ajv = new Ajv({ strict: false });
    expect(constraints).toHaveLength(templates.length);
    for (const c of constraints) {
      const template = templates.find(t => specOf(t).crd.spec.names.kind === c.kind);
      expect(template).toBeDefined();
      expect(c.apiVersion).toBe('constraints.gatekeeper.sh/v1beta1');
      expect(nameOf(c)).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      const spec = specOf(c);
      expect(spec.enforcementAction).toBe('deny');
      expect(spec.match.kinds.length).toBeGreaterThan(0);
      expect(spec.match.excludedNamespaces).toEqual(expect.arrayContaining(['gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system']));
      expect(spec.match.excludedNamespaces).toEqual([...spec.match.excludedNamespaces].sort());
      const schema = specOf(template!).crd.spec.validation?.openAPIV3Schema;
      if (schema) {
        const validate = ajv.compile({ ...schema, additionalProperties: false });
        const result = { constraint: c.kind, valid: validate(spec.parameters), errors: validate.errors };
        expect(result).toEqual({ constraint: c.kind, valid: true, errors: null });
      } else {
        expect(spec.parameters).toBeUndefined();
      }
    }
  });

  test('the mesh-wide objects are judged: istio-system is excluded only from the workload and namespace guardrails', () => {
    const excluded = (kind: string) => specOf(constraints.find(c => c.kind === kind)!).match.excludedNamespaces as string[];
    for (const kind of ['ZeroTrustPeerAuthenticationStrict', 'ZeroTrustAuthorizationPrincipals', 'ZeroTrustServiceExposure', 'ZeroTrustAllowedRegistries']) {
      expect(excluded(kind)).not.toContain('istio-system');
      expect(excluded(kind)).not.toContain('istio-ingress');
    }
    for (const kind of ['ZeroTrustNamespaceLabels', 'ZeroTrustPodServiceAccount', 'ZeroTrustHostIsolation']) {
      expect(excluded(kind)).toEqual(expect.arrayContaining(['istio-cni', 'istio-ingress', 'istio-system']));
    }
  });

  test('output order: each template before its constraint, each policy before its binding', () => {
    const index = (pred: (o: Json) => boolean) => objects.findIndex(pred);
    for (const c of constraints) {
      expect(index(o => o.kind === 'ConstraintTemplate' && nameOf(o) === String(c.kind).toLowerCase())).toBeLessThan(objects.indexOf(c));
    }
    for (const b of objects.filter(o => o.kind === 'ValidatingAdmissionPolicyBinding')) {
      expect(index(o => o.kind === 'ValidatingAdmissionPolicy' && nameOf(o) === specOf(b).policyName)).toBeLessThan(objects.indexOf(b));
      expect(specOf(b).validationActions).toEqual(['Deny']);
    }
  });

  test('the identities end up in the admission policies as CEL literals', () => {
    const quarantine = objects.find(o => nameOf(o) === 'zero-trust-quarantine-label' && o.kind === 'ValidatingAdmissionPolicy')!;
    const managed = objects.find(o => nameOf(o) === 'zero-trust-managed-objects' && o.kind === 'ValidatingAdmissionPolicy')!;
    const trusted = (p: Json) => specOf(p).variables.find((v: Json) => v.name === 'trusted').expression;
    expect(trusted(quarantine)).toBe('request.userInfo.username in ["system:serviceaccount:zero-trust:responder"]'
      + ' || (has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ["zero-trust:break-glass"]))');
    expect(trusted(managed)).toContain('request.userInfo.username.startsWith("arn:aws:sts::111122223333:assumed-role/KubectlRole/")');
    expect(trusted(managed)).not.toContain('responder');
    expect(specOf(quarantine).failurePolicy).toBe('Fail');
  });

  test('snapshot', () => {
    expect(objects).toMatchSnapshot();
  });
});

describe('props', () => {
  test('enforcement actions per guardrail: warn and dryrun on constraints and bindings', () => {
    const out = build({
      peerAuthenticationStrict: { enforcementAction: EnforcementAction.WARN },
      allowedRegistries: { enforcementAction: EnforcementAction.DRYRUN },
      quarantineLabel: { enforcementAction: EnforcementAction.WARN },
      managedObjects: { enforcementAction: EnforcementAction.DRYRUN },
    });
    const action = (kind: string) => specOf(out.find(o => o.kind === kind)!).enforcementAction;
    expect(action('ZeroTrustPeerAuthenticationStrict')).toBe('warn');
    expect(action('ZeroTrustAllowedRegistries')).toBe('dryrun');
    expect(action('ZeroTrustHostIsolation')).toBe('deny');
    const binding = (name: string) => specOf(out.find(o => o.kind === 'ValidatingAdmissionPolicyBinding' && nameOf(o) === name)!).validationActions;
    expect(binding('zero-trust-quarantine-label')).toEqual(['Warn', 'Audit']);
    expect(binding('zero-trust-managed-objects')).toEqual(['Audit']);
  });

  test('a namespace exemption is excluded and recorded with its reason', () => {
    const out = build({
      hostIsolation: { exemptions: [{ namespace: 'monitoring', reason: 'node-exporter reads host metrics' }] },
      quarantineLabel: { exemptions: [{ namespace: 'sandbox', reason: 'throwaway pods' }] },
    });
    const host = out.find(o => o.kind === 'ZeroTrustHostIsolation')!;
    expect(specOf(host).match.excludedNamespaces).toContain('monitoring');
    expect(JSON.parse(((host.metadata as Json).annotations as Json)['zero-trust.cdk.io/exemptions'] as string))
      .toEqual([{ namespace: 'monitoring', reason: 'node-exporter reads host metrics' }]);
    expect(specOf(out.find(o => o.kind === 'ZeroTrustAllowedRegistries')!).match.excludedNamespaces).not.toContain('monitoring');
    const binding = out.find(o => o.kind === 'ValidatingAdmissionPolicyBinding' && nameOf(o) === 'zero-trust-quarantine-label')!;
    expect(specOf(binding).matchResources.namespaceSelector.matchExpressions)
      .toEqual([{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['sandbox'] }]);
    expectValidManifests([binding]);
  });

  test('the platform props move the ingress namespace, gateway selector and quarantine label', () => {
    const out = build({ platform: { ingressGateway: { namespace: 'edge', podLabels: { gw: 'edge' } }, quarantineLabel: 'security.example.com/quarantine' } });
    expect(specOf(out.find(o => o.kind === 'ZeroTrustServiceExposure')!).parameters).toEqual({ allowedNamespaces: ['edge'] });
    expect(specOf(out.find(o => o.kind === 'ZeroTrustAuthorizationPrincipals')!).parameters)
      .toEqual({ ingressGatewayNamespace: 'edge', ingressGatewaySelector: { gw: 'edge' } });
    const vap = out.find(o => o.kind === 'ValidatingAdmissionPolicy' && nameOf(o) === 'zero-trust-quarantine-label')!;
    expect(specOf(vap).matchConstraints.objectSelector.matchExpressions[0].key).toBe('security.example.com/quarantine');
  });

  test.each<[string, ZeroTrustGuardrailsProps, RegExp]>([
    ['an exemption without reason', { hostIsolation: { exemptions: [{ namespace: 'x', reason: ' ' }] } }, /has no reason/],
    ['a duplicate exemption', { hostIsolation: { exemptions: [{ namespace: 'x', reason: 'a' }, { namespace: 'x', reason: 'b' }] } }, /twice/],
    ['an exemption that is not a namespace', { serviceExposure: { exemptions: [{ namespace: 'Not_A_Namespace', reason: 'a' }] } }, /not a namespace name/],
    ['a registry prefix without /', { allowedImageRegistries: ['docker.io/istio'] }, /must end with "\/"/],
    ['no registry', { allowedImageRegistries: [] }, /no pod could start/],
    ['a username prefix without separator', { breakGlass: { usernamePrefixes: ['arn:aws:sts::1:assumed-role/BreakGlass'] } }, /must end with/],
    ['an empty group', { deployers: { groups: [''] } }, /empty identity/],
  ])('rejects %s', (_what, props, error) => {
    expect(() => build(props)).toThrow(error);
  });

  test('rejects a chart with a namespace (the guardrails are cluster-scoped)', () => {
    const chart = new Chart(Testing.app(), 'guardrails', { namespace: 'shop' });
    expect(() => new ZeroTrustGuardrails(chart, 'g')).toThrow(/Chart without a namespace/);
  });

  test('defaults: the deployer, responder and break-glass groups, and only Istio images', () => {
    const chart = new Chart(Testing.app(), 'guardrails');
    new ZeroTrustGuardrails(chart, 'g');
    const out = Testing.synth(chart) as Json[];
    expect(specOf(out.find(o => o.kind === 'ZeroTrustAllowedRegistries')!).parameters).toEqual({ registries: ['docker.io/istio/'] });
    const managed = out.find(o => o.kind === 'ValidatingAdmissionPolicy' && nameOf(o) === 'zero-trust-managed-objects')!;
    expect(JSON.stringify(specOf(managed).variables)).toContain('[\\"zero-trust:break-glass\\", \\"zero-trust:deployers\\"]');
  });
});
