import { declarationError } from './errors';
import { ServiceProtocol } from './service-protocol';
import { checkPort } from './validation';

/**
 * Ports the Istio sidecar listens on inside every meshed pod (istio.io/latest/docs/ops/deployment/requirements/,
 * "Ports used by Istio"): Envoy admin, outbound, debug, inbound, HBONE, merged and Envoy metrics, health, DNS.
 */
const SIDECAR_PORTS: readonly number[] = [15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090];

/** Options of a service port. */
export interface ServicePortOptions {
  /**
   * The container port the traffic is delivered to. Policies are written on this port
   * (design.md 3.5). VPC CNI matches ClusterIP traffic of pods outside the mesh only when the
   * Service port equals the container port, so prefer leaving this unset.
   *
   * @default - the same as the service port
   */
  readonly targetPort?: number;
}

/** A port that a service exposes: `ServicePort.http(8080)`, `ServicePort.grpc(9090)`, `ServicePort.tcp(5432)`. */
export class ServicePort {
  /** An HTTP port. */
  public static http(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(ServiceProtocol.HTTP, port, options.targetPort ?? port);
  }

  /** A gRPC port. */
  public static grpc(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(ServiceProtocol.GRPC, port, options.targetPort ?? port);
  }

  /** An opaque TCP port. */
  public static tcp(port: number, options: ServicePortOptions = {}): ServicePort {
    return new ServicePort(ServiceProtocol.TCP, port, options.targetPort ?? port);
  }

  private constructor(
    /** The application protocol. */
    public readonly protocol: ServiceProtocol,
    /** The port of the Kubernetes Service. */
    public readonly port: number,
    /** The container port behind it; every policy names this port. */
    public readonly targetPort: number,
  ) {}

  /** The Service port's name: the protocol then the port, e.g. `http-8080`. */
  public get name(): string {
    return `${this.protocol.name}-${this.port}`;
  }

  /**
   * Checks the port numbers.
   * @internal
   */
  public _validate(subject: string): void {
    checkPort(subject, 'ports: port', this.port);
    checkPort(subject, `ports: targetPort of port ${this.port}`, this.targetPort);
    if (SIDECAR_PORTS.includes(this.targetPort)) {
      throw declarationError(subject, `ports: targetPort of port ${this.port}`, this.targetPort,
        `is a port the Istio sidecar uses in every pod (${SIDECAR_PORTS.join(', ')}), so the application cannot listen on it`,
        'listen on another container port, e.g. 8080');
    }
  }
}
