import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';

/** Props of a `telemetry.istio.io/v1` Telemetry that turns on access logging. */
export interface AccessLogTelemetryProps {
  /** Name and namespace (the mesh root namespace makes it mesh-wide). */
  readonly metadata: ApiObjectMetadata;
  /**
   * The access-log providers, by name.
   * @default ['envoy'] - Istio's built-in provider: text to the proxy's stdout
   */
  readonly providers?: string[];
}

/**
 * A typed `telemetry.istio.io/v1` Telemetry with one access-logging rule and no filter, so every
 * request is logged, allowed or denied. Istio's default text format (1.8+) carries
 * `%RESPONSE_CODE_DETAILS%`, which names the deciding policy of a denial
 * (`rbac_access_denied_matched_policy[...]`).
 */
export class AccessLogTelemetry extends ApiObject {
  constructor(scope: Construct, id: string, props: AccessLogTelemetryProps) {
    super(scope, id, {
      apiVersion: 'telemetry.istio.io/v1',
      kind: 'Telemetry',
      metadata: props.metadata,
      spec: {
        accessLogging: [{ providers: (props.providers ?? ['envoy']).map(name => ({ name })) }],
      },
    });
  }
}
