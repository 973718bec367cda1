import { App, YamlOutputType } from 'cdk8s';
import { ShopPolicies } from './shop';

// Synthesizes the reference scenario to dist/shop.k8s.yaml.
const app = new App({ outdir: 'dist', yamlOutputType: YamlOutputType.FILE_PER_CHART });
const chart = new ShopPolicies(app, 'shop');
app.synth();
for (const warning of chart.warnings) {
  process.stderr.write(`warning: ${warning}\n`);
}
process.stdout.write(`wrote ${app.outdir}/shop.k8s.yaml (${chart.toJson().length} objects)\n`);
