/**
 * The application protocol of a service port. Istio never has to guess it: the rendered
 * Service names the port after it and sets `appProtocol`.
 */
export class ServiceProtocol {
  /** HTTP/1.1 or HTTP/2 (cleartext inside the mesh: the sidecars add mTLS). Methods and paths can be authorized. */
  public static readonly HTTP = new ServiceProtocol('http', true);

  /** gRPC. Paths (`/package.Service/Method`) can be authorized; gRPC always uses the POST method. */
  public static readonly GRPC = new ServiceProtocol('grpc', true);

  /** Opaque TCP. Only the port can be authorized: Istio cannot match methods or paths on it. */
  public static readonly TCP = new ServiceProtocol('tcp', false);

  /**
   * @param name the protocol's name, used as the Service port's name prefix and `appProtocol`
   * @param supportsRequestMatching whether Istio can match HTTP methods and paths on this protocol
   */
  private constructor(public readonly name: string, public readonly supportsRequestMatching: boolean) {}

  /** The `appProtocol` value of the rendered Service port. */
  public get appProtocol(): string {
    return this.name;
  }
}
