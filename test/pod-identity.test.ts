/**
 * EKS Pod Identity end to end (controls.md IAM-02, default-deny pitfall #6): a service with
 * `WorkloadIdentity.POD_IDENTITY` gets the `eks-pod-identity-agent` add-on on its cluster, egress to
 * the agent at 169.254.170.23/32 on TCP 80 for its own pods only (NetworkPolicy, plus a TCP
 * ServiceEntry and a Sidecar host so its sidecar lets the traffic through under REGISTRY_ONLY), and
 * no STS egress; IRSA services keep exactly what they had. The objects validate against the
 * Kubernetes and Istio schemas, and ZeroTrustChecks and the synth-time self-check pass.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ApiObject } from 'cdk8s';
import {
  AwsApi, ClusterService, ExternalEndpointProtocol, ServiceEntry, ServicePort, WorkloadIdentity,
  ZeroTrustChecks, ZeroTrustCluster, ZeroTrustClusterProps,
} from '../lib';
import { CfnResource, CfnTemplate, KubeObject, KUBERNETES_RESOURCE, manifestObjects, refOf, resourcesOfType } from './support/aws/cfn';
import { CDK_JSON_CONTEXT } from './support/aws/reference-app';
import { find, newChart, synth } from './support/manifests';
import { expectValidManifests, validateManifest } from './support/schema-validator';

const ACCOUNT = '111122223333';
const AGENT_CIDR = '169.254.170.23/32';
const AGENT_HOST = 'eks-pod-identity-agent.internal';
const QUARANTINE = 'zero-trust.cdk.io/quarantine';
/** The NetworkPolicy egress rule to the agent, exactly. */
const AGENT_RULE = { ports: [{ port: 80, protocol: 'TCP' }], to: [{ ipBlock: { cidr: AGENT_CIDR } }] };

interface Built {
  readonly platform: ZeroTrustCluster;
  readonly services: Record<string, ClusterService>;
  readonly template: CfnTemplate;
  readonly objects: KubeObject[];
  /** What ZeroTrustChecks reported (it ran over the synthesized template). */
  readonly checkViolations: unknown[];
  readonly checksRan: number;
}

/**
 * Synthesizes a small cluster with ZeroTrustChecks as a validation plugin: `declare` adds the
 * services and grants. The policy chart's self-check runs at synthesis (SelfCheck.FAIL: any
 * difference would throw).
 */
type Declare = (platform: ZeroTrustCluster, stack: Stack) => Record<string, ClusterService>;

