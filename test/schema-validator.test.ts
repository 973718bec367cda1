import { compileValidationRules } from './support/cel-kubernetes';
import { expectValidManifests, validateManifest } from './support/schema-validator';

type Manifest = Record<string, unknown>;

const meta = (name: string, namespace?: string): Manifest => (namespace === undefined ? { name } : { name, namespace });

function networkPolicy(spec: Manifest): Manifest {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('allow-web', 'shop'), spec };
}

function istio(apiVersion: string, kind: string, spec: Manifest, name = 'policy'): Manifest {
  return { apiVersion, kind, metadata: meta(name, 'shop'), spec };
}

const authorizationPolicy = (spec: Manifest) => istio('security.istio.io/v1', 'AuthorizationPolicy', spec);
const peerAuthentication = (spec: Manifest) => istio('security.istio.io/v1', 'PeerAuthentication', spec, 'default');

/** Asserts that the object is rejected with at least one message containing every fragment. */
function expectProblem(obj: Manifest, ...fragments: string[]): string[] {
  const problems = validateManifest(obj);
  const matching = problems.filter((p) => fragments.every((f) => p.includes(f)));
  if (matching.length === 0) throw new Error(`expected a problem containing ${JSON.stringify(fragments)}, got:\n${problems.join('\n') || '(valid)'}`);
  return problems;
}

describe('Kubernetes built-in kinds', () => {
  const validNetworkPolicy = networkPolicy({
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateway' } }, podSelector: {} }],
      ports: [{ port: 8080, protocol: 'TCP' }, { port: 'metrics' }],
    }],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 53, protocol: 'UDP' }] }],
  });

  test('valid NetworkPolicy, Namespace, ServiceAccount and Service pass', () => {
    expectValidManifests([
      validNetworkPolicy,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled' } } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('web', 'shop'), automountServiceAccountToken: false },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta('web', 'shop'),
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], type: 'ClusterIP' },
      },
    ]);
  });

  test('an unknown field (ingress[0].form instead of from) is rejected with its path', () => {
    const obj = networkPolicy({ podSelector: {}, ingress: [{ form: [{ podSelector: {} }] }] });
    expect(validateManifest(obj)).toEqual(['NetworkPolicy shop/allow-web: spec.ingress[0].form: unknown field "form"']);
  });

  test('unknown fields are found at any depth, including metadata', () => {
    expectProblem({ ...validNetworkPolicy, metadata: { name: 'x', namespace: 'shop', lables: { a: 'b' } } }, 'metadata.lables', 'unknown field');
    expectProblem({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('web', 'shop'),
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', imagePullPolicyy: 'Always' }] } },
      },
    }, 'spec.template.spec.containers[0].imagePullPolicyy', 'unknown field');
  });

  test('a bad enum value is rejected', () => {
    expectProblem(networkPolicy({ podSelector: {}, policyTypes: ['Inbound'] }), 'spec.policyTypes[0]', 'Unsupported value: "Inbound"', '"Ingress"');
  });

  test('a wrong type is rejected', () => {
    expectProblem(
      { apiVersion: 'v1', kind: 'Service', metadata: meta('web', 'shop'), spec: { ports: [{ port: '80' }] } },
      'Service shop/web: spec.ports[0].port', 'must be of type integer',
    );
    expectProblem(networkPolicy({ podSelector: {}, ingress: [{ ports: [{ port: true }] }] }), 'spec.ingress[0].ports[0].port', 'string or integer');
    expectProblem(networkPolicy({ podSelector: {}, ingress: {} }), 'spec.ingress', 'must be of type array');
  });

  test('required fields and metadata values are checked', () => {
    expectProblem(networkPolicy({ policyTypes: ['Ingress'] }), 'spec.podSelector', 'Required value');
    expectProblem({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Shop' } }, 'metadata.name', 'RFC 1123 label');
    expectProblem({ ...validNetworkPolicy, metadata: { name: 'x', labels: { app: 'a b' } } }, 'metadata.labels.app', 'valid label');
    expectProblem({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: {} }, 'metadata.name', 'Required value');
  });

  test('other core kinds are validated generically', () => {
    expectValidManifests([
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'zero-trust:reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
      },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('settings', 'shop'), data: { key: 'value' } },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: 'require-labels' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
          validations: [{ expression: 'has(object.metadata.labels)', message: 'labels are required' }],
        },
      },
    ]);
    expectProblem(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta('r', 'shop'), rules: [{ apiGroups: [''], resources: ['pods'], verb: ['get'] }] },
      'rules[0].verb', 'unknown field',
    );
    expectProblem({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('settings', 'shop'), data: { port: 8080 } }, 'data.port', 'must be of type string');
  });

  test('an unknown apiVersion/kind is an error, never silently accepted', () => {
    expectProblem({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, 'Widget w', 'unknown apiVersion/kind');
    expectProblem({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicyy', metadata: { name: 'w' } }, 'unknown apiVersion/kind');
    expectProblem({ apiVersion: 'v1', kind: 'Affinity', metadata: { name: 'w' } }, 'unknown apiVersion/kind'); // a nested type, not a kind
    expectProblem({ apiVersion: 'extensions/v1beta1', kind: 'NetworkPolicy', metadata: { name: 'w' } }, 'not part of the current Kubernetes API');
    expectProblem({ kind: 'Namespace', metadata: { name: 'w' } }, 'apiVersion', 'Required value');
  });

  test('expectValidManifests throws one error listing every problem of every object', () => {
    const objects = [
      validNetworkPolicy,
      networkPolicy({ podSelector: {}, ingress: [{ form: [] }] }),
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } },
    ];
    expect(() => expectValidManifests(objects)).toThrow(/2 schema problem\(s\) in 2 of 3 manifest\(s\)[\s\S]*\[1\] NetworkPolicy shop\/allow-web: spec\.ingress\[0\]\.form[\s\S]*\[2\] Widget w/);
  });
});

