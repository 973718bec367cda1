import * as http from 'http';
import * as https from 'https';

/**
 * The few Kubernetes API calls the quarantine responder makes, and a client over node's
 * `http`/`https` (no dependencies, so the Lambda bundle is the compiled handler alone).
 * @internal
 */

/** The parts of a Pod the responder reads. */
export interface PodMeta {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly labels: Record<string, string>;
  readonly ownerReferences: OwnerReference[];
}

/** A label selector as Kubernetes workloads carry it (`spec.selector`). */
export interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** An owner reference (`metadata.ownerReferences[]`). */
export interface OwnerReference {
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
}

/** The parts of a workload (Deployment, ReplicaSet, ...) the responder reads. */
export interface WorkloadMeta {
  readonly uid: string;
  readonly selector: LabelSelector;
  /** The workload's resourceVersion (also its `/scale` subresource's): the precondition of a scale patch. */
  readonly resourceVersion?: string;
  /** `spec.replicas`, when the kind has it (not DaemonSet). */
  readonly replicas?: number;
  /** Its owners (a Deployment's ReplicaSet names the Deployment here). */
  readonly ownerReferences?: OwnerReference[];
}

/** Preconditions of a patch: the API server answers 409 when the live pod differs. */
export interface PatchPreconditions {
  readonly uid: string;
  readonly resourceVersion: string;
}

export type PatchOutcome = 'patched' | 'not-found' | 'conflict';

/** The Kubernetes API as the responder needs it. Errors (timeouts, 5xx, 401/403, 415) throw `KubeApiError`. */
export interface KubeApi {
  /** The pod, or undefined when it does not exist (404). */
  getPod(namespace: string, name: string): Promise<PodMeta | undefined>;
  /** The pods of a namespace matching a selector. */
  listPods(namespace: string, selector: LabelSelector): Promise<PodMeta[]>;
  /** A workload's UID and selector, or undefined when it does not exist (404). */
  getWorkload(kind: string, namespace: string, name: string): Promise<WorkloadMeta | undefined>;
  /** Applies a JSON merge patch (RFC 7386) to a pod, under preconditions. */
  patchPod(namespace: string, name: string, patch: object): Promise<PatchOutcome>;
  /** Applies a JSON merge patch to the `/scale` subresource of a Deployment or StatefulSet, under preconditions. */
  patchScale(kind: ScalableKind, namespace: string, name: string, patch: object): Promise<PatchOutcome>;
}

/** The kinds whose `/scale` subresource the responder may patch (its RBAC grants no other). */
export type ScalableKind = 'Deployment' | 'StatefulSet';

/** A failed call the platform should retry (the handler rethrows it). */
export class KubeApiError extends Error {
  constructor(message: string, public readonly status?: number) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** Options of `HttpKubeApi`. */
export interface HttpKubeApiOptions {
  /** The API server URL, e.g. the EKS cluster endpoint `https://XXXX.gr7.us-east-1.eks.amazonaws.com`. */
  readonly baseUrl: string;
  /**
   * Returns a bearer token. On EKS this is an EKS token: `k8s-aws-v1.` + base64url of a
   * presigned STS `GetCallerIdentity` URL carrying the `x-k8s-aws-id: <cluster name>` header (what
   * `aws eks get-token` prints); the Lambda role must have an EKS access entry. The function is
   * injected so the handler needs no AWS SDK and tests need no AWS.
   */
  readonly token: () => Promise<string>;
  /** The API server's CA bundle (PEM). On EKS: base64-decoded `certificateAuthority.data`. */
  readonly ca?: string;
  /** Bound on each call, after which it fails with a `KubeApiError`. Default 5000 ms. */
  readonly timeoutMs?: number;
}

const WORKLOAD_PATHS: Record<string, string> = {
  Deployment: 'apis/apps/v1/namespaces/{ns}/deployments/{name}',
  ReplicaSet: 'apis/apps/v1/namespaces/{ns}/replicasets/{name}',
  StatefulSet: 'apis/apps/v1/namespaces/{ns}/statefulsets/{name}',
  DaemonSet: 'apis/apps/v1/namespaces/{ns}/daemonsets/{name}',
  Job: 'apis/batch/v1/namespaces/{ns}/jobs/{name}',
};

const SCALE_PATHS: Record<ScalableKind, string> = {
  Deployment: 'apis/apps/v1/namespaces/{ns}/deployments/{name}/scale',
  StatefulSet: 'apis/apps/v1/namespaces/{ns}/statefulsets/{name}/scale',
};

/** A selector in the `labelSelector` query syntax. */
export function selectorString(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    switch (e.operator) {
      case 'In': parts.push(`${e.key} in (${values})`); break;
      case 'NotIn': parts.push(`${e.key} notin (${values})`); break;
      case 'Exists': parts.push(e.key); break;
      case 'DoesNotExist': parts.push(`!${e.key}`); break;
      default: throw new KubeApiError(`unknown selector operator '${e.operator}'`);
    }
  }
  return parts.join(',');
}

