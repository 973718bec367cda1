/**
 * Problems found in a manifest, their JSON paths, and the translation of ajv-style errors
 * (from kubernetes-models and from our CRD validators) into API-server-like messages.
 */

export type PathSegment = string | number;

export interface Problem {
  /** Path of the offending value from the object root, e.g. ['spec', 'ingress', 0, 'form']. */
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/** The fields of an ajv `ErrorObject` that we use (kubernetes-models throws the same shape). */
export interface AjvLikeError {
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
  readonly parentSchema?: unknown;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['spec', 'ingress', 0, 'form']` -> `spec.ingress[0].form`; odd keys are quoted: `metadata.labels["app/x"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Resolves a JSON pointer against `root`, so that array indices become numbers and map keys stay strings. */
export function pointerToPath(root: unknown, pointer: string): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(token);
      path.push(index);
      current = current[index];
    } else {
      path.push(token);
      current = isRecord(current) ? current[token] : undefined;
    }
  }
  return path;
}

export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isRecord(current) && typeof segment === 'string') current = current[segment];
    else return undefined;
  }
  return current;
}

export function describeValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An error raised inside a oneOf/anyOf alternative only explains why that alternative did not match. */
const ALTERNATIVE_BRANCH = /\/(?:oneOf|anyOf)\/\d+(?:\/|$)/;

/**
 * Converts ajv-style errors into problems. `root` is the validated data (used to resolve paths and show
 * offending values); `base` is prepended to every path (e.g. ['metadata'] when validating metadata alone).
 */
export function ajvErrorsToProblems(errors: readonly AjvLikeError[], root: unknown, base: readonly PathSegment[] = []): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const branchTypes = alternativeTypeErrors(errors);
  for (const [index, error] of errors.entries()) {
    if (ALTERNATIVE_BRANCH.test(error.schemaPath) || branchTypes.skipped.has(index)) continue;
    const at = pointerToPath(root, error.instancePath);
    const types = branchTypes.merged.get(index);
    const problem = types === undefined
      ? ajvErrorToProblem(error, root, at)
      : { path: at, message: `Invalid value: ${describeValue(valueAt(root, at))}: must be of type ${types.join(' or ')}` };
    const full: Problem = { path: [...base, ...problem.path], message: problem.message };
    const key = `${formatPath(full.path)}\u0000${full.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(full);
    }
  }
  return problems;
}

/**
 * Standalone validators (kubernetes-models) report schema paths relative to each sub-schema, so the branch errors
 * of e.g. IntOrString (`oneOf: [{type: string}, {type: integer}]`) cannot be recognised by their path. They are
 * the `type` errors at the same instancePath that immediately precede the failed oneOf/anyOf: merge them.
 */
function alternativeTypeErrors(errors: readonly AjvLikeError[]): { skipped: Set<number>; merged: Map<number, string[]> } {
  const skipped = new Set<number>();
  const merged = new Map<number, string[]>();
  errors.forEach((error, index) => {
    if ((error.keyword !== 'oneOf' && error.keyword !== 'anyOf') || ALTERNATIVE_BRANCH.test(error.schemaPath)) return;
    const types: string[] = [];
    for (let i = index - 1; i >= 0; i--) {
      const previous = errors[i];
      if (previous.keyword !== 'type' || previous.instancePath !== error.instancePath || !previous.schemaPath.startsWith('#/type')) break;
      skipped.add(i);
      types.unshift(formatType(previous.params.type));
    }
    if (types.length > 0) merged.set(index, types);
  });
  return { skipped, merged };
}

function ajvErrorToProblem(error: AjvLikeError, root: unknown, at: PathSegment[]): Problem {
  const data = valueAt(root, at);
  const params = error.params;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: [...at, String(params.additionalProperty)], message: `unknown field "${String(params.additionalProperty)}"` };
    case 'required':
      return { path: [...at, String(params.missingProperty)], message: 'Required value' };
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(describeValue).join(', ') : '?';
      return { path: at, message: `Unsupported value: ${describeValue(data)}: supported values: ${allowed}` };
    }
    case 'type':
      return { path: at, message: `Invalid value: ${describeValue(data)}: must be of type ${formatType(params.type)}` };
    case 'oneOf':
      return { path: at, message: describeOneOf(error) };
    case 'x-kubernetes-validations':
    case 'x-kubernetes-list-type':
      return { path: at, message: error.message ?? error.keyword };
    default:
      return { path: at, message: `Invalid value: ${describeValue(data)}: ${error.message ?? `failed "${error.keyword}"`}` };
  }
}

function formatType(type: unknown): string {
  return Array.isArray(type) ? type.join(' or ') : String(type);
}

/** Istio encodes "at most one of these fields" as oneOf alternatives that each require one field. */
function describeOneOf(error: AjvLikeError): string {
  const passing = error.params.passingSchemas;
  const alternatives = isRecord(error.parentSchema) && Array.isArray(error.parentSchema.oneOf) ? error.parentSchema.oneOf : [];
  if (Array.isArray(passing)) {
    const fields = passing.flatMap((index) => {
      const alternative: unknown = alternatives[Number(index)];
      return isRecord(alternative) && Array.isArray(alternative.required) ? alternative.required.map(String) : [];
    });
    if (fields.length === passing.length) return `Invalid value: fields ${fields.map((f) => `"${f}"`).join(', ')} are mutually exclusive (oneOf)`;
    return `Invalid value: must validate one and only one schema (oneOf), but alternatives ${passing.join(', ')} all match`;
  }
  return 'Invalid value: must validate one and only one schema (oneOf), but none matches';
}