describe('Istio custom resources', () => {
  const principal = 'cluster.local/ns/shop/sa/frontend';

  test('valid PeerAuthentication, AuthorizationPolicies and Sidecar pass', () => {
    expectValidManifests([
      peerAuthentication({ mtls: { mode: 'STRICT' } }),
      authorizationPolicy({
        selector: { matchLabels: { app: 'web' } },
        action: 'ALLOW',
        rules: [{
          from: [{ source: { principals: [principal] } }],
          to: [{ operation: { ports: ['8080'], methods: ['GET', 'POST'], paths: ['/api/*'] } }],
        }],
      }),
      authorizationPolicy({}), // allow-nothing
      istio('security.istio.io/v1', 'AuthorizationPolicy', {
        selector: { matchLabels: { app: 'db' } }, action: 'DENY', rules: [{ from: [{ source: { notNamespaces: ['shop'] } }] }],
      }, 'deny-foreign'),
      istio('networking.istio.io/v1', 'Sidecar', {
        egress: [{ hosts: ['./*', 'istio-system/*'] }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
      }, 'default'),
    ]);
  });

  test('misspelt fields are rejected with their path', () => {
    expectProblem(authorizationPolicy({ rule: [] }), 'AuthorizationPolicy shop/policy: spec.rule', 'unknown field "rule"');
    expectProblem(
      authorizationPolicy({ rules: [{ from: [{ source: { principal: [principal] } }] }] }),
      'spec.rules[0].from[0].source.principal', 'unknown field',
    );
    expectProblem(istio('networking.istio.io/v1', 'Sidecar', { egress: [{ host: ['./*'] }] }), 'spec.egress[0].host', 'unknown field');
    expectProblem({ ...peerAuthentication({}), metadata: { name: 'default', namespace: 'shop', label: {} } }, 'metadata.label', 'unknown field');
  });

  test('bad values are rejected', () => {
    expectProblem(peerAuthentication({ mtls: { mode: 'STRICTT' } }), 'spec.mtls.mode', 'Unsupported value: "STRICTT"', '"STRICT"');
    expectProblem(authorizationPolicy({ action: 'PERMIT' }), 'spec.action', 'Unsupported value');
    expectProblem(authorizationPolicy({ rules: [{ to: [{ operation: { ports: [8080] } }] }] }), 'spec.rules[0].to[0].operation.ports[0]', 'must be of type string');
    expectProblem(authorizationPolicy({ selector: { matchLabels: { app: 'x'.repeat(64) } } }), 'spec.selector.matchLabels.app', 'more than 63 characters');
    expectProblem({ ...authorizationPolicy({}), metadata: { name: 'p', namespace: 'shop', labels: { tier: 1 } } }, 'metadata.labels.tier', 'must be of type string');
  });

  test('CEL rule: PeerAuthentication portLevelMtls requires a selector', () => {
    const portLevelMtls = { 8080: { mode: 'PERMISSIVE' } };
    expectProblem(peerAuthentication({ mtls: { mode: 'STRICT' }, portLevelMtls }), 'PeerAuthentication shop/default: spec:', 'portLevelMtls requires selector');
    expect(validateManifest(peerAuthentication({ selector: { matchLabels: { app: 'web' } }, mtls: { mode: 'STRICT' }, portLevelMtls }))).toEqual([]);
    expectProblem(peerAuthentication({ selector: { matchLabels: { app: 'web' } }, portLevelMtls: { http: { mode: 'DISABLE' } } }),
      'spec.portLevelMtls', 'port must be between 1-65535');
  });

  test('CEL rules of AuthorizationPolicy', () => {
    expectProblem(
      authorizationPolicy({ rules: [{ from: [{ source: { serviceAccounts: ['shop/frontend'], principals: [principal] } }] }] }),
      'spec.rules[0].from[0].source', 'Cannot set serviceAccounts with namespaces or principals',
    );
    expect(validateManifest(authorizationPolicy({ rules: [{ from: [{ source: { serviceAccounts: ['shop/frontend'] } }] }] }))).toEqual([]);
    expectProblem(
      authorizationPolicy({ selector: { matchLabels: { app: 'web' } }, targetRefs: [{ kind: 'Service', name: 'web' }] }),
      'spec:', 'only one of targetRefs or selector can be set',
    );
    expectProblem(authorizationPolicy({ selector: { matchLabels: { app: 'web-*' } } }), 'spec.selector.matchLabels.app', 'wildcard not allowed');
  });

  test('CEL URL library: RequestAuthentication jwksUri must be http(s)', () => {
    const requestAuthentication = (jwksUri: string) => istio('security.istio.io/v1', 'RequestAuthentication', { jwtRules: [{ issuer: 'https://issuer', jwksUri }] });
    expect(validateManifest(requestAuthentication('https://issuer/.well-known/jwks.json'))).toEqual([]);
    expectProblem(requestAuthentication('ftp://issuer/jwks.json'), 'spec.jwtRules[0].jwksUri', 'url must have scheme http:// or https://');
    expectProblem(requestAuthentication('issuer/jwks.json'), 'spec.jwtRules[0].jwksUri', 'evaluation error', 'URL parse error');
  });

  test('apiVersion must be a served version of a known CRD', () => {
    expectProblem({ ...peerAuthentication({}), apiVersion: 'security.istio.io/v1alpha1' }, 'has no version "v1alpha1"', 'v1, v1beta1');
    expectProblem(istio('security.istio.io/v1', 'PeerAuthenticationn', {}), 'unknown apiVersion/kind', 'known kinds:');
    expect(validateManifest({ ...peerAuthentication({ mtls: { mode: 'STRICT' } }), apiVersion: 'security.istio.io/v1beta1' })).toEqual([]);
  });
});

describe('Gatekeeper ConstraintTemplate', () => {
  const template = (targets: unknown[]): Manifest => ({
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name: 'k8srequiredlabels' },
    spec: {
      crd: { spec: { names: { kind: 'K8sRequiredLabels' }, validation: { openAPIV3Schema: { type: 'object', properties: { labels: { type: 'array' } } } } } },
      targets,
    },
  });
  const celCode = (engine: string) => ({
    engine,
    source: { validations: [{ expression: 'variables.params.labels.all(l, l in object.metadata.labels)', message: 'missing labels' }] },
  });

  test('a minimal valid ConstraintTemplate passes', () => {
    expect(validateManifest(template([{ target: 'admission.k8s.gatekeeper.sh', code: [celCode('K8sNativeValidation')] }]))).toEqual([]);
  });

  test('unknown fields and duplicate list-map keys are rejected', () => {
    expectProblem(template([{ target: 'admission.k8s.gatekeeper.sh', engine: 'K8sNativeValidation' }]), 'spec.targets[0].engine', 'unknown field');
    expectProblem(template([{ target: 'admission.k8s.gatekeeper.sh', code: [celCode('K8sNativeValidation'), celCode('K8sNativeValidation')] }]),
      'spec.targets[0].code[1]', 'Duplicate value');
  });
});

