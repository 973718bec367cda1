import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
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
