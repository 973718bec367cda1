import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** A container-optimized node OS (controls.md EKS-12: never AL2). */
export class NodeAmi {
  /** Amazon Linux 2023, x86_64. */
  public static readonly AL2023_X86_64 = new NodeAmi(eks.NodegroupAmiType.AL2023_X86_64_STANDARD, ['/dev/xvda']);
  /** Amazon Linux 2023, arm64. */
  public static readonly AL2023_ARM_64 = new NodeAmi(eks.NodegroupAmiType.AL2023_ARM_64_STANDARD, ['/dev/xvda']);
  /** Bottlerocket, x86_64 (an OS volume and a data volume). */
  public static readonly BOTTLEROCKET_X86_64 = new NodeAmi(eks.NodegroupAmiType.BOTTLEROCKET_X86_64, ['/dev/xvda', '/dev/xvdb']);
  /** Bottlerocket, arm64. */
  public static readonly BOTTLEROCKET_ARM_64 = new NodeAmi(eks.NodegroupAmiType.BOTTLEROCKET_ARM_64, ['/dev/xvda', '/dev/xvdb']);
  private constructor(public readonly amiType: eks.NodegroupAmiType, public readonly deviceNames: string[]) {}
}

/** Options of the cluster's managed node group. */
export interface NodeGroupOptions {
  /** @default NodeAmi.AL2023_X86_64 */
  readonly ami?: NodeAmi;
  /** @default [m6i.large] */
  readonly instanceTypes?: ec2.InstanceType[];
  /** @default 2 */
  readonly minSize?: number;
  /** @default 4 */
  readonly maxSize?: number;
  /** @default 2 */
  readonly desiredSize?: number;
  /**
   * Size of each volume.
   * @default 50
   */
  readonly diskSizeGiB?: number;
}

/**
 * The nodes' launch template: IMDSv2 required with hop limit 1, so pods cannot reach the node's
 * credentials (controls.md EKS-10); every volume encrypted with the EBS key (EKS-11); no key pair
 * and no security groups of its own (EKS attaches the cluster security group).
 */
export function nodeLaunchTemplate(scope: Construct, id: string, ami: NodeAmi, key: kms.IKey, sizeGiB: number): ec2.LaunchTemplate {
  return new ec2.LaunchTemplate(scope, id, {
    requireImdsv2: true,
    httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
    httpPutResponseHopLimit: 1,
    detailedMonitoring: true,
    blockDevices: ami.deviceNames.map(deviceName => ({
      deviceName,
      volume: ec2.BlockDeviceVolume.ebs(sizeGiB, {
        encrypted: true, kmsKey: key, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true,
      }),
    })),
  });
}
