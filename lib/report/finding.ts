/** How much a finding matters, as in controls.md: "must" blocks a release, "should" needs a recorded exception. */
export class FindingSeverity {
  public static readonly MUST = new FindingSeverity('must');
  public static readonly SHOULD = new FindingSeverity('should');
  private constructor(public readonly name: string) {}
}

/** One way a manifest set falls short of a control. */
export interface Finding {
  /** The control id in controls.md, e.g. 'NET-01'. */
  readonly control: string;
  /** 'must' or 'should'. */
  readonly severity: string;
  /** What it is about: a namespace, workload or policy. */
  readonly subject: string;
  /** What is wrong. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
}
