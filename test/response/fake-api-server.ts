import * as http from 'http';
import { AddressInfo } from 'net';

/**
 * A loopback HTTP server that answers the few Kubernetes API calls the quarantine responder makes
 * the way kube-apiserver does: GET/list pods (with labelSelector), GET workloads, PATCH pods with
 * `application/merge-patch+json` only (415 otherwise), RFC 7386 merge semantics, `metadata.uid` and
 * `metadata.resourceVersion` in the patch as preconditions (409 on mismatch), 404 with a Status
 * body for missing objects, 401 without the expected bearer token. It can be told to hang.
 *
 * The `/scale` subresource (autoscaling/v1 `Scale`) of Deployments, ReplicaSets and StatefulSets,
 * the kinds kube-apiserver serves it for (DaemonSets and Jobs have none: 404): GET, and PATCH with
 * the same content type, uid and resourceVersion preconditions (the Scale's metadata is its
 * workload's), 422 for replicas that are not a non-negative integer, 405 for other verbs.
 */

export interface FakePod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec?: unknown;
}

export interface FakeWorkload {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec: {
    selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
    replicas?: number;
  };
}

/** Kinds whose `/scale` subresource kube-apiserver serves (of those the responder reads). */
const SCALABLE = new Set(['Deployment', 'ReplicaSet', 'StatefulSet']);

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body?: unknown;
  readonly status: number;
}

const RESOURCES: Record<string, string> = {
  'apps/v1/deployments': 'Deployment',
  'apps/v1/replicasets': 'ReplicaSet',
  'apps/v1/statefulsets': 'StatefulSet',
  'apps/v1/daemonsets': 'DaemonSet',
  'batch/v1/jobs': 'Job',
};

/** RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    return patch;
  }
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target as object } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete out[k];
    } else {
      out[k] = mergePatch(out[k], v);
    }
  }
  return out;
}

/** Whether labels match a selector string in the `labelSelector` query syntax. */
export function matchesSelector(labels: Record<string, string>, selector: string): boolean {
  const terms = selector.split(/,(?![^(]*\))/).map(t => t.trim()).filter(t => t);
  return terms.every(t => {
    let m = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(t);
    if (m) {
      const values = m[3].split(',').map(v => v.trim());
      return m[2] === 'in' ? values.includes(labels[m[1]]) : !values.includes(labels[m[1]]);
    }
    m = /^(!?)([^=!]+)$/.exec(t);
    if (m) {
      return (m[1] === '!') !== (m[2] in labels);
    }
    m = /^([^=!]+)(==|=|!=)(.*)$/.exec(t);
    if (m) {
      return m[2] === '!=' ? labels[m[1]] !== m[3] : labels[m[1]] === m[3];
    }
    throw new Error(`fake API server: cannot parse selector term '${t}'`);
  });
}

export class FakeApiServer {
  /** `token` is the one bearer token accepted, or a check of each token (an EKS authenticator, say). */
  public static async start(token: string | ((bearer: string) => boolean) = 'test-token'): Promise<FakeApiServer> {
    const s = new FakeApiServer(token);
    await new Promise<void>(resolve => s.server.listen(0, '127.0.0.1', resolve));
    return s;
  }

  public readonly pods = new Map<string, FakePod>();
  public readonly workloads = new Map<string, FakeWorkload>();
  public readonly requests: SeenRequest[] = [];
  /** When true, requests are read and never answered. */
  public hang = false;
  /** Runs before a PATCH is applied: simulate a concurrent change (another writer, a replaced pod). */
  public beforePatch?: (namespace: string, name: string) => void;
  /** Runs before a PATCH of a `/scale` subresource is applied (kind, namespace, name). */
  public beforeScalePatch?: (kind: string, namespace: string, name: string) => void;
  private readonly server: http.Server;
  private version = 100;

  private constructor(private readonly token: string | ((bearer: string) => boolean)) {
    this.server = http.createServer((req, res) => this.serve(req, res));
  }

  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** PATCHes of pods. */
  public get patches(): SeenRequest[] {
    return this.requests.filter(r => r.method === 'PATCH' && !r.path.endsWith('/scale'));
  }

  /** PATCHes of `/scale` subresources. */
  public get scalePatches(): SeenRequest[] {
    return this.requests.filter(r => r.method === 'PATCH' && r.path.endsWith('/scale'));
  }

