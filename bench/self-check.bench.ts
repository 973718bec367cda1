/**
 * Cost of the self-verifying synthesis (`npm run bench`, after the synthesis benchmark). Not a test.
 *
 * For N = 100 and 1000 services (~3 edges each over ~N/10 namespaces) it times, median of 5 after a
 * warm-up, the whole synthesis to YAML (declaration, rendering, self-check, YAML) and the self-check
 * alone (the analyzer over the synthesized objects, compared with the declaration), and prints the share.
 * Target (issue: "Prove it"): the check under a third of synthesis time.
 */
import { App } from 'cdk8s';
import { ServicePort, ZeroTrustPolicyChart } from '../lib';
import { verifyDeclaration } from '../lib/analysis/declared-access';
import { PolicyModel } from '../lib/model/policy-model';

function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function declare(n: number): { app: App; chart: ZeroTrustPolicyChart } {
  const random = lcg(n);
  const app = new App();
  const chart = new ZeroTrustPolicyChart(app, 'bench', { namespace: 'ns-0' });
  const namespaces = Math.max(1, Math.round(n / 10));
  const services = Array.from({ length: n }, (_, i) => chart.addService(`s${i}`, { namespace: `ns-${i % namespaces}`, ports: [ServicePort.http(8080)] }));
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
  return { app, chart };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (f: () => void) => {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e9;
};

process.stdout.write('self-check cost: median of 5 after a warm-up\n   N  synthesis s  self-check s  share\n');
for (const n of [100, 1000]) {
  const total: number[] = [];
  const check: number[] = [];
  for (let run = 0; run < 6; run++) {
    const { app, chart } = declare(n);
    const t = seconds(() => app.synthYaml());
    const objects = chart.toJson();
    const model = (chart as unknown as { model: PolicyModel }).model;
    const c = seconds(() => verifyDeclaration(model, objects as never));
    if (run > 0) {
      total.push(t);
      check.push(c);
    }
  }
  const share = median(check) / median(total);
  process.stdout.write(`${String(n).padStart(4)}  ${median(total).toFixed(3).padStart(11)}  ${median(check).toFixed(3).padStart(12)}  ${(share * 100).toFixed(0).padStart(4)}%\n`);
}
