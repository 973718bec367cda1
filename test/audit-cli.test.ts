import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { ServicePort, ZeroTrustPolicyChart } from '../lib';
import { runCli } from '../lib/cli/run-cli';

const FIXTURES = path.join(__dirname, 'fixtures');

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: s => (out += s), err: s => (err += s) });
  return { code, out, err };
}

describe('audit of a plain application written without zero-trust controls', () => {
  test('lists its namespace without default deny, services reachable from everything, and non-STRICT workloads', async () => {
    const { code, out } = await run('audit', path.join(FIXTURES, 'plain-app'));
    expect(code).toBe(1);
    expect(out).toContain('[NET-01 must] namespace store: has no default-deny NetworkPolicy for Ingress and Egress');
    expect(out).toContain('[NET-01 must] workload Deployment/store/web: is reachable from everything at the network layer');
    expect(out).toContain('[NET-01 must] workload Deployment/store/db: is reachable from everything at the network layer');
    expect(out).toContain('[IST-01 must] workload Deployment/store/db: has no sidecar');
    expect(out).toContain('[IST-01 must] namespace istio-system: has no mesh-wide STRICT PeerAuthentication');
    expect(out).toContain('[IST-02 must] namespace store: is not default-deny for Istio');
  });
});

describe('audit of a deliberately leaky manifest set', () => {
  let out = '';
  let code = 0;
  beforeAll(async () => {
    ({ out, code } = await run('audit', path.join(FIXTURES, 'leaky')));
  });

  test('exits non-zero', () => {
    expect(code).toBe(1);
  });

  test('finds the wide-open egress', () => {
    expect(out).toContain('[NET-04 must] workload Deployment/shop/order: can reach the instance metadata service (169.254.169.254) through an egress rule');
  });

  test('finds the namespace without default deny, and what that leaves reachable', () => {
    expect(out).toContain('[NET-01 must] namespace legacy: has no default-deny NetworkPolicy');
    expect(out).toContain('[NET-01 must] workload Deployment/legacy/reports: is reachable from everything at the network layer');
    expect(out).not.toContain('namespace shop: has no default-deny');
  });

  test('finds the PERMISSIVE namespace and its non-STRICT workload', () => {
    expect(out).toContain('[IST-01 must] PeerAuthentication/legacy/default: sets PERMISSIVE mTLS');
    expect(out).toContain('[IST-01 must] workload Deployment/legacy/reports: accepts PERMISSIVE mTLS on port 9000');
    expect(out).not.toContain('Deployment/shop/payment: accepts');
  });

  test('finds the wildcard principal', () => {
    expect(out).toContain('[IST-03 must] AuthorizationPolicy/shop/payment: rule 0 admits a wildcard principal (*)');
  });

  test('finds that the default deny blocks DNS and istiod for the shop workloads', () => {
    expect(out).toContain('[NET-02 must] workload Deployment/shop/payment: cannot reach cluster DNS on UDP 53');
    expect(out).toContain('[NET-01 must] workload Deployment/shop/payment: cannot reach istiod on TCP 15012');
  });

  test('finds the missing quarantine wiring', () => {
    expect(out).toContain('[IR-02 must] NetworkPolicy/shop/order-egress-anywhere: allows traffic for pods that carry the quarantine label');
    expect(out).toContain('[IR-03 should] namespace istio-system: has no mesh-wide DENY for quarantined pods');
  });

  test('--json gives the same findings for machines', async () => {
    const json = await run('audit', '--json', path.join(FIXTURES, 'leaky'));
    const parsed = JSON.parse(json.out);
    expect(parsed.findings.map((f: { control: string }) => f.control)).toEqual(expect.arrayContaining(['NET-01', 'NET-02', 'NET-04', 'IST-01', 'IST-03', 'IR-02']));
    expect(json.code).toBe(1);
  });
});

