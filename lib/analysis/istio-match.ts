/**
 * Istio's string matching for AuthorizationPolicy fields
 * (istio.io/latest/docs/reference/config/security/authorization-policy/#Source):
 * exact, prefix `abc*`, suffix `*abc`, and `*` for any non-empty value.
 */
export function istioStringMatch(pattern: string, value: string | undefined): boolean {
  if (value === undefined) {
    return false;
  }
  if (pattern === '*') {
    return value.length > 0;
  }
  if (pattern.endsWith('*')) {
    return value.startsWith(pattern.slice(0, -1));
  }
  if (pattern.startsWith('*')) {
    return value.endsWith(pattern.slice(1));
  }
  return pattern === value;
}

/**
 * Path matching: the string rules above, plus path templates where `{*}` matches one segment and
 * a final `{**}` one or more (Operation.paths, Istio 1.22+).
 */
export function istioPathMatch(pattern: string, path: string | undefined): boolean {
  if (path === undefined) {
    return false;
  }
  if (!pattern.includes('{')) {
    return istioStringMatch(pattern, path);
  }
  const want = pattern.split('/');
  const got = path.split('/');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '{**}') {
      return got.length > i && got.slice(i).join('/').length > 0;
    }
    if (i >= got.length) {
      return false;
    }
    if (want[i] === '{*}' ? got[i].length === 0 : want[i] !== got[i]) {
      return false;
    }
  }
  return want.length === got.length;
}

/** A positive list matches when absent or when a pattern matches; a negative list must not match. */
export function listMatches(
  values: string[] | undefined, notValues: string[] | undefined, actual: string | undefined, match = istioStringMatch,
): boolean {
  if (values !== undefined && !values.some(v => match(v, actual ?? ''))) {
    return false;
  }
  if (notValues !== undefined && actual !== undefined && notValues.some(v => match(v, actual))) {
    return false;
  }
  return true;
}
