import { App, YamlOutputType } from 'cdk8s';
import { ShopPolicies } from './shop';
import { ZeroTrustReport } from '../../lib';

// The main job: synthesizes the reference scenario to dist/shop.k8s.yaml (the chart proves its
// own output against the declaration while synthesizing), then writes the posture report and
// the service graph next to it.
async function main(): Promise<void> {
  const app = new App({ outdir: 'dist', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new ShopPolicies(app, 'shop');
  app.synth();
  for (const warning of chart.warnings) {
    process.stderr.write(`warning: ${warning}\n`);
  }
  const written = await ZeroTrustReport.fromChart(chart).writeTo(app.outdir);
  process.stdout.write(`wrote ${app.outdir}/shop.k8s.yaml, ${written.join(', ')}\n`);
}

main().catch(e => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
});
