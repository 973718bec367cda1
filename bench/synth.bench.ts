/**
 * Benchmark of policy synthesis: `npm run bench`
 * (= node -r ts-node/register/transpile-only --expose-gc bench/synth.bench.ts). Not a test.
 *
 * For N = 10, 100, 1000 services (~3 edges each, deterministic pseudo-random, over ~N/10 namespaces) it
 * times declaring the services and synthesizing YAML with `ZeroTrustPolicyChart` ("ours": declaration,
 * rendering, the chart's built-in self-check, YAML), against the floor: the very same objects created as
 * plain cdk8s `ApiObject`s in a fresh app and synthesized to YAML the same way (`app.synthYaml()`).
 *
 * Each (N, variant) runs in its own child process: one warm-up, then 3 timed runs (median reported).
 * Memory is the peak RSS DURING a timed run above the RSS just before it (max over the 3 runs): a worker
 * thread samples `process.memoryUsage.rss()` every millisecond while the main thread synthesizes.
 */
import { fork } from 'child_process';
import { Worker } from 'worker_threads';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart } from 'cdk8s';
import { ServicePort, ZeroTrustPolicyChart } from '../lib';

const SIZES = [10, 100, 1000];
const RUNS = 3;
const EDGES_PER_SERVICE = 3;

type Variant = 'ours' | 'floor';
interface ChildResult {
  readonly seconds: number[];
  readonly yamlBytes: number;
  readonly objects: number;
  readonly peakRssDeltaMb: number;
  /** The child process's maximum resident set size over its whole life (getrusage ru_maxrss). */
  readonly maxRssMb: number;
  readonly yamlSha: string;
}

/** A seeded linear congruential generator (Numerical Recipes constants): the same graph on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Declares N services over ~N/10 namespaces with ~3 callees each, then synthesizes YAML. The
 * objects (one more render, not timed) only when asked: they are the floor's input.
 */
function synthOurs(n: number, withObjects = false): { yaml: string; objects?: Record<string, unknown>[] } {
  const random = lcg(0x5eed + n);
  const app = new App();
  const chart = new ZeroTrustPolicyChart(app, 'bench', { namespace: 'ns-0' });
  const namespaces = Math.max(1, Math.round(n / 10));
  const services = Array.from({ length: n }, (_, i) => {
    const ports = [ServicePort.http(8080)];
    if (i % 3 === 0) {
      ports.push(ServicePort.grpc(9090));
    }
    if (i % 5 === 0) {
      ports.push(ServicePort.tcp(5432));
    }
    return chart.addService(`svc-${i}`, { namespace: `ns-${i % namespaces}`, ports });
  });
  for (let i = 0; i < n; i++) {
    const callees = new Set<number>();
    while (n > 1 && callees.size < Math.min(EDGES_PER_SERVICE, n - 1)) {
      const j = Math.floor(random() * n);
      if (j !== i) {
        callees.add(j);
      }
    }
    for (const j of callees) {
      // A pair is either restricted or not (never both), so no declaration conflicts.
      services[j].allowFrom(services[i], random() < 0.25 ? { ports: [8080], methods: ['GET', 'POST'], paths: ['/api/*'] } : {});
    }
    if (i % 10 === 0) {
      services[i].allowFromIngressGateway({ ports: [8080] });
    }
  }
  const yaml = app.synthYaml();
  return { yaml, objects: withObjects ? chart.toJson() as Record<string, unknown>[] : undefined };
}