  public addPod(
    namespace: string, name: string, uid: string, labels: Record<string, string>, owner?: { kind: string; name: string; uid: string },
  ): FakePod {
    const pod: FakePod = {
      metadata: {
        name,
        namespace,
        uid,
        resourceVersion: String(++this.version),
        labels: { ...labels },
        ownerReferences: owner ? [{ apiVersion: owner.kind === 'Job' ? 'batch/v1' : 'apps/v1', ...owner, controller: true }] : undefined,
      },
      spec: { containers: [{ name: 'app', image: 'example' }] },
    };
    this.pods.set(`${namespace}/${name}`, pod);
    return pod;
  }

  public addWorkload(
    kind: string, namespace: string, name: string, uid: string, selector: FakeWorkload['spec']['selector'],
    options: { replicas?: number; owner?: { kind: string; name: string; uid: string } } = {},
  ): FakeWorkload {
    const w: FakeWorkload = {
      metadata: {
        name,
        namespace,
        uid,
        resourceVersion: String(++this.version),
        ownerReferences: options.owner ? [{ apiVersion: 'apps/v1', ...options.owner, controller: true }] : undefined,
      },
      // DaemonSets have no replicas; the other kinds default to 1, as the API server defaults them.
      spec: { selector, replicas: kind === 'DaemonSet' ? undefined : options.replicas ?? 1 },
    };
    this.workloads.set(`${kind}/${namespace}/${name}`, w);
    return w;
  }

  /** A workload's live object. */
  public workload(kind: string, namespace: string, name: string): FakeWorkload | undefined {
    return this.workloads.get(`${kind}/${namespace}/${name}`);
  }

  /** Another writer changed the workload: its resourceVersion moves on. */
  public touchWorkload(kind: string, namespace: string, name: string): void {
    this.workload(kind, namespace, name)!.metadata.resourceVersion = String(++this.version);
  }

  /** Another writer changed the pod: its resourceVersion moves on. */
  public touch(namespace: string, name: string): void {
    const pod = this.pods.get(`${namespace}/${name}`)!;
    pod.metadata.resourceVersion = String(++this.version);
  }