function build(declare: Declare, props: Partial<ZeroTrustClusterProps> = {}): Built {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pod-identity-'));
  try {
    const app = new App({ outdir, context: CDK_JSON_CONTEXT, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'eu-west-1' } });
    const platform = new ZeroTrustCluster(stack, 'Platform', {
      version: eks.KubernetesVersion.V1_35,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', `arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:kubectl:1`),
      defaultNamespace: 'shop',
      ...props,
    });
    const services = declare(platform, stack);
    const checks = new ZeroTrustChecks();
    const validate = jest.spyOn(checks, 'validate');
    Validations.of(app).addPlugins(checks);
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as CfnTemplate;
    const report = path.join(outdir, 'validation-report.json');
    const checkViolations = fs.existsSync(report)
      ? (JSON.parse(fs.readFileSync(report, 'utf8')).pluginReports as { pluginName: string; violations?: unknown[] }[])
        .filter(r => r.pluginName === 'ZeroTrustChecks').flatMap(r => r.violations ?? [])
      : [];
    const objects = resourcesOfType(template, KUBERNETES_RESOURCE).flatMap(([, r]) => manifestObjects(r));
    return { platform, services, template, objects, checkViolations, checksRan: validate.mock.calls.length };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

const addons = (t: CfnTemplate, name: string): Array<[string, CfnResource]> =>
  resourcesOfType(t, 'AWS::EKS::Addon').filter(([, r]) => r.Properties?.AddonName === name);
const dependsOn = (r: CfnResource): string[] => (r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn]);
const objectsIn = (objects: KubeObject[], namespace: string): KubeObject[] => objects.filter(o => o.metadata.namespace === namespace);
const one = (objects: KubeObject[], kind: string, namespace: string, name: string): KubeObject => {
  const found = objects.filter(o => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace}/${name}, found ${found.length}`);
  return found[0];
};
const mentionsAgent = (o: KubeObject): boolean => JSON.stringify(o).includes('169.254.170.23') || JSON.stringify(o).includes(AGENT_HOST);
/** An object without the manifest resource's prune label (which names the resource, not the object). */
const withoutPruneLabel = (o: KubeObject): unknown => JSON.parse(JSON.stringify(o, (k, v) => (k.startsWith('aws.cdk.eks/prune-') ? undefined : v)));

/** billing/ledger on Pod Identity reading a bucket; shop/front on IRSA writing one; billing/reports on Pod Identity with no AWS access. */
const mixed = (platform: ZeroTrustCluster, stack: Stack) => {
  const ledger = platform.addService('ledger', { namespace: 'billing', ports: [ServicePort.grpc(9090)], identity: WorkloadIdentity.POD_IDENTITY });
  const reports = platform.addService('reports', { namespace: 'billing', identity: WorkloadIdentity.POD_IDENTITY });
  const front = platform.addService('front', { ports: [ServicePort.http(8080)] });
  new s3.Bucket(stack, 'Ledger').grantRead(ledger);
  new s3.Bucket(stack, 'Uploads').grantWrite(front);
  ledger.allowFrom(front);
  return { ledger, reports, front };
};

describe('a cluster with a Pod Identity service next to an IRSA service', () => {
  const built = build(mixed);
  const { template: t, objects } = built;

  describe('the eks-pod-identity-agent add-on', () => {
    test('is installed once, on this cluster, after the node group, at the default version', () => {
      const agent = addons(t, 'eks-pod-identity-agent');
      expect(agent).toHaveLength(1);
      const [id, addon] = agent[0];
      const [clusterId] = resourcesOfType(t, 'AWS::EKS::Cluster')[0];
      expect(refOf(addon.Properties!.ClusterName)).toBe(clusterId);
      expect(addon.Properties!.AddonVersion).toBeUndefined();
      expect(addon.Properties!.ServiceAccountRoleArn).toBeUndefined(); // the agent runs on the node role (eks-auth:AssumeRoleForPodIdentity)
      const [nodegroupId] = resourcesOfType(t, 'AWS::EKS::Nodegroup')[0];
      expect(dependsOn(addon)).toContain(nodegroupId);
      expect(built.platform.podIdentityAgent).toBeDefined();
      expect(built.template.Resources[id]).toBe(addon);
    });

    test('is pinned when podIdentityAgentVersion is given', () => {
      const pinned = build(mixed, { podIdentityAgentVersion: 'v1.3.10-eksbuild.2' });
      expect(addons(pinned.template, 'eks-pod-identity-agent').map(([, r]) => r.Properties!.AddonVersion)).toEqual(['v1.3.10-eksbuild.2']);
    });
  });

  describe('billing/ledger (Pod Identity, reads a bucket)', () => {
    const policy = one(objects, 'NetworkPolicy', 'billing', 'ledger');

    test('its NetworkPolicy opens 169.254.170.23/32 on TCP 80, for its own non-quarantined pods only', () => {
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']); // front calls it
      expect(policy.spec.podSelector).toEqual({
        matchExpressions: [{ key: QUARANTINE, operator: 'DoesNotExist' }],
        matchLabels: { 'app.kubernetes.io/name': 'ledger' },
      });
      expect(policy.spec.egress.filter((r: any) => JSON.stringify(r).includes('169.254.170.23'))).toEqual([AGENT_RULE]);
      // No other NetworkPolicy anywhere (namespace-wide, platform, other services) opens the agent.
      expect(objects.filter(o => o.kind === 'NetworkPolicy' && o !== policy && mentionsAgent(o)).map(o => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual([]);
    });

    test('its namespace gets a TCP ServiceEntry for the agent address and the Sidecar egress host, so REGISTRY_ONLY lets it through', () => {
      const entry = one(objects, 'ServiceEntry', 'billing', 'eks-pod-identity-agent');
      expect(entry.spec).toEqual({
        hosts: [AGENT_HOST],
        addresses: [AGENT_CIDR],
        ports: [{ number: 80, name: 'tcp-80', protocol: 'TCP' }],
        location: 'MESH_EXTERNAL',
        resolution: 'NONE',
        exportTo: ['.'],
      });
      const sidecar = one(objects, 'Sidecar', 'billing', 'default');
      expect(sidecar.spec.egress[0].hosts).toContain(`./${AGENT_HOST}`);
      expect(sidecar.spec.outboundTrafficPolicy).toEqual({ mode: 'REGISTRY_ONLY' });
    });

    test('it gets no STS egress: only the API its grant needs (S3), on 443 to the endpoint subnets', () => {
      expect(built.services.ledger.awsApis().map(a => a.name)).toEqual(['s3']);
      expect(objectsIn(objects, 'billing').filter(o => o.kind === 'ServiceEntry').map(o => o.metadata.name).sort()).toEqual(['aws-s3', 'eks-pod-identity-agent']);
      const hosts: string[] = one(objects, 'Sidecar', 'billing', 'default').spec.egress[0].hosts;
      expect(hosts.filter(h => h.includes('sts.'))).toEqual([]);
      const others = policy.spec.egress.filter((r: any) => !JSON.stringify(r).includes('169.254.170.23'));
      expect(others.map((r: any) => r.ports)).toEqual([[{ port: 443, protocol: 'TCP' }]]);
    });
  });

  test('billing/reports (Pod Identity, never touches AWS) gets no role, no association and no agent egress', () => {
    expect(built.services.reports.usesPodIdentityAgent).toBe(false);
    expect(resourcesOfType(t, 'AWS::EKS::PodIdentityAssociation').map(([, r]) => r.Properties!.ServiceAccount)).toEqual(['ledger']);
    expect(objects.filter(o => o.kind === 'NetworkPolicy' && o.metadata.name === 'reports' && mentionsAgent(o))).toEqual([]);
  });

  test('shop/front (IRSA) keeps STS and gets nothing of the agent', () => {
    expect(built.services.front.awsApis().map(a => a.name)).toEqual(['sts', 's3']);
    expect(objectsIn(objects, 'shop').filter(mentionsAgent).map(o => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    expect(one(objects, 'ServiceAccount', 'shop', 'front').metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeDefined();
  });

  test('every object of the service namespaces validates against the Kubernetes and Istio schemas (CEL rules included)', () => {
    const mine = objects.filter(o => ['billing', 'shop'].includes(o.metadata.namespace ?? '') || (o.kind === 'Namespace' && ['billing', 'shop'].includes(o.metadata.name)));
    expect(mine.some(o => o.kind === 'ServiceEntry' && o.metadata.name === 'eks-pod-identity-agent')).toBe(true);
    expectValidManifests(mine as unknown as Record<string, unknown>[]);
  });

  test('the schema validator is no rubber stamp: the agent entry with DNS resolution breaks Istio\'s CIDR rule', () => {
    const entry = one(objects, 'ServiceEntry', 'billing', 'eks-pod-identity-agent');
    const dns = { ...entry, spec: { ...entry.spec, resolution: 'DNS' } };
    expect(validateManifest(dns as unknown as Record<string, unknown>).join('\n')).toMatch(/CIDR addresses are allowed only for NONE\/STATIC resolution types/);
  });

  test('ZeroTrustChecks and the self-check pass', () => {
    expect(built.checksRan).toBe(1);
    expect(built.checkViolations).toEqual([]);
    expect(built.platform.policies.selfCheckFindings).toEqual([]);
  });
});

describe('IRSA services keep their behaviour exactly', () => {
  const irsaOnly = build((platform, stack) => {
    const front = platform.addService('front', { ports: [ServicePort.http(8080)] });
    new s3.Bucket(stack, 'Uploads').grantWrite(front);
    return { front };
  });
  const withPodIdentity = build((platform, stack) => {
    const front = platform.addService('front', { ports: [ServicePort.http(8080)] });
    new s3.Bucket(stack, 'Uploads').grantWrite(front);
    const ledger = platform.addService('ledger', { namespace: 'billing', identity: WorkloadIdentity.POD_IDENTITY });
    new s3.Bucket(stack, 'Ledger').grantRead(ledger);
    return { front, ledger };
  });

  test('a cluster with only IRSA services has no agent add-on and nothing of the agent anywhere', () => {
    expect(addons(irsaOnly.template, 'eks-pod-identity-agent')).toEqual([]);
    expect(irsaOnly.platform.podIdentityAgent).toBeUndefined();
    expect(irsaOnly.objects.filter(mentionsAgent)).toEqual([]);
    expect(irsaOnly.checkViolations).toEqual([]);
  });

  test('a Pod Identity service that never touches AWS does not install the add-on', () => {
    const idle = build(platform => ({ job: platform.addService('job', { identity: WorkloadIdentity.POD_IDENTITY }) }));
    expect(addons(idle.template, 'eks-pod-identity-agent')).toEqual([]);
    expect(idle.objects.filter(mentionsAgent)).toEqual([]);
  });

  test('every object of the IRSA service\'s namespace is the same with or without a Pod Identity service elsewhere', () => {
    const shop = (b: Built) => objectsIn(b.objects, 'shop').map(withoutPruneLabel);
    expect(shop(withPodIdentity)).toEqual(shop(irsaOnly));
    expect(shop(irsaOnly).length).toBeGreaterThan(5);
  });

  test('its IRSA role trust is unchanged', () => {
    const trustOf = (b: Built) => {
      const roleId = b.template.Resources[Object.keys(b.template.Resources).find(id => id.startsWith('PlatformServicefrontRole'))!];
      return roleId.Properties!.AssumeRolePolicyDocument;
    };
    expect(trustOf(withPodIdentity)).toEqual(trustOf(irsaOnly));
    expect(JSON.stringify(trustOf(irsaOnly))).toContain('sts:AssumeRoleWithWebIdentity');
  });
});

describe('Pod Identity STS egress follows the declaration', () => {
  test('a Pod Identity service that asks for STS by name gets it; one granted only KMS gets KMS and the agent', () => {
    const b = build((platform, stack) => {
      const sts = platform.addService('caller', { namespace: 'billing', identity: WorkloadIdentity.POD_IDENTITY, awsApis: [AwsApi.STS] });
      const signer = platform.addService('signer', { namespace: 'keys', identity: WorkloadIdentity.POD_IDENTITY });
      new kms.Key(stack, 'Key', { enableKeyRotation: true }).grantEncrypt(signer);
      return { sts, signer };
    });
    expect(b.services.sts.awsApis().map(a => a.name)).toEqual(['sts']);
    expect(b.services.signer.awsApis().map(a => a.name)).toEqual(['kms']);
    expect(objectsIn(b.objects, 'keys').filter(o => o.kind === 'ServiceEntry').map(o => o.metadata.name).sort()).toEqual(['aws-kms', 'eks-pod-identity-agent']);
    for (const [ns, name] of [['billing', 'caller'], ['keys', 'signer']]) {
      expect(one(b.objects, 'NetworkPolicy', ns, name).spec.egress).toContainEqual(AGENT_RULE);
    }
    expect(addons(b.template, 'eks-pod-identity-agent')).toHaveLength(1);
    expect(b.checkViolations).toEqual([]);
  });
});

describe('ExternalEndpointProtocol.TCP in a standalone chart', () => {
  const declareAgent = () => {
    const chart = newChart();
    const agent = chart.addExternalEndpoint('node-agent', { hosts: ['node-agent.internal'], cidrs: [AGENT_CIDR], port: 80, protocol: ExternalEndpointProtocol.TCP });
    const app = chart.addService('app', { ports: [ServicePort.http(8080)] });
    const other = chart.addService('other', {});
    app.allowEgressTo(agent);
    return { chart, agent, app, other };
  };

  test('renders a ServiceEntry matched by address (resolution NONE) and an egress rule on the port; TLS entries are unchanged', () => {
    const { chart, agent } = declareAgent();
    expect(agent.protocol).toBe(ExternalEndpointProtocol.TCP);
    const tls = chart.addExternalEndpoint('aws-sts', { hosts: ['sts.eu-west-1.amazonaws.com'], cidrs: ['10.0.99.0/27'] });
    expect(tls.protocol).toBe(ExternalEndpointProtocol.TLS);
    chart.addService('caller', {}).allowEgressTo(tls);
    const objects = synth(chart);
    expect(find(objects, 'ServiceEntry', 'shop', 'node-agent').spec).toEqual({
      hosts: ['node-agent.internal'],
      addresses: [AGENT_CIDR],
      ports: [{ number: 80, name: 'tcp-80', protocol: 'TCP' }],
      location: 'MESH_EXTERNAL',
      resolution: 'NONE',
      exportTo: ['.'],
    });
    expect(find(objects, 'ServiceEntry', 'shop', 'aws-sts').spec).toEqual({
      hosts: ['sts.eu-west-1.amazonaws.com'],
      ports: [{ number: 443, name: 'tls-443', protocol: 'TLS' }],
      location: 'MESH_EXTERNAL',
      resolution: 'DNS',
      exportTo: ['.'],
    });
    expect(find(objects, 'NetworkPolicy', 'shop', 'app').spec.egress).toEqual([AGENT_RULE]);
    expect(find(objects, 'Sidecar', 'shop', 'default').spec.egress[0].hosts).toContain('./node-agent.internal');
    expectValidManifests(objects);
    expect(chart.selfCheckFindings).toEqual([]);
  });

  test('the self-check still refuses the agent address on another port, or for a service that did not declare it', () => {
    const wrongPort = declareAgent();
    new ApiObject(wrongPort.chart, 'WrongPort', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'wrong-port', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'app' } }, egress: [{ to: [{ ipBlock: { cidr: AGENT_CIDR } }], ports: [{ port: 81, protocol: 'TCP' }] }], policyTypes: ['Egress'] },
    });
    expect(() => wrongPort.chart.toJson()).toThrow(/undeclared egress: shop\/app may reach ipBlock 169\.254\.170\.23\/32 on TCP 81/);

    const undeclared = declareAgent();
    new ApiObject(undeclared.chart, 'Borrowed', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'borrowed', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'other' } }, egress: [AGENT_RULE], policyTypes: ['Egress'] },
    });
    expect(() => undeclared.chart.toJson()).toThrow(/undeclared egress: shop\/other may reach ipBlock 169\.254\.170\.23\/32 on TCP 80/);
  });

  test('validation: an unknown protocol is refused, and a ServiceEntry needs addresses exactly when it is TCP', () => {
    const chart = newChart();
    expect(() => chart.addExternalEndpoint('x', { hosts: ['x.internal'], cidrs: [AGENT_CIDR], protocol: 'TCP' as unknown as ExternalEndpointProtocol }))
      .toThrow(/external endpoint 'x': protocol must be ExternalEndpointProtocol.TLS or ExternalEndpointProtocol.TCP \(got 'TCP'\)/);
    expect(() => chart.addExternalEndpoint('y', { hosts: [], cidrs: [AGENT_CIDR], protocol: ExternalEndpointProtocol.TCP })).toThrow(/hosts must not be empty/);
    const scope = newChart({}, 'raw');
    expect(() => new ServiceEntry(scope, 'NoAddresses', { metadata: { name: 'a' }, hosts: ['a.internal'], port: 80, protocol: ExternalEndpointProtocol.TCP }))
      .toThrow(/ServiceEntry 'a': a TCP entry needs addresses/);
    expect(() => new ServiceEntry(scope, 'TlsAddresses', { metadata: { name: 'b' }, hosts: ['b.example.com'], port: 443, addresses: ['10.0.0.0/24'] }))
      .toThrow(/ServiceEntry 'b': addresses are only for a TCP entry/);
  });
});
