/**
 * What every service namespace of a ZeroTrustPolicyChart gets besides its policies: the Pod Security
 * labels pinned to a version (controls.md K8S-01), a ResourceQuota and a LimitRange (K8S-08), and a
 * `default` ServiceAccount that never mounts its token (K8S-09). Objects are found by kind,
 * namespace and name; every validation has a negative test whose message names the chart, the
 * field, the bad value and the fix.
 */
import { NamespaceResourceOptions, ServicePort, ZeroTrustPolicyChartProps } from '../lib';
import { find, has, Manifest, newChart, ofKind, synth } from './support/manifests';
import { expectValidManifests } from './support/schema-validator';

const SERVICE_NAMESPACES = ['analytics', 'payments', 'shop'];
const PLATFORM_NAMESPACES = ['istio-system', 'istio-ingress'];
const OPT_OUT = 'zero-trust.cdk.io/namespace-resources-opt-out';

/** Three service namespaces, one service with callers, and the platform policies (so the platform namespaces get objects too). */
function declare(props: ZeroTrustPolicyChartProps = {}): Manifest[] {
  const chart = newChart({
    platformNetwork: { controlPlaneCidrs: ['10.0.0.0/28'], loadBalancerCidrs: ['10.0.1.0/28'] },
    ...props,
  });
  const api = chart.addService('api-gateway', { ports: [ServicePort.http(8080)] });
  chart.addService('order', {});
  chart.addService('payment', { namespace: 'payments', ports: [ServicePort.http(8443)] }).allowFrom(api);
  chart.addService('analytics', { namespace: 'analytics', ports: [ServicePort.http(8080)] });
  api.allowFromIngressGateway();
  return synth(chart);
}

