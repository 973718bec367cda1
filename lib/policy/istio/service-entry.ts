import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { ExternalEndpointProtocol } from '../../model/external-endpoint';

/** Props of a `networking.istio.io/v1` ServiceEntry for an endpoint outside the mesh. */
export interface ServiceEntryProps {
  /** Name and namespace. */
  readonly metadata: ApiObjectMetadata;
  /** DNS names of the endpoint (for a TCP entry: the names of the entry only). */
  readonly hosts: string[];
  /** Its port. */
  readonly port: number;
  /**
   * How callers reach it: TLS (matched by SNI, resolved by DNS) or TCP (matched by destination
   * address; `addresses` is then required).
   * @default ExternalEndpointProtocol.TLS
   */
  readonly protocol?: ExternalEndpointProtocol;
  /**
   * The addresses (IPs or CIDRs) of a TCP entry: the sidecar recognizes the traffic by its
   * destination IP and forwards it to the address the client dialled (resolution NONE). Required
   * with TCP, where an entry without addresses would match every destination on the port.
   * @default - none (TLS)
   */
  readonly addresses?: string[];
  /**
   * Namespaces that may see the entry.
   * @default ['.'] - only its own namespace
   */
  readonly exportTo?: string[];
}

/**
 * A typed ServiceEntry (MESH_EXTERNAL), so that sidecars under REGISTRY_ONLY may reach the
 * endpoint: an external TLS endpoint resolved by DNS, or an opaque TCP endpoint at fixed
 * addresses (e.g. a link-local node agent).
 */
export class ServiceEntry extends ApiObject {
  constructor(scope: Construct, id: string, props: ServiceEntryProps) {
    const tcp = props.protocol === ExternalEndpointProtocol.TCP;
    if (tcp && (props.addresses === undefined || props.addresses.length === 0)) {
      throw new Error(`ServiceEntry '${props.metadata.name}': a TCP entry needs addresses (got ${JSON.stringify(props.addresses)}); `
        + 'without them Istio matches every destination on the port. Fix: pass the endpoint\'s IPs or CIDRs as addresses.');
    }
    if (!tcp && props.addresses !== undefined) {
      throw new Error(`ServiceEntry '${props.metadata.name}': addresses are only for a TCP entry (a TLS entry is matched by SNI and resolved by DNS). `
        + 'Fix: leave addresses out, or set protocol: ExternalEndpointProtocol.TCP.');
    }
    super(scope, id, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: props.metadata,
      spec: tcp
        ? {
          hosts: props.hosts,
          addresses: props.addresses,
          ports: [{ number: props.port, name: `tcp-${props.port}`, protocol: 'TCP' }],
          location: 'MESH_EXTERNAL',
          resolution: 'NONE',
          exportTo: props.exportTo ?? ['.'],
        }
        : {
          hosts: props.hosts,
          ports: [{ number: props.port, name: `tls-${props.port}`, protocol: 'TLS' }],
          location: 'MESH_EXTERNAL',
          resolution: 'DNS',
          exportTo: props.exportTo ?? ['.'],
        },
    });
  }
}
