/**
 * ZeroTrustCluster on a small cluster: EKS Pod Identity roles trust only the EKS pods principal
 * with confused-deputy conditions (controls.md IAM-02); Pod Security labels pinned to the cluster's
 * minor version, with a recorded reason wherever less than restricted is enforced (K8S-01); the
 * namespace resources reach the service namespaces (K8S-08, K8S-09).
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ServicePort, WorkloadIdentity, ZeroTrustCluster, ZeroTrustClusterProps } from '../lib';
import { CfnTemplate, getAttOf, KubeObject, KUBERNETES_RESOURCE, manifestObjects, onlyResource, resourcesOfType } from './support/aws/cfn';
import { CDK_JSON_CONTEXT } from './support/aws/reference-app';
import { expectValidManifests } from './support/schema-validator';

const ACCOUNT = '111122223333';
const REASON = 'zero-trust.cdk.io/pod-security-reason';

function build(props: Partial<ZeroTrustClusterProps> = {}) {
  const app = new App({ context: CDK_JSON_CONTEXT, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'eu-west-1' } });
  const platform = new ZeroTrustCluster(stack, 'Platform', {
    version: eks.KubernetesVersion.V1_35,
    kubectlLayer: lambda.LayerVersion.fromLayerVersionArn(stack, 'Kubectl', `arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:kubectl:1`),
    defaultNamespace: 'shop',
    ...props,
  });
  const ledger = platform.addService('ledger', { namespace: 'billing', ports: [ServicePort.grpc(9090)], identity: WorkloadIdentity.POD_IDENTITY });
  const front = platform.addService('front', { ports: [ServicePort.http(8080)] });
  const bucket = new s3.Bucket(stack, 'Ledger');
  bucket.grantRead(ledger);
  ledger.allowFrom(front);
  const template = Template.fromStack(stack).toJSON() as CfnTemplate;
  return { stack, platform, ledger, template };
}

const objectsOf = (t: CfnTemplate): KubeObject[] => resourcesOfType(t, KUBERNETES_RESOURCE).flatMap(([, r]) => manifestObjects(r));
const namespace = (t: CfnTemplate, name: string): KubeObject => {
  const found = objectsOf(t).filter(o => o.kind === 'Namespace' && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one Namespace ${name}, found ${found.length}`);
  return found[0];
};

describe('one small cluster', () => {
  const built = build();
  const t = built.template;

  describe('IAM-02: a Pod Identity role', () => {
    const roleId = built.stack.resolve((built.ledger.role.node.defaultChild as CfnElement).logicalId) as string;
    const role = t.Resources[roleId];

    test('trusts only pods.eks.amazonaws.com, for AssumeRole and TagSession, from this account and this cluster', () => {
      const statements = role.Properties!.AssumeRolePolicyDocument.Statement as any[];
      expect(statements).toHaveLength(1);
      const [statement] = statements;
      expect(statement.Effect).toBe('Allow');
      expect(statement.Principal).toEqual({ Service: 'pods.eks.amazonaws.com' });
      expect([...statement.Action].sort()).toEqual(['sts:AssumeRole', 'sts:TagSession']);
      expect(Object.keys(statement.Condition).sort()).toEqual(['ArnEquals', 'StringEquals']);
      expect(statement.Condition.StringEquals).toEqual({ 'aws:SourceAccount': ACCOUNT });
      const clusterId = onlyResource(t, 'AWS::EKS::Cluster', 'the cluster', () => true)[0];
      expect(Object.keys(statement.Condition.ArnEquals)).toEqual(['aws:SourceArn']);
      expect(getAttOf(statement.Condition.ArnEquals['aws:SourceArn'])).toEqual([clusterId, 'Arn']);
    });

    test('is bound to billing/ledger by a Pod Identity association, and the service account carries no IRSA annotation', () => {
      const [, association] = onlyResource(t, 'AWS::EKS::PodIdentityAssociation', 'the ledger association', () => true);
      expect(association.Properties).toEqual(expect.objectContaining({ Namespace: 'billing', ServiceAccount: 'ledger' }));
      expect(getAttOf(association.Properties!.RoleArn)).toEqual([roleId, 'Arn']);
      const sa = objectsOf(t).find(o => o.kind === 'ServiceAccount' && o.metadata.namespace === 'billing' && o.metadata.name === 'ledger')!;
      expect(sa.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBeUndefined();
      expect(JSON.stringify(role.Properties!.AssumeRolePolicyDocument)).not.toContain('sts:AssumeRoleWithWebIdentity');
    });
  });

  describe('K8S-01: Pod Security labels', () => {
    test('service namespaces and istio-ingress: enforce, audit and warn restricted, enforce-version pinned to the cluster\'s v1.35', () => {
      for (const ns of ['shop', 'billing', 'istio-ingress']) {
        expect({ ns, labels: namespace(t, ns).metadata.labels }).toEqual({
          ns,
          labels: expect.objectContaining({
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'v1.35',
            'pod-security.kubernetes.io/audit': 'restricted',
            'pod-security.kubernetes.io/warn': 'restricted',
          }),
        });
      }
    });

    test('istio-system enforces baseline (restricted audited and warned) and records why', () => {
      const root = namespace(t, 'istio-system');
      expect(root.metadata.labels).toEqual(expect.objectContaining({
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/enforce-version': 'v1.35',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      }));
      expect(root.metadata.annotations?.[REASON]).toMatch(/seccompProfile/);
    });

    test('istio-cni is the only privileged namespace, and records why', () => {
      const cni = namespace(t, 'istio-cni');
      expect(cni.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('privileged');
      expect(cni.metadata.annotations?.[REASON]).toMatch(/istio-cni-node/);
      const privileged = objectsOf(t).filter(o => o.kind === 'Namespace' && o.metadata.labels?.['pod-security.kubernetes.io/enforce'] === 'privileged');
      expect(privileged.map(o => o.metadata.name)).toEqual(['istio-cni']);
      // Every namespace below restricted says why; no namespace anywhere still floats on 'latest'.
      for (const ns of objectsOf(t).filter(o => o.kind === 'Namespace')) {
        const enforce = ns.metadata.labels?.['pod-security.kubernetes.io/enforce'];
        if (enforce !== 'restricted') expect({ ns: ns.metadata.name, reason: typeof ns.metadata.annotations?.[REASON] }).toEqual({ ns: ns.metadata.name, reason: 'string' });
      }
      expect(objectsOf(t).filter(o => o.kind === 'Namespace'
        && o.metadata.labels?.['pod-security.kubernetes.io/enforce-version'] !== 'v1.35').map(o => o.metadata.name)).toEqual([]);
    });

    test('the Istio namespaces validate strictly', () => {
      expectValidManifests(['istio-system', 'istio-cni', 'istio-ingress'].map(n => namespace(t, n)) as unknown as Record<string, unknown>[]);
    });
  });

  test('K8S-08/K8S-09: each service namespace applies one ResourceQuota, one LimitRange and the token-less default ServiceAccount', () => {
    for (const ns of ['shop', 'billing']) {
      const inNs = objectsOf(t).filter(o => o.metadata.namespace === ns);
      expect({ ns, kinds: inNs.filter(o => ['ResourceQuota', 'LimitRange'].includes(o.kind)).map(o => `${o.kind}/${o.metadata.name}`).sort() })
        .toEqual({ ns, kinds: ['LimitRange/zero-trust.limit-range', 'ResourceQuota/zero-trust.resource-quota'] });
      expect(inNs.find(o => o.kind === 'ServiceAccount' && o.metadata.name === 'default')?.automountServiceAccountToken).toBe(false);
    }
    for (const ns of ['istio-system', 'istio-ingress', 'istio-cni', 'gatekeeper-system']) {
      expect(objectsOf(t).filter(o => o.metadata.namespace === ns && ['ResourceQuota', 'LimitRange'].includes(o.kind))).toEqual([]);
    }
  });
});

test('K8S-08: namespaceResources of the cluster reach its chart', () => {
  const { platform } = build({ namespaceResources: { quota: { pods: '20' }, containerDefaults: { memoryLimit: '1Gi' } } });
  const objects = platform.policies.toJson() as KubeObject[];
  const quota = objects.find(o => o.kind === 'ResourceQuota' && o.metadata.namespace === 'billing')!;
  expect(quota.spec.hard.pods).toBe('20');
  const limits = objects.find(o => o.kind === 'LimitRange' && o.metadata.namespace === 'billing')!;
  expect(limits.spec.limits[0].default).toEqual({ memory: '1Gi' });
});
