/* eslint-disable no-bitwise */ // address and hash arithmetic
/** A Kubernetes object as rendered by cdk8s. */
export interface ManifestObject {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly [key: string]: unknown;
}

/** The limit of one manifest resource, below CloudFormation's 256 KB property value limit with room for tokens. */
export const MAX_MANIFEST_BYTES = 200_000;

/**
 * Assigns objects to manifest resources by a key that does not shift when services are added:
 * the object's namespace (cluster-scoped objects go with the namespace they name), so adding a
 * service changes only its namespace's resource. A namespace whose objects exceed the size limit
 * is split by a stable hash of each object's name into 2^k buckets, the smallest k that fits;
 * crossing that limit re-keys the namespace's objects, which is safe only because the cluster
 * retains removed manifest resources (their objects are never deleted by the move).
 */
export function groupManifests(objects: readonly ManifestObject[], maxBytes = MAX_MANIFEST_BYTES): Map<string, ManifestObject[]> {
  const byNamespace = new Map<string, ManifestObject[]>();
  for (const o of objects) {
    const ns = o.metadata?.namespace ?? (o.kind === 'Namespace' ? o.metadata?.name : undefined) ?? 'cluster';
    const list = byNamespace.get(ns);
    if (list) {
      list.push(o);
    } else {
      byNamespace.set(ns, [o]);
    }
  }
  const out = new Map<string, ManifestObject[]>();
  for (const [ns, list] of [...byNamespace].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (bytes(list) <= maxBytes) {
      out.set(ns, list);
      continue;
    }
    for (let k = 1; k <= 12; k++) {
      const buckets = new Map<number, ManifestObject[]>();
      for (const o of list) {
        // The Namespace object stays in bucket 0, applied first.
        const b = o.kind === 'Namespace' ? 0 : hash(`${o.kind}/${o.metadata?.name}`) % 2 ** k;
        buckets.set(b, [...(buckets.get(b) ?? []), o]);
      }
      if ([...buckets.values()].every(b => bytes(b) <= maxBytes) || k === 12) {
        for (const [b, objs] of [...buckets].sort(([x], [y]) => x - y)) {
          out.set(`${ns}-${k}-${b}`, objs);
        }
        break;
      }
    }
  }
  return out;
}

/** The bytes of objects as a JSON manifest. */
export function manifestBytes(objects: readonly ManifestObject[]): number {
  return Buffer.byteLength(JSON.stringify(objects));
}

const bytes = manifestBytes;

/** A stable bucket in [0, buckets) for a key. */
export function stableBucket(key: string, buckets: number): number {
  return hash(key) % buckets;
}

/** FNV-1a: stable across runs and machines. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
