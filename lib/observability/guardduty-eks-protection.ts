import { Annotations } from 'aws-cdk-lib';
import * as guardduty from 'aws-cdk-lib/aws-guardduty';
import { Construct } from 'constructs';

/** Which GuardDuty detector protects the cluster. */
export class GuardDutyDetector {
  /**
   * Create the account's detector in this region, with EKS audit-log monitoring and runtime
   * monitoring (GuardDuty manages the security agent add-on). Fails to deploy where the account
   * already has a detector in the region (one per account and region), e.g. one created by an
   * organization's delegated administrator.
   */
  public static create(): GuardDutyDetector {
    return new GuardDutyDetector();
  }

  /**
   * Use the detector that exists. CloudFormation can only configure a detector it created (there
   * is no resource for the features of another detector), so `EKS_AUDIT_LOGS` and
   * `RUNTIME_MONITORING` (with `EKS_ADDON_MANAGEMENT`) must be enabled on it by its owner, e.g.
   * `aws guardduty update-detector --detector-id <id> --features ...` or the organization configuration.
   */
  public static existing(detectorId: string): GuardDutyDetector {
    return new GuardDutyDetector(detectorId);
  }

  /** The detector to use, when it exists already; undefined when the construct creates one. */
  public readonly existingDetectorId?: string;

  private constructor(detectorId?: string) {
    this.existingDetectorId = detectorId;
  }
}

/** Props of `GuardDutyEksProtection`. */
export interface GuardDutyEksProtectionProps {
  /** Create the detector, or use the existing one. */
  readonly detector: GuardDutyDetector;
}

/**
 * Amazon GuardDuty EKS protection: audit-log monitoring (threats in the Kubernetes audit log) and
 * runtime monitoring (the GuardDuty agent on every node, installed and updated by GuardDuty).
 * Its findings are what the quarantine responder acts on.
 */
export class GuardDutyEksProtection extends Construct {
  /** The detector id: the created detector's, or the one given. */
  public readonly detectorId: string;
  /** The created detector, when this construct created it. */
  public readonly detector?: guardduty.CfnDetector;

  constructor(scope: Construct, id: string, props: GuardDutyEksProtectionProps) {
    super(scope, id);
    const existing = props.detector.existingDetectorId;
    if (existing !== undefined) {
      if (!/^[a-z0-9]{32}$/.test(existing)) {
        throw new Error(`GuardDutyEksProtection '${id}': detector id must be the 32 lowercase alphanumerics GuardDuty shows (got '${existing}'). `
          + 'Fix: copy it from `aws guardduty list-detectors`, or use GuardDutyDetector.create() in an account without one.');
      }
      this.detectorId = existing;
      Annotations.of(this).addInfo(`GuardDuty detector ${existing} is not managed by this stack: make sure EKS_AUDIT_LOGS and RUNTIME_MONITORING `
        + '(with EKS_ADDON_MANAGEMENT) are enabled on it; CloudFormation cannot change a detector it did not create.');
      return;
    }
    this.detector = new guardduty.CfnDetector(this, 'Detector', {
      enable: true,
      findingPublishingFrequency: 'FIFTEEN_MINUTES',
      features: [
        { name: 'EKS_AUDIT_LOGS', status: 'ENABLED' },
        { name: 'RUNTIME_MONITORING', status: 'ENABLED', additionalConfiguration: [{ name: 'EKS_ADDON_MANAGEMENT', status: 'ENABLED' }] },
      ],
    });
    this.detectorId = this.detector.ref;
  }
}