/** Every message names the chart, the field, the bad value and a fix. */
function expectError(fn: () => unknown, ...parts: string[]): void {
  let message = '';
  try {
    fn();
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain("ZeroTrustPolicyChart 'shop'");
  for (const part of parts) {
    expect(message).toContain(part);
  }
  expect(message).toMatch(/\(got .+\)\. Fix: .+/);
}

const withResources = (namespaceResources: NamespaceResourceOptions) => () => declare({ namespaceResources });

describe('K8S-09: the default ServiceAccount of every service namespace mounts no token', () => {
  const objects = declare();

  test('each service namespace has exactly one ServiceAccount/default, automountServiceAccountToken: false, managed', () => {
    for (const ns of SERVICE_NAMESPACES) {
      const sa = find(objects, 'ServiceAccount', ns, 'default');
      expect({ ns, automount: sa.automountServiceAccountToken, labels: sa.metadata.labels })
        .toEqual({ ns, automount: false, labels: { 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks' } });
      expect(sa.metadata.annotations).toBeUndefined();
    }
  });

  test('the dedicated service accounts are still there, and none of them is called default', () => {
    for (const [ns, name] of [['shop', 'api-gateway'], ['shop', 'order'], ['payments', 'payment'], ['analytics', 'analytics']]) {
      expect(find(objects, 'ServiceAccount', ns, name).automountServiceAccountToken).toBe(false);
    }
    expect(ofKind(objects, 'ServiceAccount').filter(o => o.metadata.name === 'default').map(o => o.metadata.namespace).sort()).toEqual(SERVICE_NAMESPACES);
  });

  test('the chart touches no ServiceAccount in the platform namespaces', () => {
    for (const ns of PLATFORM_NAMESPACES) {
      expect({ ns, accounts: ofKind(objects, 'ServiceAccount').filter(o => o.metadata.namespace === ns) }).toEqual({ ns, accounts: [] });
    }
  });

  test('it is applied after everything else of its namespace (Kubernetes creates it when the Namespace appears)', () => {
    const shop = objects.filter(o => o.metadata.namespace === 'shop' || (o.kind === 'Namespace' && o.metadata.name === 'shop'));
    expect(`${shop[shop.length - 1].kind}/${shop[shop.length - 1].metadata.name}`).toBe('ServiceAccount/default');
  });

  test('negative: a service may not run as the default service account, in any namespace', () => {
    for (const namespace of ['shop', 'payments']) {
      let message = '';
      try {
        newChart().addService('order', { namespace, serviceAccountName: 'default' });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain("service 'order': serviceAccountName must not be the namespace's 'default' service account");
      expect(message).toContain("(got 'default'). Fix: leave it out to get a dedicated one ('order')");
    }
  });
});

describe('K8S-08: one ResourceQuota and one LimitRange per service namespace', () => {
  const objects = declare();

  test('the documented defaults: requests and memory limits bounded, no LoadBalancer or NodePort Services', () => {
    for (const ns of SERVICE_NAMESPACES) {
      expect(ofKind(objects, 'ResourceQuota').filter(o => o.metadata.namespace === ns)).toHaveLength(1);
      expect(ofKind(objects, 'LimitRange').filter(o => o.metadata.namespace === ns)).toHaveLength(1);
      expect(find(objects, 'ResourceQuota', ns, 'zero-trust.resource-quota').spec).toEqual({
        hard: {
          'limits.memory': '96Gi',
          'pods': '50',
          'requests.cpu': '16',
          'requests.memory': '32Gi',
          'services.loadbalancers': '0',
          'services.nodeports': '0',
        },
      });
      expect(find(objects, 'LimitRange', ns, 'zero-trust.limit-range').spec).toEqual({
        limits: [{ type: 'Container', defaultRequest: { cpu: '100m', memory: '128Mi' }, default: { memory: '512Mi' } }],
      });
      expect(find(objects, 'LimitRange', ns, 'zero-trust.limit-range').metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks' });
      expect(find(objects, 'Namespace', undefined, ns).metadata.annotations).toBeUndefined();
    }
  });

  test('the platform namespaces (ingress gateway, mesh root) get none: the LoadBalancer Service lives there', () => {
    for (const ns of PLATFORM_NAMESPACES) {
      expect(has(objects, 'ResourceQuota', ns, 'zero-trust.resource-quota')).toBe(false);
      expect(has(objects, 'LimitRange', ns, 'zero-trust.limit-range')).toBe(false);
    }
    expect(ofKind(objects, 'ResourceQuota')).toHaveLength(SERVICE_NAMESPACES.length);
  });

  test('quota entries merge over the defaults, container defaults replace theirs, a CPU limit may be added', () => {
    const tuned = declare({
      namespaceResources: {
        quota: { 'requests.cpu': '24', 'limits.cpu': '32', 'count/jobs.batch': '10', 'requests.storage': '100Gi' },
        containerDefaults: { cpuRequest: '250m', memoryRequest: '256Mi', memoryLimit: '1Gi', cpuLimit: '2' },
      },
    });
    expect(find(tuned, 'ResourceQuota', 'payments', 'zero-trust.resource-quota').spec.hard).toEqual({
      'count/jobs.batch': '10',
      'limits.cpu': '32',
      'limits.memory': '96Gi',
      'pods': '50',
      'requests.cpu': '24',
      'requests.memory': '32Gi',
      'requests.storage': '100Gi',
      'services.loadbalancers': '0',
      'services.nodeports': '0',
    });
    expect(Object.keys(find(tuned, 'ResourceQuota', 'payments', 'zero-trust.resource-quota').spec.hard))
      .toEqual(Object.keys(find(tuned, 'ResourceQuota', 'payments', 'zero-trust.resource-quota').spec.hard).sort());
    expect(find(tuned, 'LimitRange', 'payments', 'zero-trust.limit-range').spec.limits).toEqual([
      { type: 'Container', defaultRequest: { cpu: '250m', memory: '256Mi' }, default: { cpu: '2', memory: '1Gi' } },
    ]);
    expectValidManifests(tuned);
  });

  test('the named opt-out emits neither object and records its reason on every service Namespace', () => {
    const reason = 'quotas are set per team by the platform repository';
    const out = declare({ namespaceResources: { optOutReason: reason } });
    expect(ofKind(out, 'ResourceQuota')).toEqual([]);
    expect(ofKind(out, 'LimitRange')).toEqual([]);
    for (const ns of SERVICE_NAMESPACES) {
      expect(find(out, 'Namespace', undefined, ns).metadata.annotations).toEqual({ [OPT_OUT]: reason });
      expect(find(out, 'ServiceAccount', ns, 'default').automountServiceAccountToken).toBe(false);
    }
    expectValidManifests(out);
  });

  describe('negative: every bad value is refused when the chart is created', () => {
    test.each([
      ['a unit the API server does not know', { 'requests.cpu': '8 cores' }, "namespaceResources.quota['requests.cpu']", "'8 cores'"],
      ['a negative quantity', { 'requests.memory': '-1Gi' }, "namespaceResources.quota['requests.memory']", "'-1Gi'"],
      ['an empty value', { 'limits.memory': '' }, "namespaceResources.quota['limits.memory']", "''"],
      ['a lowercase binary suffix', { 'limits.memory': '4gi' }, "namespaceResources.quota['limits.memory']", "'4gi'"],
      ['a fractional object count', { pods: '1.5' }, "namespaceResources.quota['pods'] counts objects", "'1.5'"],
      ['a fractional count/ quota', { 'count/secrets': '2k' }, "namespaceResources.quota['count/secrets'] counts objects", "'2k'"],
    ])('quota: %s', (_name, quota, field, value) => {
      expectError(withResources({ quota }), field, 'must be', `(got ${value})`, 'Fix:');
    });

    test('quota: a key that is no resource name', () => {
      expectError(withResources({ quota: { 'requests cpu': '1' } }), 'namespaceResources.quota key', "(got 'requests cpu')", "e.g. 'requests.cpu'");
    });

    test.each(['services.loadbalancers', 'services.nodeports'])('quota: %s above 0 (only the ingress namespace exposes Services)', key => {
      expectError(withResources({ quota: { [key]: '1' } }), `namespaceResources.quota['${key}'] must stay '0'`, "(got '1')", 'allowFromIngressGateway');
    });

    test('quota: limits.cpu without a default CPU limit would refuse every pod that sets none', () => {
      expectError(withResources({ quota: { 'limits.cpu': '16' } }), "namespaceResources.quota['limits.cpu']", "(got '16')", 'containerDefaults.cpuLimit');
    });

    test.each([
      ['cpuRequest', { cpuRequest: 'lots' }, "'lots'"],
      ['memoryRequest', { memoryRequest: '128MB' }, "'128MB'"],
      ['memoryLimit', { memoryLimit: '0.5 Gi' }, "'0.5 Gi'"],
      ['cpuLimit', { cpuLimit: '-2' }, "'-2'"],
    ])('containerDefaults.%s: not a quantity', (name, containerDefaults, value) => {
      expectError(withResources({ containerDefaults }), `namespaceResources.containerDefaults.${name} must be a Kubernetes quantity`, `(got ${value})`);
    });

    test('containerDefaults: a zero request', () => {
      expectError(withResources({ containerDefaults: { cpuRequest: '0' } }), 'namespaceResources.containerDefaults.cpuRequest must be greater than 0', "(got '0')");
    });

    test('containerDefaults: a memory request above the memory limit (the API server rejects the LimitRange)', () => {
      expectError(withResources({ containerDefaults: { memoryRequest: '1Gi', memoryLimit: '512Mi' } }),
        'namespaceResources.containerDefaults.memoryRequest', "more than containerDefaults.memoryLimit '512Mi'", "(got '1Gi')");
    });

    test('containerDefaults: a CPU request above the CPU limit', () => {
      expectError(withResources({ containerDefaults: { cpuRequest: '2', cpuLimit: '1500m' } }),
        'namespaceResources.containerDefaults.cpuRequest', "more than containerDefaults.cpuLimit '1500m'", "(got '2')");
    });

    test('containerDefaults: a default above the whole namespace quota', () => {
      expectError(withResources({ quota: { 'requests.memory': '1Gi' }, containerDefaults: { memoryRequest: '2Gi', memoryLimit: '4Gi' } }),
        'namespaceResources.containerDefaults.memoryRequest', "the namespace quota requests.memory '1Gi'", "(got '2Gi')");
      expectError(withResources({ quota: { 'limits.memory': '256Mi' } }),
        'namespaceResources.containerDefaults.memoryLimit', "the namespace quota limits.memory '256Mi'", "(got '512Mi')");
    });

    test('containerDefaults: compared across units (1Gi is more than 1G, 1500m less than 2)', () => {
      expectError(withResources({ quota: { 'requests.memory': '1G' }, containerDefaults: { memoryRequest: '1Gi', memoryLimit: '2Gi' } }),
        'namespaceResources.containerDefaults.memoryRequest', "the namespace quota requests.memory '1G'", "(got '1Gi')");
      expectError(withResources({ quota: { 'requests.cpu': '1500m' }, containerDefaults: { cpuRequest: '2' } }),
        'namespaceResources.containerDefaults.cpuRequest', "the namespace quota requests.cpu '1500m'", "(got '2')");
      expect(() => declare({ namespaceResources: { quota: { 'requests.memory': '2G', 'requests.cpu': '2k' }, containerDefaults: { memoryRequest: '1Gi', memoryLimit: '1Gi', cpuRequest: '1500' } } }))
        .not.toThrow();
    });

    test('optOutReason: blank, or combined with settings that would never be emitted', () => {
      expectError(withResources({ optOutReason: '  ' }), 'namespaceResources.optOutReason must say why', "(got '  ')");
      expectError(withResources({ optOutReason: 'managed elsewhere', quota: { pods: '10' } }),
        'namespaceResources.optOutReason cannot be combined with quota or containerDefaults', "(got 'managed elsewhere')");
    });
  });

  test('accepted quantity forms: decimal and binary suffixes, exponents, millicores', () => {
    const objects2 = declare({ namespaceResources: { quota: { 'requests.cpu': '2500m', 'requests.memory': '1.5Gi', 'limits.memory': '8e9' } } });
    expect(find(objects2, 'ResourceQuota', 'shop', 'zero-trust.resource-quota').spec.hard).toMatchObject({
      'requests.cpu': '2500m', 'requests.memory': '1.5Gi', 'limits.memory': '8e9',
    });
    expectValidManifests(objects2);
  });
});

describe('K8S-01: Pod Security restricted in every mode, enforce-version pinned when the version is known', () => {
  test('without a version (a standalone chart) enforce-version is latest, enforce/audit/warn restricted', () => {
    const objects = declare();
    for (const ns of SERVICE_NAMESPACES) {
      expect(find(objects, 'Namespace', undefined, ns).metadata.labels).toEqual({
        'app.kubernetes.io/managed-by': 'cdk-zero-trust-eks',
        'istio-injection': 'enabled',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
      });
    }
  });

  test.each([['1.35', 'v1.35'], ['v1.33', 'v1.33'], ['1.34.2', 'v1.34'], ['latest', 'latest']])('kubernetesVersion %s pins enforce-version %s', (version, label) => {
    const objects = declare({ kubernetesVersion: version });
    for (const ns of SERVICE_NAMESPACES) {
      expect(find(objects, 'Namespace', undefined, ns).metadata.labels).toMatchObject({
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': label,
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      });
    }
  });

  test.each(['1', 'v1.x', '1.35-eks', 'stable'])('negative: kubernetesVersion %j is refused', version => {
    expectError(() => newChart({ kubernetesVersion: version }), 'kubernetesVersion', `(got '${version}')`, "e.g. '1.35'");
  });
});

test('everything the chart emits with a pinned version and the defaults validates strictly', () => {
  expectValidManifests(declare({ kubernetesVersion: '1.35' }));
});
