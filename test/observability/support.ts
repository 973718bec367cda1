import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KubectlV35Layer } from '@aws-cdk/lambda-layer-kubectl-v35';
import { App, IPolicyValidationPlugin, Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { ServicePort, ZeroTrustCluster } from '../../lib';
import { GuardDutyDetector } from '../../lib/observability/guardduty-eks-protection';
import { ZeroTrustObservability, ZeroTrustObservabilityProps } from '../../lib/observability/zero-trust-observability';
import { CDK_JSON_CONTEXT } from '../support/aws/reference-app';

/** A stack with a ZeroTrustCluster and ZeroTrustObservability on it (everything on, GuardDuty created). */
export interface ObservedStack {
  readonly app: App;
  readonly stack: Stack;
  readonly platform: ZeroTrustCluster;
  readonly observability: ZeroTrustObservability;
  readonly outdir: string;
}

export function observedStack(
  props: Partial<ZeroTrustObservabilityProps> = {},
  plugins?: (app: App) => IPolicyValidationPlugin[],
): ObservedStack {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-observability-'));
  const app = new App({ outdir, builtinCloudFormationValidation: false, context: { ...CDK_JSON_CONTEXT } });
  const stack = new Stack(app, 'Observed');
  const platform = new ZeroTrustCluster(stack, 'Platform', {
    version: eks.KubernetesVersion.V1_35,
    kubectlLayer: new KubectlV35Layer(stack, 'Kubectl'),
    defaultNamespace: 'shop',
  });
  platform.addService('web', { ports: [ServicePort.http(8080)] }).allowFromIngressGateway();
  // The same choice the reference app acknowledges: the public Ingress tier routes to the internet gateway by design.
  Validations.of(platform.network as unknown as Construct).acknowledge({
    id: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
    reason: 'The Ingress tier is the public subnets of internet-facing load balancers and NAT gateways: its default route to the IGW is its purpose.',
  });
  const observability = new ZeroTrustObservability(stack, 'Observability', { cluster: platform, guardDuty: GuardDutyDetector.create(), ...props });
  if (plugins) {
    Validations.of(app).addPlugins(...plugins(app));
  }
  return { app, stack, platform, observability, outdir };
}
