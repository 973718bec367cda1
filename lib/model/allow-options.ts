/** What `allowFrom` opens. Every field narrows; leaving one out means "all of the callee's". */
export interface AllowOptions {
  /**
   * Target (container) ports of the callee to open. Each must be a port the callee exposes.
   * @default - every port of the callee
   */
  readonly ports?: number[];
  /**
   * HTTP methods to allow, e.g. ['GET', 'POST']. Only on HTTP and gRPC ports.
   * @default - any method
   */
  readonly methods?: string[];
  /**
   * Request paths to allow, matched by Istio after path normalization: an exact path
   * ('/charge'), a prefix ending in '*' ('/api/*'), or a path template with whole-segment
   * '{*}' and a trailing '{**}' ('/users/{*}/orders', '/static/{**}'). Only on HTTP and gRPC ports.
   * @default - any path
   */
  readonly paths?: string[];
}