/** The floor: the same objects as plain ApiObjects in a fresh app, synthesized the same way. */
function synthFloor(objects: readonly Record<string, unknown>[]): string {
  const app = new App();
  const chart = new Chart(app, 'bench');
  objects.forEach((o, i) => new ApiObject(chart, `o${i}`, o as { apiVersion: string; kind: string }));
  return app.synthYaml();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function sha(text: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('crypto') as typeof import('crypto')).createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** A worker thread that keeps the highest process RSS it sees in shared memory (reset by storing 0). */
function rssSampler(): { peak: BigInt64Array; stop: () => Promise<number> } {
  const peak = new BigInt64Array(new SharedArrayBuffer(8));
  const worker = new Worker(`
    const { workerData } = require('worker_threads');
    const peak = new BigInt64Array(workerData);
    setInterval(() => {
      const rss = BigInt(process.memoryUsage.rss());
      if (rss > Atomics.load(peak, 0)) Atomics.store(peak, 0, rss);
    }, 1);`, { eval: true, workerData: peak.buffer });
  return { peak, stop: () => worker.terminate() };
}

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/** Child: one warm-up, RUNS timed runs; peak RSS during a run above the RSS before it. */
async function child(variant: Variant, n: number, objectsFile?: string): Promise<ChildResult> {
  const inputs = objectsFile ? JSON.parse(fs.readFileSync(objectsFile, 'utf8')) as Record<string, unknown>[] : [];
  const run = (): string => variant === 'ours' ? synthOurs(n).yaml : synthFloor(inputs);
  const sampler = rssSampler();
  const warm = run();
  const seconds: number[] = [];
  let peakDelta = 0;
  for (let r = 0; r < RUNS; r++) {
    gc();
    await sleep(20); // let the sampler see the post-GC RSS
    const before = process.memoryUsage.rss();
    Atomics.store(sampler.peak, 0, BigInt(before));
    const start = process.hrtime.bigint();
    run();
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
    await sleep(5);
    peakDelta = Math.max(peakDelta, Number(Atomics.load(sampler.peak, 0)) - before);
  }
  await sampler.stop();
  return {
    seconds, yamlBytes: Buffer.byteLength(warm), objects: warm.split(/^---$/m).length,
    peakRssDeltaMb: peakDelta / 2 ** 20, maxRssMb: process.resourceUsage().maxRSS / 1024, yamlSha: sha(warm),
  };
}

function runChild(variant: Variant, n: number, objectsFile?: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = fork(__filename, ['--child', variant, String(n), ...(objectsFile ? [objectsFile] : [])], { execArgv: process.execArgv });
    proc.on('message', m => resolve(m as ChildResult));
    proc.on('error', reject);
    proc.on('exit', code => code === 0 ? undefined : reject(new Error(`${variant} N=${n}: child exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-bench-'));
  const rows: string[][] = [];
  const started = Date.now();
  try {
    for (const n of SIZES) {
      const objectsFile = path.join(dir, `objects-${n}.json`);
      const objects = synthOurs(n, true).objects!;
      fs.writeFileSync(objectsFile, JSON.stringify(objects));
      const ours = await runChild('ours', n);
      const floor = await runChild('floor', n, objectsFile);
      const [o, f] = [median(ours.seconds), median(floor.seconds)];
      rows.push([
        String(n), String(objects.length), String(ours.yamlBytes),
        o.toFixed(3), f.toFixed(3), (o / f).toFixed(2),
        (o * 1000 / n).toFixed(2), (f * 1000 / n).toFixed(2),
        ours.maxRssMb.toFixed(0), floor.maxRssMb.toFixed(0), ours.peakRssDeltaMb.toFixed(1), floor.peakRssDeltaMb.toFixed(1),
        ours.yamlSha === floor.yamlSha ? 'yes' : `NO (${ours.yamlSha} vs ${floor.yamlSha})`,
        `${ours.seconds.map(s => s.toFixed(2)).join('/')} | ${floor.seconds.map(s => s.toFixed(2)).join('/')}`,
      ]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const header = ['N', 'objects', 'YAML bytes', 'ours s', 'floor s', 'ours/floor', 'ours ms/svc', 'floor ms/svc', 'ours max RSS MB', 'floor max RSS MB', 'ours peak RSS +MB', 'floor peak RSS +MB', 'same YAML', 'runs ours | floor (s)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  process.stdout.write([
    `synthesis benchmark: node ${process.version}, ${os.cpus().length} CPU(s); median of ${RUNS} runs after 1 warm-up; ~${EDGES_PER_SERVICE} edges/service over ~N/10 namespaces`,
    'ours = addService/allowFrom + render + self-check + app.synthYaml(); floor = the same objects as plain ApiObjects + app.synthYaml()',
    'max RSS MB = the process\'s peak resident memory over its life (node, modules, 1 warm-up + 3 runs); '
      + 'peak RSS +MB = highest RSS sampled (1 ms, worker thread) during a timed run above the RSS just before it; max of the timed runs',
    line(header), line(header.map(h => '-'.repeat(h.length))), ...rows.map(line),
    `targets: N=1000 under 5 s, and within 1.5x of the floor; total bench time ${((Date.now() - started) / 1000).toFixed(1)} s`,
    '',
  ].join('\n'));
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as Variant, Number(process.argv[4]), process.argv[5])
    .then(result => process.send!(result, () => process.exit(0)))
    .catch(e => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    });
} else {
  main().catch(e => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
