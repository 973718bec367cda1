import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, PolicyValidationPluginReport, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ZeroTrustChecks } from '../../lib/checks';

/** One ZeroTrustChecks violation as written to validation-report.json. */
export interface ReportedViolation {
  readonly ruleName: string;
  readonly description: string;
  readonly suggestedFix?: string;
  readonly severity?: string;
  /** Logical ids of the violating resources (empty for template-level findings). */
  readonly logicalIds: string[];
  /** Construct paths of the violating constructs. */
  readonly constructPaths: string[];
}

/** What a synth with the plugin registered produced. */
export interface SynthResult {
  readonly threw: boolean;
  readonly error?: string;
  readonly outdir: string;
  /** Whether ZeroTrustChecks.validate was called once during synth and returned. */
  readonly pluginRan: boolean;
  readonly violations: ReportedViolation[];
}

export const KUBERNETES_RESOURCE = 'Custom::AWSCDK-EKS-KubernetesResource';
export const LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

/** Temporary output directories made by this module, removed after each test file. */
const tempDirs: string[] = [];
afterAll(() => tempDirs.splice(0).forEach(dir => fs.rmSync(dir, { recursive: true, force: true })));

/** A fresh temporary directory, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Builds an app with one env-agnostic stack, registers the plugin exactly as users do, synthesizes, reads the report. */
export function synthWithChecks(build: (stack: Stack, app: App) => void, context?: Record<string, unknown>): SynthResult {
  const outdir = tempDir('zt-checks-');
  const app = new App({ outdir, context });
  build(new Stack(app, 'Test'), app);
  Validations.of(app).addPlugins(new ZeroTrustChecks());
  const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const validate = jest.spyOn(ZeroTrustChecks.prototype, 'validate');
  let threw = false;
  let error: string | undefined;
  let returned: PolicyValidationPluginReport[] = [];
  try {
    app.synth();
  } catch (e) {
    threw = true;
    error = (e as Error).message;
  } finally {
    returned = validate.mock.results.filter(r => r.type === 'return').map(r => r.value);
    validate.mockRestore();
    quiet.mockRestore();
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
  const ours = (report.pluginReports as any[]).filter(r => r.pluginName === 'ZeroTrustChecks');
  const violations = ours.flatMap(r => (r.violations as any[]).map(v => ({
    ruleName: v.ruleName,
    description: v.description,
    suggestedFix: v.suggestedFix,
    severity: v.severity,
    logicalIds: (v.violatingConstructs as any[]).map(c => c.cloudFormationResource?.logicalId).filter(id => id !== undefined),
    constructPaths: (v.violatingConstructs as any[]).map(c => c.constructPath),
  })));
  // The report omits a plugin that found nothing, so "it ran" is proven by the call itself, and the returned
  // violations must be exactly those in the report.
  expect(returned).toHaveLength(1);
  expect(returned[0].violations.map(v => v.ruleName).sort()).toEqual(violations.map(v => v.ruleName).sort());
  return { threw, error, outdir, pluginRan: returned.length === 1, violations };
}

/** The [ruleName, logicalId] pairs of a result, sorted, for exact assertions. */
export function pairs(result: SynthResult): string[][] {
  return result.violations.flatMap(v => (v.logicalIds.length > 0 ? v.logicalIds : v.constructPaths).map(id => [v.ruleName, id])).sort();
}

/** Asserts the synth failed with exactly these [ruleId, logicalId] violations. */
export function expectViolations(result: SynthResult, expected: string[][]): void {
  expect(pairs(result)).toEqual([...expected].sort());
  expect(result.threw).toBe(true);
  expect(result.error).toMatch(/A copy of this report can be found in: .*validation-report.json/);
}

/** Asserts the synth succeeded and ZeroTrustChecks ran and found nothing. */
export function expectCompliant(result: SynthResult): void {
  expect(pairs(result)).toEqual([]);
  expect(result.pluginRan).toBe(true);
  expect(result.threw).toBe(false);
}

/** The L1 resources of a fully compliant zero-trust cluster, for tests to break one property at a time. */
export interface Baseline {
  readonly vpc: ec2.CfnVPC;
  readonly nodeSubnet: ec2.CfnSubnet;
  readonly controlPlaneSubnet: ec2.CfnSubnet;
  readonly key: kms.CfnKey;
  readonly logGroup: logs.CfnLogGroup;
  readonly cluster: eks.CfnCluster;
  readonly launchTemplate: ec2.CfnLaunchTemplate;
  readonly nodegroup: eks.CfnNodegroup;
  readonly addon: eks.CfnAddon;
  readonly manifest: CfnResource;
}

/** A NetworkPolicy manifest object with one ingress ipBlock. */
export function ipBlockPolicy(name: string, ipBlock: Record<string, unknown>, direction: 'ingress' | 'egress' = 'ingress') {
  const peers = direction === 'ingress' ? { from: [{ ipBlock }] } : { to: [{ ipBlock }] };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'istio-system' },
    spec: {
      podSelector: { matchLabels: { app: 'istiod' } },
      policyTypes: [direction === 'ingress' ? 'Ingress' : 'Egress'],
      [direction]: [{ ...peers, ports: [{ protocol: 'TCP', port: 15017 }] }],
    },
  };
}

