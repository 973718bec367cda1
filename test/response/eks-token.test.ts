import { decodeToken, expectedSignature, tokenIsValid } from './eks-token-verifier';
import { credentialsFromEnv, eksToken, eksTokenProvider } from '../../lib/response/handler/eks-token';

/** The EKS bearer token the responder builds locally, decoded and re-verified with an independent SigV4. */

const CREDS = { accessKeyId: 'ASIAEXAMPLEKEY123456', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE+/=' };
const NOW = Date.parse('2026-12-03T21:45:07Z');
const options = { clusterName: 'shop-cluster', region: 'eu-west-1', credentials: async () => CREDS, now: () => NOW };

describe('EKS token', () => {
  test('k8s-aws-v1. + unpadded base64url of a presigned STS GetCallerIdentity URL on the regional endpoint', async () => {
    const token = await eksToken(options);
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token.slice(11)).toMatch(/^[A-Za-z0-9_-]+$/);
    const { url, params } = decodeToken(token);
    expect(url.origin).toBe('https://sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(params).toEqual({
      'Action': 'GetCallerIdentity',
      'Version': '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'ASIAEXAMPLEKEY123456/20261203/eu-west-1/sts/aws4_request',
      'X-Amz-Date': '20261203T214507Z',
      'X-Amz-Expires': '60',
      'X-Amz-Security-Token': CREDS.sessionToken,
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  test('the signature covers the x-k8s-aws-id header: it verifies for this cluster and for no other', async () => {
    const token = await eksToken(options);
    const decoded = decodeToken(token);
    expect(decoded.params['X-Amz-Signature']).toBe(expectedSignature(decoded, CREDS.secretAccessKey, 'shop-cluster'));
    expect(decoded.params['X-Amz-Signature']).not.toBe(expectedSignature(decoded, CREDS.secretAccessKey, 'other-cluster'));
    expect(tokenIsValid(token, { secretAccessKey: CREDS.secretAccessKey, clusterName: 'shop-cluster', region: 'eu-west-1', now: NOW })).toBe(true);
    expect(tokenIsValid(token, { secretAccessKey: 'another-secret', clusterName: 'shop-cluster', region: 'eu-west-1', now: NOW })).toBe(false);
    expect(tokenIsValid(token, { secretAccessKey: CREDS.secretAccessKey, clusterName: 'shop-cluster', region: 'eu-west-1', now: NOW + 16 * 60_000 })).toBe(false);
  });

  test('a shorter expiry is carried in X-Amz-Expires', async () => {
    const { params } = decodeToken(await eksToken({ ...options, expiresInSeconds: 30 }));
    expect(params['X-Amz-Expires']).toBe('30');
  });

  test('the provider reuses a token for half its lifetime, then signs a new one', async () => {
    let now = NOW;
    let signed = 0;
    const provider = eksTokenProvider({ ...options, now: () => now, credentials: async () => { signed++; return CREDS; } });
    const first = await provider();
    now += 29_000;
    expect(await provider()).toBe(first);
    now += 2_000;
    const second = await provider();
    expect(second).not.toBe(first);
    expect(decodeToken(second).params['X-Amz-Date']).toBe('20261203T214538Z');
    expect(signed).toBe(2);
  });

  test('credentials come from the Lambda environment; none is an error', async () => {
    await expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c' }))
      .resolves.toEqual({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 'c' });
    await expect(credentialsFromEnv({})).rejects.toThrow(/no AWS credentials/);
  });
});
