/**
 * A service account that two services run as is one identity: an AWS role for either would be held
 * by both (IRSA trusts the service account; EKS allows one Pod Identity association per account).
 * Granting AWS access to such a service is refused, whenever the sharing is declared.
 */
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ServicePort, WorkloadIdentity, ZeroTrustCluster } from '../lib';
import { CDK_JSON_CONTEXT } from './support/aws/reference-app';

function cluster() {
  const app = new App({ context: CDK_JSON_CONTEXT });
  const stack = new Stack(app, 'Shared');
  const platform = new ZeroTrustCluster(stack, 'Platform', { version: eks.KubernetesVersion.V1_35, kubectlLayer: new KubectlV35Layer(stack, 'Kubectl') });
  const bucket = new s3.Bucket(stack, 'Data');
  return { app, stack, platform, bucket };
}

const MESSAGE = /ZeroTrustCluster\.addService\('reports'\): serviceAccountName is shared with service 'exports' in namespace 'shop', so an AWS role for 'reports' would be held by 'exports' too \(got 'batch'\)\. Fix: give 'reports' a dedicated serviceAccountName before granting it AWS access/;

describe('AWS identities are never shared', () => {
  test.each([['IRSA', WorkloadIdentity.IRSA], ['Pod Identity', WorkloadIdentity.POD_IDENTITY]])('%s: a grant to a service whose account another service uses is refused', (_name, identity) => {
    const { platform, bucket } = cluster();
    const reports = platform.addService('reports', { namespace: 'shop', serviceAccountName: 'batch', identity, ports: [ServicePort.http(8080)] });
    platform.addService('exports', { namespace: 'shop', serviceAccountName: 'batch' });
    expect(() => bucket.grantRead(reports)).toThrow(MESSAGE);
  });

  test('a service that shares the account after the grant fails the synthesis, naming both', () => {
    const { app, platform, bucket } = cluster();
    const reports = platform.addService('reports', { namespace: 'shop', serviceAccountName: 'batch' });
    bucket.grantRead(reports);
    platform.addService('exports', { namespace: 'shop', serviceAccountName: 'batch' });
    expect(() => app.synth()).toThrow(MESSAGE);
  });

  test('the same account name in another namespace is another identity: allowed', () => {
    const { app, platform, bucket } = cluster();
    const reports = platform.addService('reports', { namespace: 'shop', serviceAccountName: 'batch' });
    platform.addService('exports', { namespace: 'billing', serviceAccountName: 'batch' });
    bucket.grantRead(reports);
    expect(() => app.synth()).not.toThrow();
  });
});