function podMeta(o: any): PodMeta {
  const m = o?.metadata ?? {};
  if (typeof m.name !== 'string' || typeof m.uid !== 'string') {
    throw new KubeApiError('API server returned a pod without metadata.name or metadata.uid');
  }
  return {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: String(m.resourceVersion ?? ''),
    labels: m.labels ?? {},
    ownerReferences: m.ownerReferences ?? [],
  };
}

/** `KubeApi` over HTTP(S) with a bearer token, a CA and a per-call bound. */
export class HttpKubeApi implements KubeApi {
  private readonly base: URL;
  private readonly timeoutMs: number;

  constructor(private readonly options: HttpKubeApiOptions) {
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  public async getPod(namespace: string, name: string): Promise<PodMeta | undefined> {
    const r = await this.call('GET', `api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`);
    return r.status === 404 ? undefined : podMeta(this.ok(r, 'get pod'));
  }

  public async listPods(namespace: string, selector: LabelSelector): Promise<PodMeta[]> {
    const q = new URLSearchParams({ labelSelector: selectorString(selector) });
    const r = await this.call('GET', `api/v1/namespaces/${enc(namespace)}/pods?${q}`);
    const body = this.ok(r, 'list pods');
    return (Array.isArray(body?.items) ? body.items : []).map((p: any) => podMeta({ ...p, metadata: { namespace, ...p?.metadata } }));
  }

  public async getWorkload(kind: string, namespace: string, name: string): Promise<WorkloadMeta | undefined> {
    const template = WORKLOAD_PATHS[kind];
    if (!template) {
      throw new KubeApiError(`no API path for workload kind '${kind}'`);
    }
    const r = await this.call('GET', template.replace('{ns}', enc(namespace)).replace('{name}', enc(name)));
    if (r.status === 404) {
      return undefined;
    }
    const body = this.ok(r, `get ${kind}`);
    const replicas = body?.spec?.replicas;
    return {
      uid: String(body?.metadata?.uid ?? ''),
      selector: body?.spec?.selector ?? {},
      resourceVersion: body?.metadata?.resourceVersion !== undefined ? String(body.metadata.resourceVersion) : undefined,
      replicas: typeof replicas === 'number' ? replicas : undefined,
      ownerReferences: Array.isArray(body?.metadata?.ownerReferences) ? body.metadata.ownerReferences : [],
    };
  }

  public async patchScale(kind: ScalableKind, namespace: string, name: string, patch: object): Promise<PatchOutcome> {
    const template = SCALE_PATHS[kind];
    if (!template) {
      throw new KubeApiError(`no /scale path for workload kind '${kind}'`);
    }
    const path = template.replace('{ns}', enc(namespace)).replace('{name}', enc(name));
    const r = await this.call('PATCH', path, JSON.stringify(patch), 'application/merge-patch+json');
    if (r.status === 404) {
      return 'not-found';
    }
    if (r.status === 409) {
      return 'conflict';
    }
    this.ok(r, `patch ${kind} scale`);
    return 'patched';
  }

  public async patchPod(namespace: string, name: string, patch: object): Promise<PatchOutcome> {
    const r = await this.call('PATCH', `api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`, JSON.stringify(patch), 'application/merge-patch+json');
    if (r.status === 404) {
      return 'not-found';
    }
    if (r.status === 409) {
      return 'conflict';
    }
    this.ok(r, 'patch pod');
    return 'patched';
  }

  private ok(r: { status: number; body: string }, what: string): any {
    if (r.status < 200 || r.status >= 300) {
      throw new KubeApiError(`${what}: HTTP ${r.status}: ${r.body.slice(0, 300)}`, r.status);
    }
    try {
      return JSON.parse(r.body);
    } catch {
      throw new KubeApiError(`${what}: response is not JSON`, r.status);
    }
  }

  private async call(method: string, path: string, body?: string, contentType?: string): Promise<{ status: number; body: string }> {
    const token = await this.options.token();
    const url = new URL(path, this.base);
    const transport = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${token}` };
    if (body !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers, ca: this.options.ca, agent: false }, res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', e => {
          clearTimeout(timer);
          reject(new KubeApiError(`${method} ${url.pathname}: ${e.message}`));
        });
      });
      // A hard bound on the whole call (connect, headers and body), not only socket idleness.
      const timer = setTimeout(() => req.destroy(new KubeApiError(`${method} ${url.pathname}: no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      req.on('error', e => {
        clearTimeout(timer);
        reject(e instanceof KubeApiError ? e : new KubeApiError(`${method} ${url.pathname}: ${e.message}`));
      });
      req.end(body);
    });
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
