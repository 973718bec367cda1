/**
 * The Kubernetes layer inside the AWS layer: the objects that ZeroTrustCluster embeds in
 * `Custom::AWSCDK-EKS-KubernetesResource` manifests are exactly the policy chart's, each once,
 * grouped one manifest resource per namespace so that adding a service never moves an object
 * between resources (CloudFormation deletes the objects of a removed or replaced resource).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ServicePort, ZeroTrustCluster, ZeroTrustReport } from '../lib';
import { groupManifests, ManifestObject } from '../lib/cluster/manifest-groups';
import {
  canonicalJson, CfnResource, CfnTemplate, dependsOnClosure, HELM_CHART, KubeObject, KUBERNETES_RESOURCE, manifestObjects, objectKey, onlyResource,
  PRUNE_LABEL_PREFIX, renderDeep, resourcesOfType, withoutPruneLabel,
} from './support/aws/cfn';
import { buildReference, BuiltReference, CDK_JSON_CONTEXT } from './support/aws/reference-app';

/** Where an object lives: `Policies-<key>` is the construct id of its manifest resource. */
function groupKeyOf(o: KubeObject): string {
  return o.metadata.namespace ?? (o.kind === 'Namespace' ? o.metadata.name : 'cluster');
}

/** Every embedded object of every manifest resource: [logical id, object without the prune label]. */
function embedded(template: CfnTemplate): Array<[string, KubeObject]> {
  return resourcesOfType(template, KUBERNETES_RESOURCE)
    .flatMap(([id, r]) => manifestObjects(r).map((o): [string, KubeObject] => [id, withoutPruneLabel(o)]));
}

/** The chart's objects with CDK tokens resolved by the stack and rendered like the template's. */
function chartObjects(cluster: ZeroTrustCluster): KubeObject[] {
  return renderDeep(Stack.of(cluster).resolve(cluster.policies.toJson())) as KubeObject[];
}

function byKey(objects: KubeObject[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const o of objects) {
    expect(map.has(objectKey(o))).toBe(false);
    map.set(objectKey(o), canonicalJson(o));
  }
  return map;
}

