import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { WorkloadSelector } from './workload-selector';

/** `PeerAuthentication.spec.mtls.mode`. */
export class MutualTlsMode {
  /** Only mutual TLS is accepted. */
  public static readonly STRICT = new MutualTlsMode('STRICT');
  /** Plaintext is accepted too: a weakening, never a default of this library. */
  public static readonly PERMISSIVE = new MutualTlsMode('PERMISSIVE');
  private constructor(public readonly value: string) {}
}

/** Props of a `security.istio.io/v1` PeerAuthentication. */
export interface PeerAuthenticationProps {
  /** Name and namespace. */
  readonly metadata: ApiObjectMetadata;
  /** The mTLS mode. */
  readonly mode: MutualTlsMode;
  /**
   * The workloads it applies to.
   * @default - every workload in the namespace (mesh-wide in the root namespace)
   */
  readonly selector?: WorkloadSelector;
}

/** A typed `security.istio.io/v1` PeerAuthentication. */
export class PeerAuthentication extends ApiObject {
  constructor(scope: Construct, id: string, props: PeerAuthenticationProps) {
    super(scope, id, {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: props.metadata,
      spec: {
        ...(props.selector ? { selector: { matchLabels: props.selector.matchLabels } } : {}),
        mtls: { mode: props.mode.value },
      },
    });
  }
}
