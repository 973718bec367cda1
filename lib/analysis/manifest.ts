/**
 * The analyzer reads plain Kubernetes objects (ours, or any YAML a user points it at) and
 * re-derives their meaning on its own: it imports nothing from the renderers it checks
 * (design.md section 6).
 */

/** A Kubernetes object as parsed from YAML or JSON. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly spec?: unknown;
  readonly [key: string]: unknown;
}

/** `kind/namespace/name` of an object, for citing the policies that decided something. */
export function objectRef(o: KubeObject): string {
  return `${o.kind ?? '?'}/${o.metadata?.namespace ?? '-'}/${o.metadata?.name ?? '?'}`;
}

/** Reads a nested field without trusting the input's shape. */
export function field<T>(value: unknown, ...path: (string | number)[]): T | undefined {
  let cur: unknown = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') {
      return undefined;
    }
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur as T | undefined;
}

/** The array at a path, or [] when absent or not an array. */
export function list<T>(value: unknown, ...path: (string | number)[]): T[] {
  const v = field<unknown>(value, ...path);
  return Array.isArray(v) ? (v as T[]) : [];
}
