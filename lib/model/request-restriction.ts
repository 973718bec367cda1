import { AllowOptions } from './allow-options';
import { declarationError } from './errors';

/** The HTTP methods Istio can match (RFC 9110 section 9 and RFC 5789). */
export const HTTP_METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'] as const;

/** Request-level restriction of an allow: undefined fields mean "any". Lists are sorted and unique. */
export interface RequestRestriction {
  readonly methods?: readonly string[];
  readonly paths?: readonly string[];
}

/** A restriction's identity, for merging allows that restrict the same way. '' means unrestricted. */
export function restrictionKey(r: RequestRestriction | undefined): string {
  if (!r) {
    return '';
  }
  return `m=${(r.methods ?? ['*']).join(',')};p=${(r.paths ?? ['*']).join(',')}`;
}

/** Checks and normalizes methods and paths; undefined when the allow is unrestricted. */
export function normalizeRestriction(subject: string, options: AllowOptions): RequestRestriction | undefined {
  const methods = options.methods === undefined ? undefined : normalizeMethods(subject, options.methods);
  const paths = options.paths === undefined ? undefined : normalizePaths(subject, options.paths);
  if (methods === undefined && paths === undefined) {
    return undefined;
  }
  return { methods, paths };
}

function normalizeMethods(subject: string, methods: string[]): string[] {
  if (methods.length === 0) {
    throw declarationError(subject, 'methods', methods, 'must not be empty (an empty list would match nothing)', 'leave methods out to allow any method, or list some, e.g. [\'GET\']');
  }
  for (const method of methods) {
    if (!(HTTP_METHODS as readonly string[]).includes(method)) {
      const upper = typeof method === 'string' ? method.toUpperCase() : '';
      const fix = (HTTP_METHODS as readonly string[]).includes(upper)
        ? `write it in upper case: '${upper}'`
        : `use one of ${HTTP_METHODS.join(', ')}`;
      throw declarationError(subject, 'methods', method, 'is not an HTTP method', fix);
    }
  }
  return [...new Set(methods)].sort();
}

function normalizePaths(subject: string, paths: string[]): string[] {
  if (paths.length === 0) {
    throw declarationError(subject, 'paths', paths, 'must not be empty (an empty list would match nothing)', "leave paths out to allow any path, or list some, e.g. ['/charge']");
  }
  for (const path of paths) {
    const problem = pathProblem(path);
    if (problem) {
      throw declarationError(subject, 'paths', path, problem, "use an absolute path such as '/charge', a prefix such as '/api/*', or a template such as '/users/{*}/orders'");
    }
  }
  return [...new Set(paths)].sort();
}

/** Why a path cannot be matched as the user means it, or undefined when it can. */
function pathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    return "must be absolute (start with '/'); suffix matches like '*/x' are not supported because they match more than one path family";
  }
  if (/[\s?#%\\]/.test(path) || /[^\x21-\x7e]/.test(path)) {
    return 'must not contain whitespace, a query (?), a fragment (#), percent-encoding or backslashes: Istio matches the normalized path only';
  }
  if (path.includes('//') || /(^|\/)\.\.?(\/|$)/.test(path)) {
    return "must be normalized: with DECODE_AND_MERGE_SLASHES, '//', '/./' and '/../' never reach the policy";
  }
  const segments = path.split('/').slice(1);
  const hasTemplate = segments.some(s => s.includes('{') || s.includes('}'));
  const starCount = (path.match(/\*/g) ?? []).length;
  if (hasTemplate) {
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      if (s === '{**}' && i !== segments.length - 1) {
        return "uses '{**}' before the last segment: Istio allows it only at the end";
      }
      if ((s.includes('{') || s.includes('}') || s.includes('*')) && s !== '{*}' && s !== '{**}') {
        return "uses an unsupported wildcard: a template operator must be a whole segment, '{*}' or a final '{**}'";
      }
    }
    return undefined;
  }
  if (starCount > 1 || (starCount === 1 && !path.endsWith('*'))) {
    return "uses an unsupported wildcard: '*' is allowed only as the last character (prefix match)";
  }
  return undefined;
}
