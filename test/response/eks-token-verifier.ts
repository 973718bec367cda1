import * as crypto from 'crypto';

/**
 * What the EKS authenticator checks in a bearer token before it forwards the URL to STS, plus the
 * SigV4 query signature itself, recomputed here with node's crypto (independently of the signer
 * the handler uses), given the secret key the test handed the handler.
 */

export interface DecodedToken {
  readonly url: URL;
  readonly params: Record<string, string>;
}

export function decodeToken(token: string): DecodedToken {
  if (!token.startsWith('k8s-aws-v1.')) {
    throw new Error(`token does not start with k8s-aws-v1.: ${token.slice(0, 20)}`);
  }
  const body = token.slice('k8s-aws-v1.'.length);
  if (/[+/=]/.test(body)) {
    throw new Error('token body is not unpadded base64url');
  }
  const url = new URL(Buffer.from(body, 'base64url').toString('utf8'));
  const params: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    params[k] = v;
  }
  return { url, params };
}

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: crypto.BinaryLike, data: string) => crypto.createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: string) => crypto.createHash('sha256').update(data, 'utf8').digest('hex');

/** The signature a presigned GET with headers host and x-k8s-aws-id must carry. */
export function expectedSignature(decoded: DecodedToken, secretAccessKey: string, clusterName: string): string {
  const { url, params } = decoded;
  const query = Object.keys(params).filter(k => k !== 'X-Amz-Signature').sort()
    .map(k => `${enc(k)}=${enc(params[k])}`).join('&');
  const canonical = ['GET', '/', query, `host:${url.host}`, `x-k8s-aws-id:${clusterName}`, '', 'host;x-k8s-aws-id', sha256('')].join('\n');
  const [, date, region, service] = params['X-Amz-Credential'].split('/');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', params['X-Amz-Date'], scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex');
}

/** A token check as the authenticator would make it (format, action, cluster header, freshness) plus the signature. */
export function tokenIsValid(token: string, opts: { secretAccessKey: string; clusterName: string; region: string; now: number }): boolean {
  try {
    const d = decodeToken(token);
    const p = d.params;
    const signedAt = Date.parse(p['X-Amz-Date'].replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    return d.url.protocol === 'https:'
      && d.url.host === `sts.${opts.region}.amazonaws.com`
      && p.Action === 'GetCallerIdentity'
      && p['X-Amz-SignedHeaders'] === 'host;x-k8s-aws-id'
      && opts.now - signedAt < 15 * 60_000
      && p['X-Amz-Signature'] === expectedSignature(d, opts.secretAccessKey, opts.clusterName);
  } catch {
    return false;
  }
}
