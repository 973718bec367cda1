/**
 * What the chart does when its own output does not allow exactly what was declared. The check
 * runs the effective-access analyzer over the synthesized objects at every synthesis.
 */
export class SelfCheck {
  /** Fail the synthesis, listing every difference (the default). */
  public static readonly FAIL = new SelfCheck('FAIL');
  /**
   * Synthesize anyway and report the differences as warnings: a named weakening, for
   * investigating a problem. The findings are in `ZeroTrustPolicyChart.selfCheckFindings`.
   */
  public static readonly WARN = new SelfCheck('WARN');
  private constructor(public readonly mode: string) {}
}