describe('the reference app', () => {
  let ref: BuiltReference;
  let template: CfnTemplate;

  beforeAll(() => {
    ref = buildReference();
    if (ref.synthError) {
      throw new Error(`the reference app did not synthesize: ${ref.synthError}`);
    }
    template = Template.fromStack(ref.stack).toJSON() as CfnTemplate;
  });

  afterAll(() => ref?.dispose());

  test('the embedded policy objects are exactly the chart\'s output, each object once across all manifests', () => {
    const chart = chartObjects(ref.stack.platform);
    expect(chart.length).toBeGreaterThan(40);
    const expected = byKey(chart);
    const all = embedded(template);
    const owners = new Map<string, string[]>();
    for (const [id, o] of all) {
      owners.set(objectKey(o), [...(owners.get(objectKey(o)) ?? []), id]);
    }
    // Every object of the chart is in exactly one manifest resource (of all of them, the Istio namespaces' too).
    for (const key of expected.keys()) {
      expect({ key, owners: owners.get(key)?.length }).toEqual({ key, owners: 1 });
    }
    // The manifests that hold chart objects hold nothing else, and hold them as the chart wrote them.
    const policyResources = new Set(all.filter(([, o]) => expected.has(objectKey(o))).map(([id]) => id));
    const union = all.filter(([id]) => policyResources.has(id)).map(([, o]) => o);
    expect(union.length).toBe(chart.length);
    for (const o of union) {
      expect({ key: objectKey(o), json: canonicalJson(o) }).toEqual({ key: objectKey(o), json: expected.get(objectKey(o)) });
    }
    // The role ARN annotation went through the template as the role's ARN, on both sides.
    const analytics = union.find(o => o.kind === 'ServiceAccount' && o.metadata.name === 'analytics')!;
    expect(analytics.metadata.annotations!['eks.amazonaws.com/role-arn']).toMatch(/^<<GetAtt:PlatformServiceanalyticsRole[0-9A-F]{8}\.Arn>>$/);
  });

  test('every embedded object carries its resource\'s prune label (removed objects are pruned, kept ones are not)', () => {
    for (const [id, r] of resourcesOfType(template, KUBERNETES_RESOURCE)) {
      const labels = new Set(manifestObjects(r).map(o => Object.keys(o.metadata.labels ?? {}).filter(k => k.startsWith(PRUNE_LABEL_PREFIX)).join()));
      expect({ id, labels: labels.size, empty: labels.has('') }).toEqual({ id, labels: 1, empty: false });
    }
  });

  test('one manifest resource per namespace, named Policies-<namespace>, applied after istiod', () => {
    const [istiod] = onlyResource(template, HELM_CHART, 'the istiod chart', r => r.Properties?.Chart === 'istiod');
    const chart = chartObjects(ref.stack.platform);
    const chartKeys = new Set(chart.map(objectKey));
    const groups = new Map<string, Set<string>>();
    for (const [id, o] of embedded(template).filter(([, x]) => chartKeys.has(objectKey(x)))) {
      groups.set(id, new Set([...(groups.get(id) ?? []), groupKeyOf(o)]));
    }
    const namespaces = [...groups.values()].map(s => [...s]);
    expect(namespaces.every(ns => ns.length === 1)).toBe(true);
    expect(namespaces.map(([ns]) => ns).sort()).toEqual(['analytics', 'istio-ingress', 'istio-system', 'payments', 'shop']);
    for (const [id, [ns]] of [...groups].map(([i, s]): [string, string[]] => [i, [...s]])) {
      expect(id).toMatch(new RegExp(`^PlatformPolicies${ns.replace(/[^A-Za-z0-9]/g, '')}[0-9A-F]{8}$`));
      const construct = ref.stack.platform.node.findChild(`Policies-${ns}`) as eks.KubernetesManifest;
      expect(ref.stack.getLogicalId(construct.node.findChild('Resource').node.defaultChild as CfnElement)).toBe(id);
      expect({ id, afterIstiod: dependsOnClosure(template, id).has(istiod) }).toEqual({ id, afterIstiod: true });
      // Retained: removing or re-keying the resource never deletes objects another resource now owns.
      expect({ id, deletion: template.Resources[id].DeletionPolicy, replace: template.Resources[id].UpdateReplacePolicy })
        .toEqual({ id, deletion: 'Retain', replace: 'Retain' });
    }
  });

  test('the posture report of the reference chart has no finding: the platform namespaces are covered', () => {
    const report = ZeroTrustReport.fromChart(ref.stack.platform.policies);
    expect(report.findings).toEqual([]);
    expect(ref.stack.platform.policies.selfCheckFindings).toEqual([]);
    const chart = chartObjects(ref.stack.platform);
    for (const ns of ['istio-system', 'istio-ingress', 'shop', 'payments', 'analytics']) {
      expect(chart.filter(o => o.kind === 'NetworkPolicy' && o.metadata.namespace === ns && o.metadata.name === 'zero-trust.default-deny')).toHaveLength(1);
    }
    // The report is not blind: it sees the declared flows (user <- api-gateway, payment <- order ...).
    expect(report.flows.length).toBeGreaterThan(0);
  });
});

