import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { ServicePort, ZeroTrustCluster } from '../lib';

type Resource = { Type: string; DependsOn?: string[]; Properties?: Record<string, unknown> };
type Template = { Resources: Record<string, Resource> };

/** Synthesizes a cluster with `n` services over n/10 namespaces (each calls the next) and reads every template. */
function synth(n: number, extra?: (platform: ZeroTrustCluster) => void) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-scale-'));
  const app = new App({ outdir, builtinCloudFormationValidation: false, context: { '@aws-cdk/aws-eks:useNativeOidcProvider': true } });
  const stack = new Stack(app, 'Scale');
  const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl') });
  const services = Array.from({ length: n }, (_, i) => platform.addService(`s${i}`, { namespace: `ns-${i % Math.max(1, n / 10)}`, ports: [ServicePort.http(8080)] }));
  services.forEach((s, i) => services[(i + 1) % n].allowFrom(s));
  extra?.(platform);
  const assembly = app.synth();
  const parentText = fs.readFileSync(path.join(assembly.directory, 'Scale.template.json'), 'utf8');
  const nested = new Map<string, string>();
  for (const f of fs.readdirSync(assembly.directory).filter(x => x.endsWith('.nested.template.json'))) {
    nested.set(f, fs.readFileSync(path.join(assembly.directory, f), 'utf8'));
  }
  fs.rmSync(outdir, { recursive: true, force: true });
  return { parentText, parent: JSON.parse(parentText) as Template, nested };
}

/** Namespace -> the template file (parent or nested) that holds its manifest resource. */
function placement(nested: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, text] of nested) {
    for (const [id, r] of Object.entries((JSON.parse(text) as Template).Resources)) {
      if (r.Type === 'Custom::AWSCDK-EKS-KubernetesResource') {
        out.set(id.replace(/^Policies/, '').replace(/[0-9A-F]{8}$/, ''), file);
      }
    }
  }
  return out;
}

describe('a cluster with hundreds of services', () => {
  const big = synth(300);

  test('keeps every template under CloudFormation\'s 1,000,000 bytes by moving the policy manifests into nested stacks', () => {
    expect(Buffer.byteLength(big.parentText)).toBeLessThan(1_000_000);
    expect(Object.keys(big.parent.Resources).length).toBeLessThan(500);
    expect(big.nested.size).toBeGreaterThan(1);
    for (const text of big.nested.values()) {
      expect(Buffer.byteLength(text)).toBeLessThan(1_000_000);
    }
    // Every policy manifest moved; only Gatekeeper's namespace (4 fixed objects, installed with the platform) stays in the parent.
    const parentPolicies = Object.entries(big.parent.Resources)
      .filter(([, r]) => r.Type === 'Custom::AWSCDK-EKS-KubernetesResource' && JSON.stringify(r).includes('NetworkPolicy')).map(([id]) => id);
    expect(parentPolicies).toEqual([expect.stringMatching(/^PlatformGuardrailsNamespace[0-9A-F]{8}$/)]);
    expect(placement(big.nested).size).toBe(30 + 2);
  });

  test('every nested policy stack is applied after istiod', () => {
    const istiod = Object.entries(big.parent.Resources).find(([, r]) => r.Type === 'Custom::AWSCDK-EKS-HelmChart' && r.Properties?.Chart === 'istiod')![0];
    const stacks = Object.entries(big.parent.Resources).filter(([, r]) => r.Type === 'AWS::CloudFormation::Stack');
    expect(stacks.length).toBe(big.nested.size);
    for (const [id, r] of stacks) {
      expect({ id, afterIstiod: (r.DependsOn ?? []).includes(istiod) }).toEqual({ id, afterIstiod: true });
    }
  });

  test('a namespace\'s nested stack is fixed by its name: adding services moves no namespace to another stack', () => {
    const grown = synth(300, platform => {
      platform.addService('late', { namespace: 'ns-3', ports: [ServicePort.http(8080)] });
      platform.addService('newcomer', { namespace: 'brand-new', ports: [ServicePort.http(8080)] });
    });
    const before = placement(big.nested);
    const after = placement(grown.nested);
    for (const [ns, file] of before) {
      expect({ ns, file: after.get(ns) }).toEqual({ ns, file });
    }
    expect(after.has('brandnew')).toBe(true);
  });

  test('a small cluster keeps its manifests in its own template', () => {
    const small = synth(10);
    expect(small.nested.size).toBe(0);
    expect(Object.values(small.parent.Resources).filter(r => r.Type === 'Custom::AWSCDK-EKS-KubernetesResource').length).toBeGreaterThan(1);
  });
});
