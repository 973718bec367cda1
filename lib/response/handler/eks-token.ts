// Bundled into the Lambda asset by esbuild (`npx projen bundle`); the library itself never loads this file.
// eslint-disable-next-line import/no-extraneous-dependencies
import { Sha256 } from '@aws-crypto/sha256-js';
// eslint-disable-next-line import/no-extraneous-dependencies
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * An EKS bearer token, built locally: what `aws eks get-token` prints. The token is `k8s-aws-v1.`
 * followed by the unpadded base64url of an STS `GetCallerIdentity` URL presigned with SigV4, whose
 * signed headers include `x-k8s-aws-id: <cluster name>`. The API server's authenticator calls STS
 * with that URL and maps the resulting IAM role through the cluster's access entries. No network
 * call is made here, so the Lambda needs no STS endpoint.
 * @internal
 */

/** Temporary credentials (the Lambda runtime puts the execution role's in the environment). */
export interface TokenCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface EksTokenOptions {
  readonly clusterName: string;
  /** The STS region (the cluster's): the regional endpoint `sts.<region>.amazonaws.com` is presigned. */
  readonly region: string;
  readonly credentials: () => Promise<TokenCredentials>;
  /**
   * Lifetime of the presigned URL, in seconds. The authenticator accepts a token for at most
   * 15 minutes after its signing time whatever this says; 60 s keeps a leaked token short-lived.
   * @default 60
   */
  readonly expiresInSeconds?: number;
  /** The clock. @default Date.now */
  readonly now?: () => number;
}

export const EKS_TOKEN_PREFIX = 'k8s-aws-v1.';
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';

/** Builds one token. */
export async function eksToken(options: EksTokenOptions): Promise<string> {
  const hostname = `sts.${options.region}.amazonaws.com`;
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'sts',
    sha256: Sha256,
  });
  const presigned = await signer.presign({
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, [CLUSTER_ID_HEADER]: options.clusterName },
  }, {
    expiresIn: options.expiresInSeconds ?? 60,
    signingDate: new Date((options.now ?? Date.now)()),
  });
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string').map(x => `${strict(k)}=${strict(x)}`))
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return EKS_TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/**
 * A token function for `HttpKubeApi`: a token is reused while it has at least half its lifetime
 * left, so a burst of calls signs once.
 */
export function eksTokenProvider(options: EksTokenOptions): () => Promise<string> {
  const now = options.now ?? Date.now;
  const reuseMs = (options.expiresInSeconds ?? 60) * 500;
  let cached: { token: string; at: number } | undefined;
  return async () => {
    const t = now();
    if (!cached || t - cached.at >= reuseMs) {
      cached = { token: await eksToken(options), at: t };
    }
    return cached.token;
  };
}

/** The execution role's credentials from the Lambda environment. */
export async function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<TokenCredentials> {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('no AWS credentials in the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)');
  }
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
}

/** RFC 3986 percent-encoding, as SigV4 canonicalizes the query. */
function strict(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