  public async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (this.hang) {
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://x');
      const contentType = req.headers['content-type'];
      const reply = (code: number, body: unknown) => {
        let parsed: unknown = raw;
        try {
          parsed = raw ? JSON.parse(raw) : undefined;
        } catch { /* keep raw */ }
        this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, contentType, body: parsed, status: code });
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (bearer === undefined || (typeof this.token === 'string' ? bearer !== this.token : !this.token(bearer))) {
        return reply(401, status(401, 'Unauthorized', 'Unauthorized'));
      }
      this.route(req.method ?? '', url, contentType, raw, reply);
    });
  }

  private route(method: string, url: URL, contentType: string | undefined, raw: string, reply: (status: number, body: unknown) => void): void {
    let m = /^\/api\/v1\/namespaces\/([^/]+)\/pods(?:\/([^/]+))?$/.exec(url.pathname);
    if (m) {
      const [namespace, name] = [decodeURIComponent(m[1]), m[2] && decodeURIComponent(m[2])];
      if (!name && method === 'GET') {
        const selector = url.searchParams.get('labelSelector') ?? '';
        const items = [...this.pods.values()].filter(p => p.metadata.namespace === namespace && matchesSelector(p.metadata.labels, selector));
        return reply(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.version) }, items });
      }
      const key = `${namespace}/${name}`;
      if (method === 'GET') {
        const pod = this.pods.get(key);
        return pod ? reply(200, { kind: 'Pod', apiVersion: 'v1', ...pod }) : reply(404, status(404, 'NotFound', `pods "${name}" not found`));
      }
      if (method === 'PATCH') {
        return this.patch(namespace, name!, contentType, raw, reply);
      }
      return reply(405, status(405, 'MethodNotAllowed', method));
    }
    m = /^\/apis\/(apps\/v1|batch\/v1)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)\/scale$/.exec(url.pathname);
    const scaleKind = m ? RESOURCES[`${m[1]}/${m[3]}`] : undefined;
    if (m && scaleKind && SCALABLE.has(scaleKind)) {
      return this.scale(method, scaleKind, m[3], decodeURIComponent(m[2]), decodeURIComponent(m[4]), contentType, raw, reply);
    }
    m = /^\/apis\/(apps\/v1|batch\/v1)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const kind = m ? RESOURCES[`${m[1]}/${m[3]}`] : undefined;
    if (m && kind && method === 'GET') {
      const w = this.workloads.get(`${kind}/${m[2]}/${m[4]}`);
      return w ? reply(200, { kind, apiVersion: m[1], ...w }) : reply(404, status(404, 'NotFound', `${m[3]} "${m[4]}" not found`));
    }
    return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
  }

  private patch(namespace: string, name: string, contentType: string | undefined, raw: string, reply: (status: number, body: unknown) => void): void {
    if ((contentType ?? '').split(';')[0].trim() !== 'application/merge-patch+json') {
      return reply(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${contentType})`));
    }
    let patch: { metadata?: { uid?: string; resourceVersion?: string } };
    try {
      patch = JSON.parse(raw);
    } catch {
      return reply(400, status(400, 'BadRequest', 'invalid JSON'));
    }
    this.beforePatch?.(namespace, name);
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    if (!pod) {
      return reply(404, status(404, 'NotFound', `pods "${name}" not found`));
    }
    if (patch.metadata?.uid !== undefined && patch.metadata.uid !== pod.metadata.uid) {
      return reply(409, status(409, 'Conflict', `Precondition failed: UID in precondition: ${patch.metadata.uid}, UID in object meta: ${pod.metadata.uid}`));
    }
    if (patch.metadata?.resourceVersion !== undefined && patch.metadata.resourceVersion !== pod.metadata.resourceVersion) {
      return reply(409, status(409, 'Conflict', `Operation cannot be fulfilled on pods "${name}": the object has been modified; please apply your changes to the latest version and try again`));
    }
    const merged = mergePatch(pod, patch) as FakePod;
    merged.metadata.resourceVersion = String(++this.version);
    this.pods.set(key, merged);
    reply(200, { kind: 'Pod', apiVersion: 'v1', ...merged });
  }

  private scale(
    method: string, kind: string, resource: string, namespace: string, name: string,
    contentType: string | undefined, raw: string, reply: (status: number, body: unknown) => void,
  ): void {
    const key = `${kind}/${namespace}/${name}`;
    const notFound = () => reply(404, status(404, 'NotFound', `${resource}.apps "${name}" not found`));
    if (method === 'GET') {
      const w = this.workloads.get(key);
      return w ? reply(200, scaleObject(w)) : notFound();
    }
    if (method !== 'PATCH') {
      return reply(405, status(405, 'MethodNotAllowed', method));
    }
    if ((contentType ?? '').split(';')[0].trim() !== 'application/merge-patch+json') {
      return reply(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`));
    }
    let patch: { metadata?: { uid?: string; resourceVersion?: string }; spec?: { replicas?: unknown } };
    try {
      patch = JSON.parse(raw);
    } catch {
      return reply(400, status(400, 'BadRequest', 'invalid JSON'));
    }
    this.beforeScalePatch?.(kind, namespace, name);
    const w = this.workloads.get(key);
    if (!w) {
      return notFound();
    }
    if (patch.metadata?.uid !== undefined && patch.metadata.uid !== w.metadata.uid) {
      return reply(409, status(409, 'Conflict', `Precondition failed: UID in precondition: ${patch.metadata.uid}, UID in object meta: ${w.metadata.uid}`));
    }
    if (patch.metadata?.resourceVersion !== undefined && patch.metadata.resourceVersion !== w.metadata.resourceVersion) {
      return reply(409, status(409, 'Conflict', `Operation cannot be fulfilled on ${resource}.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`));
    }
    const replicas = patch.spec?.replicas;
    if (replicas !== undefined && !(typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 0)) {
      return reply(422, status(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`));
    }
    if (replicas !== undefined && replicas !== w.spec.replicas) {
      w.spec.replicas = replicas;
      w.metadata.resourceVersion = String(++this.version);
    }
    reply(200, scaleObject(w));
  }
}

function scaleObject(w: FakeWorkload) {
  const selector = Object.entries(w.spec.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const { name, namespace, uid, resourceVersion } = w.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion },
    spec: { replicas: w.spec.replicas },
    status: { replicas: w.spec.replicas, selector },
  };
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
