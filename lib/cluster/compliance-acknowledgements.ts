import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One acknowledged finding: the rule, where, and why. */
export interface Acknowledgement {
  /** The construct whose subtree the finding is in (a CDK-internal resource). */
  readonly scope: IConstruct;
  /** The rule ids, as the plugins report them. */
  readonly ids: string[];
  /** Why the finding does not apply, or is accepted. */
  readonly reason: string;
}

/** Records acknowledgements (cdk-nag 3 and cfn-guard read them); they change nothing else. */
export function acknowledge(...acks: Acknowledgement[]): void {
  for (const ack of acks) {
    for (const id of ack.ids) {
      Validations.of(ack.scope).acknowledge({ id, reason: ack.reason });
    }
  }
}

const MANAGED = (name: string) => `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`;

/** Rule ids of the AWS-managed policies each CDK-internal role carries. */
export const MANAGED_POLICY_IDS = {
  cluster: [MANAGED('AmazonEKSClusterPolicy')],
  lambda: [MANAGED('service-role/AWSLambdaBasicExecutionRole'), MANAGED('service-role/AWSLambdaVPCAccessExecutionRole')],
  kubectlHandler: [MANAGED('AmazonEC2ContainerRegistryReadOnly')],
  nodes: [MANAGED('AmazonEKSWorkerNodePolicy'), MANAGED('AmazonEC2ContainerRegistryPullOnly')],
  vpcCni: [MANAGED('AmazonEKS_CNI_Policy')],
} as const;

/** The id cdk-nag gives the kubectl handler's conditional ECR Public policy (it embeds the condition's logical id). */
export function ecrPublicPolicyId(conditionLogicalId: string): string {
  const arn = '{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]}';
  return `AwsSolutions-IAM4[Policy::{"Fn::If":["${conditionLogicalId}",${arn},{"Ref":"AWS::NoValue"}]}]`;
}
