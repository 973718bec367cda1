import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';

/** Props of a `networking.istio.io/v1` ServiceEntry for a TLS endpoint outside the mesh. */
export interface ServiceEntryProps {
  /** Name and namespace. */
  readonly metadata: ApiObjectMetadata;
  /** DNS names of the endpoint. */
  readonly hosts: string[];
  /** Its TLS port. */
  readonly port: number;
  /**
   * Namespaces that may see the entry.
   * @default ['.'] - only its own namespace
   */
  readonly exportTo?: string[];
}

/**
 * A typed ServiceEntry: registers an external TLS endpoint (MESH_EXTERNAL, DNS resolution), so
 * that sidecars under REGISTRY_ONLY may reach it.
 */
export class ServiceEntry extends ApiObject {
  constructor(scope: Construct, id: string, props: ServiceEntryProps) {
    super(scope, id, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: props.metadata,
      spec: {
        hosts: props.hosts,
        ports: [{ number: props.port, name: `tls-${props.port}`, protocol: 'TLS' }],
        location: 'MESH_EXTERNAL',
        resolution: 'DNS',
        exportTo: props.exportTo ?? ['.'],
      },
    });
  }
}
