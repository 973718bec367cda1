/**
 * What an admission guardrail does with a violation. Gatekeeper Constraints take the value as
 * `spec.enforcementAction`; ValidatingAdmissionPolicyBindings map it to `validationActions`.
 */
export class EnforcementAction {
  /** Reject the request (Gatekeeper `deny`; binding `[Deny]`). The default of every guardrail. */
  public static readonly DENY = new EnforcementAction('deny', ['Deny']);
  /** Admit the request with a warning to the client (Gatekeeper `warn`; binding `[Warn, Audit]`). */
  public static readonly WARN = new EnforcementAction('warn', ['Warn', 'Audit']);
  /** Admit the request and only record the violation in audit (Gatekeeper `dryrun`; binding `[Audit]`). */
  public static readonly DRYRUN = new EnforcementAction('dryrun', ['Audit']);

  private constructor(
    /** The Gatekeeper `enforcementAction` value. */
    public readonly value: string,
    /** The ValidatingAdmissionPolicyBinding `validationActions`. */
    public readonly validationActions: string[],
  ) {}
}