describe('adding a service moves no object between manifest resources', () => {
  type Variant = 'base' | 'same-namespace' | 'new-namespace-isolated' | 'new-namespace-called';
  const dirs: string[] = [];

  /** A small cluster (front -> cart in shop, cart -> ledger in billing), plus the variant's service. */
  function build(variant: Variant): CfnTemplate {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-manifests-'));
    dirs.push(outdir);
    const app = new App({ outdir, builtinCloudFormationValidation: false, context: { ...CDK_JSON_CONTEXT } });
    const stack = new Stack(app, 'Small');
    const platform = new ZeroTrustCluster(stack, 'Platform', {
      version: eks.KubernetesVersion.V1_35,
      kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', 'arn:aws:lambda:us-east-1:123456789012:layer:kubectl:1'),
      defaultNamespace: 'shop',
    });
    const front = platform.addService('front', { ports: [ServicePort.http(8080)] });
    const cart = platform.addService('cart', { ports: [ServicePort.http(8080)] });
    const ledger = platform.addService('ledger', { namespace: 'billing', ports: [ServicePort.grpc(9090)] });
    front.allowFromIngressGateway();
    cart.allowFrom(front);
    ledger.allowFrom(cart);
    if (variant === 'same-namespace') {
      platform.addService('wishlist', { ports: [ServicePort.http(8081)] }).allowFrom(front);
    } else if (variant === 'new-namespace-isolated') {
      platform.addService('reviews', { namespace: 'reviews', ports: [ServicePort.http(8082)] });
    } else if (variant === 'new-namespace-called') {
      platform.addService('reviews', { namespace: 'reviews', ports: [ServicePort.http(8082)] }).allowFrom(front);
    }
    return Template.fromStack(stack).toJSON() as CfnTemplate;
  }

  let base: CfnTemplate;
  const owners = (template: CfnTemplate) => new Map(embedded(template).map(([id, o]) => [objectKey(o), id]));
  const manifestIds = (template: CfnTemplate) => resourcesOfType(template, KUBERNETES_RESOURCE).map(([id]) => id).sort();

  /**
   * Resources that differ (or exist on one side only) between two templates. DependsOn is ordering only, not
   * an update: the admission policies wait for every policy manifest, so a new namespace adds to their DependsOn
   * (asserted below) without changing what they apply.
   */
  function changed(a: CfnTemplate, b: CfnTemplate): string[] {
    const ids = new Set([...Object.keys(a.Resources), ...Object.keys(b.Resources)]);
    const withoutOrder = (r: CfnResource | undefined) => (r === undefined ? undefined : JSON.stringify({ ...r, DependsOn: undefined }));
    return [...ids].filter(id => withoutOrder(a.Resources[id]) !== withoutOrder(b.Resources[id])).sort();
  }

  function expectNoMoves(before: CfnTemplate, after: CfnTemplate): void {
    const ownersAfter = owners(after);
    for (const [key, id] of owners(before)) {
      expect({ key, id: ownersAfter.get(key) }).toEqual({ key, id });
    }
  }

  beforeAll(() => {
    base = build('base');
  });

  afterAll(() => dirs.forEach(d => fs.rmSync(d, { recursive: true, force: true })));

  test('a service in an existing namespace changes only that namespace\'s manifest', () => {
    const after = build('same-namespace');
    expect(manifestIds(after)).toEqual(manifestIds(base));
    expectNoMoves(base, after);
    const shop = manifestIds(base).filter(id => /^PlatformPoliciesshop[0-9A-F]{8}$/.test(id));
    expect(shop).toHaveLength(1);
    expect(changed(base, after)).toEqual(shop);
    // The new objects are in the shop resource only.
    const added = embedded(after).filter(([, o]) => !owners(base).has(objectKey(o)));
    expect(added.map(([, o]) => `${o.kind} ${o.metadata.name}`).sort()).toEqual(['AuthorizationPolicy wishlist', 'NetworkPolicy wishlist', 'Service wishlist', 'ServiceAccount wishlist']);
    expect(new Set(added.map(([id]) => id))).toEqual(new Set(shop));
  });

  test('a service in a new namespace adds one manifest resource and changes nothing else', () => {
    const after = build('new-namespace-isolated');
    const added = manifestIds(after).filter(id => !manifestIds(base).includes(id));
    expect(added).toHaveLength(1);
    expect(added[0]).toMatch(/^PlatformPoliciesreviews[0-9A-F]{8}$/);
    expect(manifestIds(after).filter(id => id !== added[0])).toEqual(manifestIds(base));
    expectNoMoves(base, after);
    expect(changed(base, after)).toEqual(added);
    const [admissionPolicies] = resourcesOfType(after, KUBERNETES_RESOURCE).find(([id]) => id.startsWith('PlatformGuardrailsAdmissionPolicies'))!;
    expect(dependsOnClosure(after, admissionPolicies)).toContain(added[0]);
  });

  test('a called service in a new namespace changes its caller\'s namespace too, and still moves nothing', () => {
    const after = build('new-namespace-called');
    expectNoMoves(base, after);
    const changedIds = changed(base, after);
    expect(changedIds).toHaveLength(2);
    expect(changedIds.some(id => /^PlatformPoliciesreviews[0-9A-F]{8}$/.test(id))).toBe(true);
    expect(changedIds.some(id => /^PlatformPoliciesshop[0-9A-F]{8}$/.test(id))).toBe(true);
  });
});

