/**
 * Helpers that write CEL source. Expressions stay within portable CEL (no optional syntax, no
 * Kubernetes-only functions beyond the strings extension's `join`), so an offline evaluator means
 * what Gatekeeper and the API server do.
 */

/** A CEL string literal (JSON's escapes are a subset of CEL's). */
export function celString(value: string): string {
  return JSON.stringify(value);
}

/** A CEL list of string literals. */
export function celStringList(values: readonly string[]): string {
  return `[${values.map(celString).join(', ')}]`;
}

/** `<root>.metadata.labels[key]`-safe presence test of a label key on an object expression. */
export function hasLabel(objectExpr: string, key: string): string {
  return `has(${objectExpr}.metadata.labels) && ${celString(key)} in ${objectExpr}.metadata.labels`;
}

/**
 * `metadata.namespace` of a Gatekeeper object. `namespace` is a CEL reserved word: a field selection
 * `.namespace` does not compile on the API server's typed objects, so the key is indexed on the map.
 */
export const NAMESPACE_OF = (objectExpr: string) => `${objectExpr}.metadata['namespace']`;
export const HAS_NAMESPACE = (objectExpr: string) => `'namespace' in ${objectExpr}.metadata`;

/** The object Gatekeeper judges: the object, or the old object on DELETE. */
export const ANY = 'variables.anyObject';

/** `Kind namespace/name` of the judged object, for messages (generated names end with `*`). */
export const OBJECT_REF = `${ANY}.kind + ' ' + ('namespace' in ${ANY}.metadata ? ${ANY}.metadata['namespace'] + '/' : '')`
  + ` + (has(${ANY}.metadata.name) ? ${ANY}.metadata.name : (has(${ANY}.metadata.generateName) ? ${ANY}.metadata.generateName + '*' : '<unnamed>'))`;