describe('audit of what the library writes, and leaks on a second port', () => {
  function deployment(name: string, namespace: string, labels: Record<string, string>, ports: number[]) {
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { serviceAccountName: name, containers: [{ name, image: name, ports: ports.map(containerPort => ({ containerPort })) }] },
        },
      },
    };
  }

  test('the policies of a chart with its platform network, plus the workloads they protect, have no finding: exit 0', async () => {
    const chart = new ZeroTrustPolicyChart(Testing.app(), 'shop', {
      namespace: 'shop',
      platformNetwork: { controlPlaneCidrs: ['10.0.68.192/28', '10.0.68.208/28'], loadBalancerCidrs: ['10.0.68.0/26', '10.0.68.64/26'] },
    });
    const order = chart.addService('order', { ports: [ServicePort.http(8080)] });
    const payment = chart.addService('payment', { namespace: 'payments', ports: [ServicePort.http(8443)] });
    payment.allowFrom(order, { ports: [8443], methods: ['POST'], paths: ['/charge'] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-'));
    const objects = [...chart.toJson(),
      deployment('order', 'shop', { 'app.kubernetes.io/name': 'order' }, [8080]),
      deployment('payment', 'payments', { 'app.kubernetes.io/name': 'payment' }, [8443])];
    fs.writeFileSync(path.join(dir, 'all.yaml'), objects.map(o => JSON.stringify(o)).join('\n---\n'));
    const { code, out } = await run('audit', dir);
    expect(out).toContain('0 finding(s)');
    expect(out).toMatch(/Deployment\/shop\/order -> Deployment\/payments\/payment:8443/);
    expect(code).toBe(0);
  });

  test('a port opened to everything is found even when it is not the first, and so is a rule admitting every pod', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-'));
    const np = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'app' }, spec });
    const objects = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'app', labels: { 'istio-injection': 'enabled' } } },
      deployment('api', 'app', { app: 'api' }, [8080, 9090, 7070]),
      np('deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      np('metrics-open', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ ports: [{ port: 9090, protocol: 'TCP' }] }], policyTypes: ['Ingress'] }),
      np('every-pod', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 7070, protocol: 'TCP' }] }], policyTypes: ['Ingress'] }),
    ];
    fs.writeFileSync(path.join(dir, 'app.yaml'), objects.map(o => JSON.stringify(o)).join('\n---\n'));
    const { code, out } = await run('audit', dir);
    expect(code).toBe(1);
    expect(out).toContain('[NET-01 must] workload Deployment/app/api: is reachable from everything at the network layer on port 9090 (');
    expect(out).toContain('[NET-01 must] workload Deployment/app/api: is reachable from every pod in the cluster on port 7070 (');
    expect(out).not.toMatch(/reachable from [^\n]*on port 8080/);
  });

  test('the report says quarantine works only when the wiring is there', async () => {
    const leaky = path.join(os.tmpdir(), `zt-leaky-${process.pid}`);
    await run('report', '--out', leaky, path.join(FIXTURES, 'leaky'));
    const text = fs.readFileSync(path.join(leaky, 'zero-trust-report.md'), 'utf8');
    expect(text).toContain('Quarantine is **not** wired');
    expect(text).not.toContain('A pod labelled for quarantine loses every flow');
  });
});

describe('the command line', () => {
  test('namespaces without workloads still get the mesh-wide findings', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-'));
    fs.writeFileSync(path.join(dir, 'clean.yaml'), fs.readFileSync(path.join(FIXTURES, 'leaky', 'namespaces.yaml')));
    const { code, out } = await run('audit', dir);
    expect(code).toBe(1);
    expect(out).toContain('[IST-01 must] namespace istio-system: has no mesh-wide STRICT PeerAuthentication');
    expect(out).not.toContain('namespace shop');
  });

  test('report writes the Markdown and the SVG', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-'));
    const { code, err } = await run('report', '--out', dir, path.join(FIXTURES, 'leaky'));
    expect(code).toBe(1);
    expect(err).toContain('zero-trust-report.md');
    expect(fs.readFileSync(path.join(dir, 'zero-trust-report.md'), 'utf8')).toContain('```mermaid');
    expect(fs.readFileSync(path.join(dir, 'zero-trust-report.svg'), 'utf8')).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*payment[\s\S]*<\/svg>\s*$/);
  });

  test('bad usage exits 2 with the usage text', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('audit')).code).toBe(2);
    const unknown = await run('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('usage:');
    expect((await run('audit', '--bogus', 'x')).code).toBe(2);
  });

  test('a missing file is an error, and the real entry point exits 2', () => {
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '..', 'lib', 'cli', 'main.ts'), 'audit', '/no/such/file'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = (e as { stderr: string }).stderr;
    }
    expect(status).toBe(2);
    expect(stderr).toContain('no such file or directory: /no/such/file');
  });
});
