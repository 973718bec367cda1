// Fails when package.json `main` or `types` point at files the published tarball would not contain.
const { execSync } = require('child_process');
const pkg = require('../package.json');
const [report] = JSON.parse(execSync('npm pack --dry-run --json --ignore-scripts', { encoding: 'utf8' }));
const files = new Set(report.files.map(f => f.path));
// The quarantine responder's Lambda bundle (npx projen bundle, run by compile): QuarantineResponder loads it from
// <package>/assets/quarantine-responder/, next to build/.
const LAMBDA_BUNDLES = ['assets/quarantine-responder/index.js'];
const missing = [pkg.main, pkg.types, ...LAMBDA_BUNDLES].filter(f => !files.has(f));
if (missing.length > 0) {
  console.error(`npm pack would miss ${missing.join(', ')} (has ${files.size} files)`);
  process.exit(1);
}
const leaked = [...files].filter(f => /^(test|examples|bench|\.ci)\//.test(f));
if (leaked.length > 0) {
  console.error(`npm pack would ship development files: ${leaked.join(', ')}`);
  process.exit(1);
}
console.log(`npm pack: ${files.size} files, main=${pkg.main}, types=${pkg.types}: ok`);