describe('CEL rule compilation', () => {
  test('unsupported functions fail loudly instead of passing', () => {
    expect(() => compileValidationRules([{ rule: 'self.isSorted()' }], { type: 'array', items: { type: 'integer' } }, 'test'))
      .toThrow(/unsupported function\(s\) isSorted/);
    expect(() => compileValidationRules([{ rule: 'self.foo(', message: 'x' }], { type: 'string' }, 'test')).toThrow(/does not compile/);
    expect(() => compileValidationRules([{ rule: 'self == oldSelf', optionalOldSelf: true }], { type: 'string' }, 'test')).toThrow(/optionalOldSelf/);
  });

  test('transition rules (oldSelf) are skipped on create', () => {
    const evaluate = compileValidationRules([{ rule: 'self == oldSelf', message: 'immutable' }], { type: 'string' }, 'test');
    expect(evaluate('anything')).toEqual([]);
  });

  test('int(string) parses like Go strconv.ParseInt', () => {
    const evaluate = compileValidationRules([{ rule: 'self.all(k, int(k) > 0)', message: 'bad' }],
      { type: 'object', additionalProperties: { type: 'string' } }, 'test');
    expect(evaluate({ '80': 'a', '+443': 'b' })).toEqual([]);
    for (const key of [' 80', '0x50', '']) expect(evaluate({ [key]: 'a' })[0]?.message).toMatch(/evaluation error/);
  });
});
