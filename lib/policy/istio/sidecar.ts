import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';

/** Props of a namespace-wide `networking.istio.io/v1` Sidecar. */
export interface SidecarProps {
  /** Name and namespace. */
  readonly metadata: ApiObjectMetadata;
  /**
   * Hosts the namespace's sidecars may reach, as `<namespace>/<dns name>` or `<namespace>/*`.
   * Everything else is left out of their configuration.
   */
  readonly egressHosts: string[];
}

/** A typed namespace-wide `networking.istio.io/v1` Sidecar that scopes egress to listed hosts. */
export class Sidecar extends ApiObject {
  constructor(scope: Construct, id: string, props: SidecarProps) {
    super(scope, id, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Sidecar',
      metadata: props.metadata,
      spec: {
        egress: [{ hosts: props.egressHosts }],
        // Anything not in the registry is unreachable even where the mesh config is permissive.
        outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
      },
    });
  }
}
