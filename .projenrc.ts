import { awscdk, javascript, JsonFile } from 'projen';

/**
 * cdk-zero-trust-eks: projen owns every generated project file.
 * Change this file, then run `npx projen`.
 */
const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-zero-trust-eks',
  packageName: 'cdk-zero-trust-eks',
  description:
    'Zero-trust Amazon EKS in a few lines: default-deny NetworkPolicies, STRICT mTLS and identity-based Istio authorization generated from one service declaration.',
  author: 'cdk-zero-trust-eks maintainers',
  authorAddress: 'security@example.com',
  repositoryUrl: 'https://github.com/example/cdk-zero-trust-eks.git',
  keywords: ['cdk', 'cdk8s', 'eks', 'istio', 'zero-trust', 'networkpolicy', 'security'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  // Layout: top-level lib/ is the source, compiled output goes to build/ (design.md section 5).
  srcdir: 'lib',
  libdir: 'build',
  entrypoint: 'build/index.js',

  // This project's CI is .ci/run: no GitHub workflows, no release machinery.
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  docgen: false,
  sampleCode: false,

  // The audit and report command (lib/cli/main.ts).
  bin: { 'cdk-zero-trust-eks': 'build/cli/main.js' },

  cdkVersion: '2.276.0',
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.16',
  typescriptVersion: '~6.0.3',
  peerDeps: ['cdk8s@^2.70.0', 'cdk8s-plus-28@^2.5.6'],
  // Runtime dependencies beyond the peers are bundled into the tarball (jsii bundledDependencies).
  bundledDeps: [
    // Parses the manifests the audit command reads.
    'yaml@^2.9.1',
    // Graphviz compiled to WebAssembly: renders the report's service graph to SVG offline.
    '@viz-js/viz@^3.31.0',
  ],
  devDeps: [
    'cdk8s@2.70.106',
    'cdk8s-plus-28@2.5.6',
    '@types/node@^20',
    'fast-check@^4.11.0',
    'ajv@^8.20.0',
    'ajv-formats@^3.0.1',
    '@bufbuild/cel@^0.6.1',
    // The required peer of @bufbuild/cel (it types the CEL values the CRD rules see).
    '@bufbuild/protobuf@^2.17.0',
    // Value checks of Kubernetes kinds (v4 is the line that installs on Node 20; design.md section 4).
    'kubernetes-models@^4.5.1',
    // Field catalogue of every upstream Kubernetes kind (generated from the upstream OpenAPI):
    // closes the unknown-field hole kubernetes-models leaves open.
    '@kubernetes/client-node@^1.4.0',
    // The AWS layer: kubectl for the reference cluster (the library takes it as a prop, like aws-cdk-lib),
    // the CDK CLI for `cdk synth`, and the compliance packs the tests run over the reference app.
    '@aws-cdk/lambda-layer-kubectl-v35@^2.2.2',
    'aws-cdk@^2.1148.1',
    'cdk-nag@^3.0.2',
    '@cdklabs/cdk-validator-cfnguard@^0.0.62',
    // The quarantine responder's Lambda bundle (lib/response/handler/main.ts -> assets/quarantine-responder/):
    // esbuild bundles it offline; the EKS token signer is bundled, the SNS client is the runtime's (AWS SDK v3).
    'esbuild@^0.28.2',
    // Runs the reference app's TypeScript at `cdk synth` without type-checking (esbuild transpiles each file as it loads).
    'esbuild-register@^3.6.0',
    '@smithy/signature-v4@^5.3.0',
    '@aws-crypto/sha256-js@^5.2.0',
    '@aws-sdk/client-sns@^3.1000.0',
  ],
  jestOptions: {
    // Snapshots are evidence: never rewrite them silently (update with `npx jest -u` after reading the diff).
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/build/', '/dist/'],
    },
  },
  tsconfigDev: {
    include: ['../examples/**/*.ts', '../bin/**/*.ts', '../bench/**/*.ts'],
    compilerOptions: {},
  },
  gitignore: ['/dist/', '/cdk.out/', '/bench/results/', '*.tgz', '/assets/quarantine-responder/'],
});

