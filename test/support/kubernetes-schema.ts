/**
 * Validation of Kubernetes built-in kinds (any apiVersion/kind that `kubernetes-models` ships a model for):
 *
 * - values: the kind's `kubernetes-models` class (`new Model(obj).validate()`, ajv compiled from the upstream
 *   OpenAPI schema: types, enums, required fields);
 * - unknown fields, which kubernetes-models lets through: a walk of the object along the
 *   `@kubernetes/client-node` attribute type maps (see client-node-models.ts);
 * - metadata string rules (object-meta.ts).
 */
import { existsSync } from 'fs';
import { createRequire } from 'module';
import { dirname, join } from 'path';
import { clientNodeModels, ClientNodeModels, TypeRef } from './client-node-models';
import { AjvLikeError, ajvErrorsToProblems, isRecord, PathSegment, Problem } from './manifest-problem';
import { objectMetaValueProblems } from './object-meta';

export type ObjectValidator = (obj: Record<string, unknown>) => Problem[];

interface ModelInstance {
  validate(): void;
}

interface ModelClass {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  new (data: Record<string, unknown>): ModelInstance;
}

const GROUP = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VERSION = /^v[0-9]+((alpha|beta)[0-9]+)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/** kubernetes-models are loaded by computed path (`<group>/<version>/<Kind>`), hence a require function. */
const loadModule = createRequire(__filename);

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * A validator for a built-in kind; a string explaining why this built-in apiVersion/kind is not acceptable; or
 * undefined when kubernetes-models has no top-level model for it (then the caller tries the CRDs).
 */
export function builtinKindValidator(apiVersion: string, kind: string): ObjectValidator | string | undefined {
  const { group, version } = splitApiVersion(apiVersion);
  if ((group !== '' && !GROUP.test(group)) || !VERSION.test(version) || !KIND.test(kind)) return undefined;
  const model = loadKubernetesModel(group === '' ? version : `${group}/${version}`, kind);
  // kubernetes-models also ships nested types (v1/Affinity...): only classes of top-level kinds carry apiVersion/kind.
  if (model === undefined || model.apiVersion !== apiVersion || model.kind !== kind) return undefined;

  const models = clientNodeModels();
  const clientModel = models.findKind(group, version, kind);
  if (clientModel === undefined) {
    // kubernetes-models still ships API versions that Kubernetes removed (extensions/v1beta1, policy/v1beta1...).
    return `${apiVersion} ${kind} is not part of the current Kubernetes API (no @kubernetes/client-node model): it was removed or is not served`;
  }
  const root: TypeRef = { kind: 'model', name: clientModel };
  return (obj) => [
    ...modelValueProblems(model, obj, []),
    ...unknownFieldProblems(models, root, obj),
    ...objectMetaValueProblems(group, kind, obj.metadata),
  ];
}

let objectMetaModel: ModelClass | undefined;

/** Field names, types and string rules of `metadata`, for custom resources (paths relative to the object root). */
export function customResourceMetadataProblems(group: string, kind: string, metadata: unknown): Problem[] {
  if (objectMetaModel === undefined) {
    // The ObjectMeta model that kubernetes-models itself uses, resolved from its own dependencies.
    const fromKubernetesModels = createRequire(join(kubernetesModelsRoot(), 'index.js'));
    const module: unknown = fromKubernetesModels('@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta');
    objectMetaModel = modelClassOf(module, 'ObjectMeta');
    if (objectMetaModel === undefined) throw new Error('Could not load the kubernetes-models ObjectMeta model');
  }
  const problems: Problem[] = [];
  if (isRecord(metadata)) { // a non-object metadata is reported by the CRD schema (metadata: type object)
    problems.push(...modelValueProblems(objectMetaModel, metadata, ['metadata']));
    walk(clientNodeModels(), { kind: 'model', name: 'V1ObjectMeta' }, metadata, ['metadata'], problems);
  }
  problems.push(...objectMetaValueProblems(group, kind, metadata));
  return problems;
}

let modelsRoot: string | undefined;

function kubernetesModelsRoot(): string {
  modelsRoot ??= dirname(loadModule.resolve('kubernetes-models'));
  return modelsRoot;
}

/** kubernetes-models lays its models out as `<group>/<version>/<Kind>.js` (core group: `v1/<Kind>.js`). */
function loadKubernetesModel(groupVersionDir: string, kind: string): ModelClass | undefined {
  if (!existsSync(join(kubernetesModelsRoot(), groupVersionDir, `${kind}.js`))) return undefined;
  return modelClassOf(loadModule(`kubernetes-models/${groupVersionDir}/${kind}`), kind);
}

function modelClassOf(module: unknown, exportName: string): ModelClass | undefined {
  const candidate = isRecord(module) ? module[exportName] : undefined;
  return typeof candidate === 'function' ? (candidate as ModelClass) : undefined;
}

function modelValueProblems(model: ModelClass, data: Record<string, unknown>, base: PathSegment[]): Problem[] {
  try {
    new model(data).validate();
    return [];
  } catch (error) {
    const errors = isRecord(error) && Array.isArray(error.errors) ? (error.errors as AjvLikeError[]) : undefined;
    if (errors === undefined) throw error;
    return ajvErrorsToProblems(errors, data, base);
  }
}

function unknownFieldProblems(models: ClientNodeModels, root: TypeRef, obj: Record<string, unknown>): Problem[] {
  const out: Problem[] = [];
  walk(models, root, obj, [], out);
  return out;
}

/** Reports every object key that the type map does not declare. Values of the wrong type are left to the model validator. */
function walk(models: ClientNodeModels, type: TypeRef, value: unknown, path: PathSegment[], out: Problem[]): void {
  switch (type.kind) {
    case 'scalar':
    case 'free':
      return;
    case 'array':
      if (Array.isArray(value)) value.forEach((item, index) => walk(models, type.of, item, [...path, index], out));
      return;
    case 'map':
      if (isRecord(value)) for (const [key, item] of Object.entries(value)) walk(models, type.of, item, [...path, key], out);
      return;
    case 'model': {
      if (!isRecord(value)) return;
      const fields = models.fields(type.name);
      for (const [key, item] of Object.entries(value)) {
        const field = fields.get(key);
        if (field === undefined) out.push({ path: [...path, key], message: `unknown field "${key}"` });
        else walk(models, field.type, item, [...path, key], out);
      }
      return;
    }
  }
}