export const DEFAULT_DENY = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'default-deny', namespace: 'shop' },
  spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
};

/** VPC 10.0.0.0/16, node subnet 10.0.0.0/19, control-plane subnet 10.0.240.0/28, and a compliant cluster using them. */
export function baseline(stack: Stack): Baseline {
  const vpc = new ec2.CfnVPC(stack, 'Vpc', { cidrBlock: '10.0.0.0/16' });
  const nodeSubnet = new ec2.CfnSubnet(stack, 'NodeSubnet', { vpcId: vpc.ref, cidrBlock: '10.0.0.0/19' });
  const controlPlaneSubnet = new ec2.CfnSubnet(stack, 'ControlPlaneSubnet', { vpcId: vpc.ref, cidrBlock: '10.0.240.0/28' });
  const key = new kms.CfnKey(stack, 'Key', { enableKeyRotation: true });
  const logGroup = new logs.CfnLogGroup(stack, 'ClusterLogs', { logGroupName: '/aws/eks/zt/cluster', retentionInDays: 365, kmsKeyId: key.attrArn });
  const cluster = new eks.CfnCluster(stack, 'Cluster', {
    name: 'zt',
    roleArn: 'arn:aws:iam::111111111111:role/eks-cluster',
    resourcesVpcConfig: { subnetIds: [controlPlaneSubnet.ref], endpointPrivateAccess: true, endpointPublicAccess: false },
    accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: false },
    logging: { clusterLogging: { enabledTypes: LOG_TYPES.map(type => ({ type })) } },
    encryptionConfig: [{ resources: ['secrets'], provider: { keyArn: key.attrArn } }],
  });
  cluster.node.addDependency(logGroup);
  const launchTemplate = new ec2.CfnLaunchTemplate(stack, 'NodeLaunchTemplate', {
    launchTemplateData: { metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 } },
  });
  const nodegroup = new eks.CfnNodegroup(stack, 'Nodes', {
    clusterName: cluster.ref,
    nodeRole: 'arn:aws:iam::111111111111:role/eks-node',
    subnets: [nodeSubnet.ref],
    launchTemplate: { id: launchTemplate.ref, version: launchTemplate.attrLatestVersionNumber },
  });
  const addon = new eks.CfnAddon(stack, 'VpcCni', {
    addonName: 'vpc-cni',
    clusterName: cluster.ref,
    configurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }),
  });
  const manifest = new CfnResource(stack, 'Policies', {
    type: KUBERNETES_RESOURCE,
    properties: {
      ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:kubectl',
      ClusterName: cluster.ref,
      Manifest: JSON.stringify([DEFAULT_DENY, ipBlockPolicy('istiod-webhook', { cidr: '10.0.240.0/28' })]),
    },
  });
  return { vpc, nodeSubnet, controlPlaneSubnet, key, logGroup, cluster, launchTemplate, nodegroup, addon, manifest };
}

/** Writes a hand-made template and runs the plugin's validate() on it directly; returns [ruleName, logicalId|path] pairs. */
export function validateTemplate(template: unknown): { pairs: string[][]; descriptions: string[]; templatePath: string } {
  const dir = tempDir('zt-direct-');
  const templatePath = path.join(dir, 'Direct.template.json');
  fs.writeFileSync(templatePath, typeof template === 'string' ? template : JSON.stringify(template, undefined, 1));
  const report = new ZeroTrustChecks().validate({ templatePaths: [templatePath], stackTemplates: [], appConstruct: new App() });
  expect(report.success).toBe(report.violations.length === 0);
  return {
    pairs: report.violations.flatMap(v => v.violatingResources.map(r => [v.ruleName, r.resourceLogicalId ?? path.basename(r.templatePath ?? '')])).sort(),
    descriptions: report.violations.map(v => v.description),
    templatePath,
  };
}