// design.md section 6, enforced: the Kubernetes layer and the declaration model never import aws-cdk-lib or the AWS
// constructs, and the analyzer never imports the renderers it checks.
const AWS_FOLDERS = ['cluster', 'network', 'encryption', 'identity', 'mesh', 'observability', 'response', 'checks'].map(d => `./lib/${d}`);
project.eslint?.addRules({
  'import/no-restricted-paths': ['error', {
    zones: [
      { target: './lib/model', from: ['./lib/policy', './lib/analysis', './lib/report', ...AWS_FOLDERS], message: 'lib/model imports no renderer and no AWS construct (design.md 6).' },
      { target: './lib/policy', from: AWS_FOLDERS, message: 'lib/policy is the Kubernetes layer: no AWS construct (design.md 6).' },
      { target: './lib/analysis', from: ['./lib/policy', './lib/report', ...AWS_FOLDERS], message: 'lib/analysis must not import the renderers it checks (design.md 6).' },
    ],
  }],
});
project.eslint?.addOverride({
  files: ['lib/model/**/*.ts', 'lib/policy/**/*.ts', 'lib/analysis/**/*.ts'],
  rules: {
    'no-restricted-imports': ['error', { patterns: [{ group: ['aws-cdk-lib', 'aws-cdk-lib/*'], message: 'The Kubernetes layer works in a plain cdk8s app: no aws-cdk-lib (design.md 6).' }] }],
  },
});

// The quarantine responder's Lambda code: one esbuild bundle, built before the tests, the jsii compile and
// `cdk synth`, shipped in the npm tarball (assets/ is not ignored) and found by QuarantineResponder relative
// to its own file, from lib/ (ts-node, jest) and build/ (the published package) alike.
const bundle = project.addTask('bundle', {
  description: 'Bundle the quarantine responder Lambda handler to assets/quarantine-responder/index.js',
  exec: 'esbuild lib/response/handler/main.ts --bundle --platform=node --target=node22 --format=cjs '
    + '\'--external:@aws-sdk/*\' --legal-comments=none --log-level=warning --outfile=assets/quarantine-responder/index.js',
});
project.testTask.prependSpawn(bundle);
project.compileTask.prependSpawn(bundle);

for (const pattern of ['/examples/', '/bench/', '/bin/', '/.ci/', '/dist/', '/cdk.json']) {
  project.addPackageIgnore(pattern);
}

// The reference zero-trust cluster (bin/): `cdk synth` needs no credentials and no network.
// The app runs without type-checking: type-checking belongs to the build and the tests.
new JsonFile(project, 'cdk.json', {
  obj: {
    app: 'node -r esbuild-register bin/reference-cluster.ts',
    context: {
      // A native AWS::IAM::OIDCProvider for IRSA instead of the deprecated custom resource.
      '@aws-cdk/aws-eks:useNativeOidcProvider': true,
      // S3 server access logs delivered through a bucket policy, so buckets can disable ACLs.
      '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
    },
    notices: false,
  },
});

// The main job: the reference cluster's `cdk synth` (cdk.out/, plus the posture report).
project.addTask('synth', {
  description: 'Synthesize the reference zero-trust cluster (cdk.out/) and its posture report',
  exec: 'cdk synth --quiet --no-notices',
});
project.tasks.tryFind('synth')!.prependSpawn(bundle);

// The Kubernetes layer alone: the example policies as YAML for GitOps (dist/).
project.addTask('synth:policies', {
  description: 'Synthesize the example zero-trust policies to dist/*.k8s.yaml, with the posture report',
  exec: 'node -r ts-node/register/transpile-only examples/shop/main.ts',
});

project.addTask('bench', {
  description: 'Benchmark policy synthesis (prints seconds, peak memory and YAML bytes per N)',
  exec: 'node -r ts-node/register/transpile-only --expose-gc bench/synth.bench.ts',
});
project.tasks.tryFind('bench')!.exec('node -r ts-node/register/transpile-only bench/self-check.bench.ts');

project.addTask('bench:cluster', {
  description: 'Benchmark the AWS layer: CloudFormation footprint for 10/100/500 services and the cold cdk synth',
  exec: 'node -r ts-node/register/transpile-only bench/cluster.bench.ts',
});

project.synth();
