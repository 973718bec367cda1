/**
 * Validates Kubernetes objects the way `kubectl apply --validate=strict` (server-side field validation plus the
 * API server's own validation) would: unknown fields are rejected and values are checked.
 *
 * - Built-in kinds (any apiVersion/kind with a kubernetes-models model): see kubernetes-schema.ts.
 * - Custom resources of the CRDs in test/schemas (Istio, Gatekeeper ConstraintTemplate), including their CEL
 *   `x-kubernetes-validations` rules: see crd-schema.ts.
 * - Anything else is an error: an unknown apiVersion/kind is never accepted silently.
 *
 * Schemas and validators are prepared lazily on first use and cached for the life of the process.
 *
 * @example
 *   expectValidManifests(Testing.synth(chart));
 */
import { crdKindValidator } from './crd-schema';
import { builtinKindValidator, ObjectValidator } from './kubernetes-schema';
import { formatPath, isRecord, Problem } from './manifest-problem';

const validators = new Map<string, ObjectValidator | string>();

/**
 * Problems of one object, as messages `<Kind> <namespace>/<name>: <JSON path>: <problem>`; `[]` when valid.
 * The object is validated as the API server receives it, i.e. after JSON serialization.
 */
export function validateManifest(obj: Record<string, unknown>): string[] {
  const label = describeObject(obj);
  return objectProblems(obj).map((problem) => `${label}: ${formatPath(problem.path)}: ${problem.message}`);
}

/** Throws one Error listing every problem of every object (for use in jest tests). */
export function expectValidManifests(objs: readonly Record<string, unknown>[]): void {
  const messages: string[] = [];
  let invalid = 0;
  objs.forEach((obj, index) => {
    const problems = validateManifest(obj);
    if (problems.length > 0) invalid++;
    messages.push(...problems.map((message) => `[${index}] ${message}`));
  });
  if (messages.length > 0) {
    throw new Error(`${messages.length} schema problem(s) in ${invalid} of ${objs.length} manifest(s):\n${messages.map((m) => `  - ${m}`).join('\n')}`);
  }
}

function objectProblems(input: unknown): Problem[] {
  if (!isRecord(input)) return [{ path: [], message: 'Invalid value: a manifest must be a JSON object' }];
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(JSON.stringify(input)) as Record<string, unknown>; // what kubectl would send
  } catch (error) {
    return [{ path: [], message: `Invalid value: not serializable to JSON: ${error instanceof Error ? error.message : String(error)}` }];
  }
  const { apiVersion, kind } = obj;
  const problems: Problem[] = [];
  if (typeof apiVersion !== 'string' || apiVersion === '') problems.push({ path: ['apiVersion'], message: 'Required value: must be a non-empty string' });
  if (typeof kind !== 'string' || kind === '') problems.push({ path: ['kind'], message: 'Required value: must be a non-empty string' });
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || problems.length > 0) return problems;

  const validator = validatorFor(apiVersion, kind);
  if (typeof validator === 'string') return [{ path: [], message: validator }];
  return validator(obj);
}

function validatorFor(apiVersion: string, kind: string): ObjectValidator | string {
  const key = `${apiVersion}\u0000${kind}`;
  let validator = validators.get(key);
  if (validator === undefined) {
    validator = resolveValidator(apiVersion, kind);
    validators.set(key, validator);
  }
  return validator;
}

function resolveValidator(apiVersion: string, kind: string): ObjectValidator | string {
  const builtin = builtinKindValidator(apiVersion, kind);
  if (typeof builtin === 'string') return `unknown apiVersion/kind "${apiVersion}, Kind=${kind}": ${builtin}`;
  if (builtin !== undefined) return builtin;
  const custom = crdKindValidator(apiVersion, kind);
  if (custom === undefined) {
    return `unknown apiVersion/kind "${apiVersion}, Kind=${kind}": neither a Kubernetes built-in kind (kubernetes-models) nor a kind of the CRDs in test/schemas`;
  }
  return 'error' in custom ? `unknown apiVersion/kind "${apiVersion}, Kind=${kind}": ${custom.error}` : custom.validator;
}

function describeObject(obj: unknown): string {
  if (!isRecord(obj)) return '<not an object>';
  const kind = typeof obj.kind === 'string' ? obj.kind : '<no kind>';
  const metadata = isRecord(obj.metadata) ? obj.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : typeof metadata.generateName === 'string' ? `${metadata.generateName}*` : '<no name>';
  return typeof metadata.namespace === 'string' && metadata.namespace !== '' ? `${kind} ${metadata.namespace}/${name}` : `${kind} ${name}`;
}
