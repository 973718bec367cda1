/**
 * Whether the chart turns on Envoy access logs mesh-wide with an Istio `Telemetry` in the mesh
 * root namespace (controls.md OBS-05).
 */
export class MeshAccessLogging {
  /**
   * Every request, allowed or denied, through Istio's built-in `envoy` provider (the default). A
   * denial's log line carries `%RESPONSE_CODE_DETAILS%`, e.g.
   * `rbac_access_denied_matched_policy[ns[shop]-policy[payment]-rule[0]]` or `[none]` when the
   * allow-nothing default denied it.
   */
  public static readonly ALL_REQUESTS = new MeshAccessLogging('ALL_REQUESTS');
  /** No Telemetry object: access logs are configured elsewhere (a named weakening otherwise). */
  public static readonly NONE = new MeshAccessLogging('NONE');
  private constructor(public readonly mode: string) {}
}
