/**
 * Benchmark of the AWS layer: `npm run bench:cluster`. Not a test.
 *
 * 1. The CloudFormation footprint of N = 10, 100, 500 declared services (~3 edges each, over ~N/10
 *    namespaces): resources and bytes of the cluster's template, nested policy stacks and the largest
 *    one, manifest resources, the largest manifest, synthesis seconds.
 * 2. The cold `cdk synth` of the reference app (bin/): a fresh process each time, as the main job runs it,
 *    median of 3 (`cdk synth --quiet` through the CLI, and the app alone).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { ServicePort, ZeroTrustCluster } from '../lib';

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function footprint(n: number) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-bench-'));
  const started = process.hrtime.bigint();
  const app = new App({ outdir, builtinCloudFormationValidation: false, context: { '@aws-cdk/aws-eks:useNativeOidcProvider': true } });
  const stack = new Stack(app, 'Bench');
  const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl') });
  const random = lcg(n);
  const namespaces = Math.max(1, Math.round(n / 10));
  const services = Array.from({ length: n }, (_, i) => platform.addService(`s${i}`, { namespace: `ns-${i % namespaces}`, ports: [ServicePort.http(8080)] }));
  for (const s of services) {
    for (let k = 0; k < 3; k++) {
      const callee = services[Math.floor(random() * n)];
      if (callee !== s) {
        try {
          callee.allowFrom(s);
        } catch {
          // a repeated edge is fine
        }
      }
    }
  }
  const assembly = app.synth();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const templatePath = path.join(assembly.directory, assembly.getStackByName('Bench').templateFile);
  const text = fs.readFileSync(templatePath, 'utf8');
  const resources = Object.values(JSON.parse(text).Resources as Record<string, { Type: string; Properties?: { Manifest?: unknown } }>);
  type Resource = { Type: string; Properties?: { Manifest?: unknown } };
  const nestedFiles = fs.readdirSync(assembly.directory).filter(f => f.endsWith('.nested.template.json'));
  const nestedTexts = nestedFiles.map(f => fs.readFileSync(path.join(assembly.directory, f), 'utf8'));
  const all: Resource[] = [...resources, ...nestedTexts.flatMap(t => Object.values(JSON.parse(t).Resources as Record<string, Resource>))];
  const manifests = all.filter(r => r.Type === 'Custom::AWSCDK-EKS-KubernetesResource');
  const largest = Math.max(...manifests.map(r => Buffer.byteLength(JSON.stringify(r.Properties?.Manifest ?? ''))));
  const largestNested = Math.max(0, ...nestedTexts.map(t => Buffer.byteLength(t)));
  fs.rmSync(outdir, { recursive: true, force: true });
  return { n, resources: resources.length, manifests: manifests.length, bytes: Buffer.byteLength(text), nested: nestedFiles.length, largestNested, largest, seconds };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function coldSynth(): { cli: number; app: number } {
  const root = path.join(__dirname, '..');
  const time = (cmd: string, args: string[], env: Record<string, string>) => {
    const t = process.hrtime.bigint();
    execFileSync(cmd, args, { cwd: root, stdio: 'ignore', env: { ...process.env, ...env } });
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const cli: number[] = [];
  const app: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-cold-'));
    cli.push(time(path.join(root, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--no-notices', '--output', out], {}));
    const out2 = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-cold-'));
    app.push(time(process.execPath, ['-r', 'esbuild-register', 'bin/reference-cluster.ts'], { CDK_OUTDIR: out2 }));
    fs.rmSync(out, { recursive: true, force: true });
    fs.rmSync(out2, { recursive: true, force: true });
  }
  return { cli: median(cli), app: median(app) };
}

const rows = [10, 100, 500].map(footprint);
process.stdout.write(`AWS layer footprint (node ${process.version}, ${os.cpus().length} CPUs)\n`);
process.stdout.write('   N  resources  template bytes  nested stacks  largest nested bytes  manifest resources  largest manifest bytes  synth s\n');
for (const r of rows) {
  process.stdout.write(`${String(r.n).padStart(4)}  ${String(r.resources).padStart(9)}  ${String(r.bytes).padStart(14)}  ${String(r.nested).padStart(13)}  `
    + `${String(r.largestNested).padStart(20)}  ${String(r.manifests).padStart(18)}  ${String(r.largest).padStart(22)}  ${r.seconds.toFixed(2).padStart(7)}\n`);
}
const cold = coldSynth();
process.stdout.write(`cold synth of the reference app (median of 3, fresh process): cdk synth ${cold.cli.toFixed(2)} s; the app alone ${cold.app.toFixed(2)} s\n`);