describe('groupManifests', () => {
  const cm = (namespace: string, name: string, size = 10): ManifestObject =>
    ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { pad: 'x'.repeat(size) } });
  const ns = (name: string): ManifestObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const bytes = (objects: ManifestObject[]) => Buffer.byteLength(JSON.stringify(objects));
  const assignment = (groups: Map<string, ManifestObject[]>) =>
    new Map([...groups].flatMap(([key, objects]) => objects.map((o): [string, string] => [`${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`, key])));

  test('one group per namespace; a Namespace object goes with its namespace, other cluster-scoped objects to "cluster"', () => {
    const role: ManifestObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' } };
    const groups = groupManifests([cm('b', 'one'), ns('a'), cm('a', 'two'), role, ns('b'), cm('a', 'three')]);
    expect([...groups.keys()]).toEqual(['a', 'b', 'cluster']);
    expect(groups.get('a')!.map(o => `${o.kind} ${o.metadata?.name}`)).toEqual(['Namespace a', 'ConfigMap two', 'ConfigMap three']);
    expect(groups.get('b')!.map(o => `${o.kind} ${o.metadata?.name}`)).toEqual(['ConfigMap one', 'Namespace b']);
    expect(groups.get('cluster')).toEqual([role]);
  });

  test('an oversized namespace is split into hash buckets that each fit, the Namespace object in bucket 0', () => {
    const big = [ns('big'), ...Array.from({ length: 40 }, (_, i) => cm('big', `object-${i}`, 100))];
    const maxBytes = 1500;
    expect(bytes(big)).toBeGreaterThan(maxBytes);
    const groups = groupManifests([...big, cm('small', 'lonely')], maxBytes);
    const keys = [...groups.keys()].filter(k => k.startsWith('big'));
    expect(keys.length).toBeGreaterThan(1);
    const k = keys[0].split('-')[1];
    for (const key of keys) {
      expect(key).toMatch(new RegExp(`^big-${k}-\\d+$`));
      expect(bytes(groups.get(key)!)).toBeLessThanOrEqual(maxBytes);
    }
    expect(groups.get(`big-${k}-0`)![0]).toEqual(ns('big'));
    expect(keys.flatMap(key => groups.get(key)!).length).toBe(big.length);
    expect(new Set(keys.flatMap(key => groups.get(key)!)).size).toBe(big.length);
    expect(groups.get('small')).toEqual([cm('small', 'lonely')]);
  });

  test('the buckets of a split namespace do not change when an unrelated object is added to another namespace', () => {
    const big = [ns('big'), ...Array.from({ length: 40 }, (_, i) => cm('big', `object-${i}`, 100))];
    const before = assignment(groupManifests([...big, cm('small', 'a')], 1500));
    const after = assignment(groupManifests([cm('other', 'new'), ...big, cm('small', 'a'), cm('small', 'b', 300)], 1500));
    for (const [object, key] of before) {
      expect({ object, key: after.get(object) }).toEqual({ object, key });
    }
  });

  test('today: one object over the limit re-keys every object of the namespace (the fixture of the next test)', () => {
    const objects = [ns('big'), ...Array.from({ length: 12 }, (_, i) => cm('big', `object-${i}`, 100))];
    const maxBytes = bytes(objects); // exactly full
    expect([...groupManifests(objects, maxBytes).keys()]).toEqual(['big']);
    const grown = groupManifests([...objects, cm('big', 'one-more', 100)], maxBytes);
    expect([...grown.keys()]).toEqual(['big-1-0', 'big-1-1']);
  });

  // A namespace that grows past maxBytes re-keys its objects ('big' -> 'big-1-0'/'big-1-1'). CloudFormation would then
  // delete the old manifest resource, whose delete runs kubectl delete on objects the new ones just applied; the
  // cluster retains policy manifest resources so that never happens (asserted on the reference template above).
  test('growing a namespace past the size limit re-keys its objects: the reason policy manifests are retained', () => {
    const objects = [ns('big'), ...Array.from({ length: 12 }, (_, i) => cm('big', `object-${i}`, 100))];
    const maxBytes = bytes(objects); // exactly full
    const before = assignment(groupManifests(objects, maxBytes));
    const after = assignment(groupManifests([...objects, cm('big', 'one-more', 100)], maxBytes));
    expect([...before.values()].every(k => k === 'big')).toBe(true);
    expect([...after.values()].every(k => k.startsWith('big-1-'))).toBe(true);
  });
});
