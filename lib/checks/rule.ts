/**
 * Description of one check that `ZeroTrustChecks` runs. Plain data: the table in `ZeroTrustChecks.RULES`.
 */
export interface ZeroTrustRule {
  /** Stable rule id, also the `ruleName` of each violation (e.g. `ZT-EKS-1`). Acknowledge as `ZeroTrustChecks::<ruleId>`. */
  readonly ruleId: string;
  /** The control(s) in docs/controls.md that the rule checks (e.g. `EKS-01`). */
  readonly controls: string[];
  /** What must hold, in one sentence. */
  readonly title: string;
  /** How to fix a violation. */
  readonly fix: string;
  /** Severity reported with each violation: `error` for controls whose severity is "must". */
  readonly severity: string;
}
