/**
 * Validation of custom resources (Istio, Gatekeeper ConstraintTemplate) against the `openAPIV3Schema` of the
 * CRD version named by their apiVersion, with the API server's structural-schema semantics:
 *
 * - unknown fields are errors, except under `x-kubernetes-preserve-unknown-fields: true` or `additionalProperties`;
 * - type, enum, format, bounds, lengths, pattern, required, oneOf/anyOf/allOf/not, nullable and
 *   `x-kubernetes-int-or-string` are checked by ajv (schemas are converted, then compiled lazily, once per kind/version);
 * - `x-kubernetes-validations` CEL rules run in an ajv keyword (cel-kubernetes.ts);
 * - `x-kubernetes-list-type: set|map` rejects duplicate items / duplicate map keys;
 * - `apiVersion`, `kind`, `metadata` are always allowed at the root (metadata is validated as ObjectMeta), `status` is ignored.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import Ajv, { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import { CelTypedSchema, compileValidationRules, ValidationRule } from './cel-kubernetes';
import { customResourceMetadataProblems, ObjectValidator, splitApiVersion } from './kubernetes-schema';
import { ajvErrorsToProblems, describeValue, isRecord, PathSegment } from './manifest-problem';

/** Verbatim upstream CRD files in test/schemas (see its README). */
export const CRD_SCHEMA_FILES: readonly string[] = ['istio-1.30.3-crds.yaml', 'gatekeeper-3.22.2-constrainttemplate-crd.yaml'];
const SCHEMA_DIR = join(__dirname, '..', 'schemas');

export type StructuralSchema = CelTypedSchema & { readonly [keyword: string]: unknown };

export type CrdLookup = { readonly validator: ObjectValidator } | { readonly error: string } | undefined;

interface CrdVersion {
  readonly crdName: string;
  readonly group: string;
  readonly kind: string;
  readonly version: string;
  readonly served: boolean;
  readonly schema: StructuralSchema;
  validator?: ObjectValidator;
}

/** Keywords passed to ajv unchanged. */
const PASSTHROUGH = new Set(['type', 'format', 'required', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems',
  'minProperties', 'maxProperties', 'pattern', 'uniqueItems', 'multipleOf', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys']);
/** Keywords without effect on validation (`default` is applied by the API server before validating). */
const IGNORED = new Set(['description', 'title', 'example', 'externalDocs', 'default', 'x-kubernetes-map-type']);
/** Converted schema node -> original node, so that the CEL keyword can type `self` like the API server. */
const ORIGINAL_NODES = new WeakMap<object, StructuralSchema>();

/** The function an ajv `compile` keyword returns (ajv's KeywordValidator, which ajv does not export). */
interface KeywordValidator {
  (data: unknown, context?: { readonly instancePath: string }): boolean;
  errors?: Partial<ErrorObject>[];
}

interface CrdDocument {
  readonly file: string;
  readonly text: string;
  /** metadata.name found by a quick scan of the text, before parsing. */
  readonly crdName: string | undefined;
  versions?: CrdVersion[];
}

let documents: CrdDocument[] | undefined;
const groupCache = new Map<string, CrdVersion[]>();
let ajvInstance: Ajv | undefined;

/** A validator for a custom resource; undefined when no CRD defines the group; `error` when the version/kind is not served. */
export function crdKindValidator(apiVersion: string, kind: string): CrdLookup {
  const { group, version } = splitApiVersion(apiVersion);
  const inGroup = versionsOfGroup(group);
  if (inGroup === undefined) return undefined;
  const ofKind = inGroup.filter((v) => v.kind === kind);
  if (ofKind.length === 0) {
    const kinds = [...new Set(inGroup.map((v) => v.kind))].sort().join(', ');
    return { error: `no CustomResourceDefinition in group "${group}" defines kind "${kind}" (known kinds: ${kinds})` };
  }
  const entry = ofKind.find((v) => v.version === version);
  const served = ofKind.filter((v) => v.served).map((v) => v.version).join(', ');
  if (entry === undefined) return { error: `${ofKind[0].crdName} has no version "${version}" (served versions: ${served})` };
  if (!entry.served) return { error: `version "${version}" of ${entry.crdName} is not served (served versions: ${served})` };
  entry.validator ??= buildValidator(entry);
  return { validator: entry.validator };
}

function buildValidator(entry: CrdVersion): ObjectValidator {
  const schema = convert(entry.schema, true, `${entry.crdName}/${entry.version}#`);
  schema.type = 'object';
  schema.properties = {
    ...(isRecord(schema.properties) ? schema.properties : {}),
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' }, // validated as ObjectMeta below
    status: {}, // ignored on create
  };
  let validate: ValidateFunction;
  try {
    validate = ajv().compile(schema);
  } catch (error) {
    throw new Error(`Cannot compile the schema of ${entry.crdName} ${entry.version}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (obj) => {
    const problems = validate(obj) ? [] : ajvErrorsToProblems((validate.errors ?? []) as ErrorObject[], obj);
    return [...problems, ...customResourceMetadataProblems(entry.group, entry.kind, obj.metadata)];
  };
}

/**
 * Converts a structural schema node to an ajv schema. `structural` is false inside oneOf/anyOf/allOf/not, where
 * Kubernetes only allows value validations (so unknown-field closing must not be applied there).
 */
function convert(node: StructuralSchema, structural: boolean, location: string): AnySchemaObject {
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(node)) {
    const at = `${location}/${keyword}`;
    if (keyword === 'properties') {
      out.properties = Object.fromEntries(Object.entries(asRecord(value, at)).map(([name, child]) =>
        [name, convert(asSchema(child, `${at}/${name}`), structural, `${at}/${name}`)]));
    } else if (keyword === 'additionalProperties') {
      out.additionalProperties = typeof value === 'boolean' ? value : convert(asSchema(value, at), structural, at);
    } else if (keyword === 'items') {
      out.items = convert(asSchema(value, at), structural, at);
    } else if (keyword === 'oneOf' || keyword === 'anyOf' || keyword === 'allOf') {
      if (!Array.isArray(value)) throw new Error(`${at} must be an array`);
      out[keyword] = value.map((child, i) => convert(asSchema(child, `${at}/${i}`), false, `${at}/${i}`));
    } else if (keyword === 'not') {
      out.not = convert(asSchema(value, at), false, at);
    } else if (keyword === 'x-kubernetes-validations') {
      if (!Array.isArray(value) || !value.every((rule) => isRecord(rule) && typeof rule.rule === 'string')) throw new Error(`${at} must be a list of rules`);
      out[keyword] = value;
    } else if (PASSTHROUGH.has(keyword)) {
      out[keyword] = value;
    } else if (!IGNORED.has(keyword) && keyword !== 'nullable' && keyword !== 'x-kubernetes-int-or-string' && keyword !== 'x-kubernetes-preserve-unknown-fields') {
      // Never ignore a validation we do not understand.
      throw new Error(`Unsupported schema keyword "${keyword}" at ${location}`);
    }
  }
  if (node['x-kubernetes-int-or-string'] === true) {
    if (isIntOrStringAnyOf(node.anyOf)) delete out.anyOf; // replaced by the equivalent, clearer type list
    out.type = ['integer', 'string'];
  }
  if (Array.isArray(node.required) && isRecord(node.properties)) {
    // A defaulted property is never missing: the API server applies the default before validating.
    const properties = node.properties;
    out.required = node.required.filter((name) => !(isRecord(properties[name]) && properties[name].default !== undefined));
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  const isObject = node.type === 'object' || node.properties !== undefined;
  if (structural && isObject && node.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false; // Kubernetes prunes unknown fields; --validate=strict rejects them
  }
  ORIGINAL_NODES.set(out, node);
  return out;
}

function ajv(): Ajv {
  if (ajvInstance === undefined) {
    const instance = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, strictTuples: false, strictRequired: false });
    instance.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 });
    instance.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
    instance.addFormat('float', { type: 'number', validate: () => true });
    instance.addFormat('double', { type: 'number', validate: () => true });
    instance.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
    instance.addFormat('date-time', {
      type: 'string',
      validate: (s: string) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$/.test(s) && !Number.isNaN(Date.parse(s.slice(0, 19))),
    });
    instance.addKeyword({ keyword: 'x-kubernetes-list-map-keys', schemaType: 'array' }); // read by x-kubernetes-list-type
    instance.addKeyword({ keyword: 'x-kubernetes-list-type', schemaType: 'string', errors: true, compile: compileListType });
    instance.addKeyword({ keyword: 'x-kubernetes-validations', schemaType: 'array', errors: true, compile: compileCelRules });
    ajvInstance = instance;
  }
  return ajvInstance;
}

function compileCelRules(rules: ValidationRule[], parentSchema: AnySchemaObject, it: { errSchemaPath: string }): KeywordValidator {
  const original = ORIGINAL_NODES.get(parentSchema);
  if (original === undefined) throw new Error(`x-kubernetes-validations at ${it.errSchemaPath}: schema node not produced by convert()`);
  const evaluate = compileValidationRules(rules, original, it.errSchemaPath);
  const validate: KeywordValidator = (data, context) => {
    const failures = evaluate(data);
    validate.errors = failures.map((failure) => ({
      keyword: 'x-kubernetes-validations',
      instancePath: (context?.instancePath ?? '') + toPointer(failure.fieldPath),
      params: { rule: failure.rule },
      message: `Invalid value: ${failure.message} (x-kubernetes-validations rule: ${shorten(failure.rule)})`,
    }));
    return failures.length === 0;
  };
  return validate;
}

function compileListType(listType: string, parentSchema: AnySchemaObject, it: { errSchemaPath: string }): KeywordValidator {
  if (listType === 'atomic') return () => true;
  const keys: unknown = parentSchema['x-kubernetes-list-map-keys'];
  if (listType === 'map' && !(Array.isArray(keys) && keys.every((k) => typeof k === 'string'))) {
    throw new Error(`x-kubernetes-list-type map without x-kubernetes-list-map-keys at ${it.errSchemaPath}`);
  }
  if (listType !== 'map' && listType !== 'set') throw new Error(`Unsupported x-kubernetes-list-type "${listType}" at ${it.errSchemaPath}`);
  const identity = (item: unknown): unknown => listType === 'set' || !isRecord(item)
    ? item
    : Object.fromEntries((keys as string[]).filter((k) => item[k] !== undefined).map((k) => [k, item[k]]));
  const validate: KeywordValidator = (data, context) => {
    if (!Array.isArray(data)) return true;
    const seen = new Set<string>();
    const errors: Partial<ErrorObject>[] = [];
    data.forEach((item, index) => {
      const id = identity(item);
      const key = stableJson(id);
      if (seen.has(key)) {
        errors.push({ keyword: 'x-kubernetes-list-type', instancePath: `${context?.instancePath ?? ''}/${index}`, params: {}, message: `Duplicate value: ${describeValue(id)}` });
      }
      seen.add(key);
    });
    validate.errors = errors;
    return errors.length === 0;
  };
  return validate;
}

/**
 * The CRD versions of a group. The YAML files are split into documents and only the documents of CRDs named
 * `<plural>.<group>` are parsed (parsing all Istio CRDs costs several hundred ms, paid again by each test file).
 */
function versionsOfGroup(group: string): CrdVersion[] | undefined {
  let versions = groupCache.get(group);
  if (versions === undefined) {
    versions = [];
    for (const document of crdDocuments()) {
      if (document.crdName !== undefined && !document.crdName.endsWith(`.${group}`)) continue;
      document.versions ??= parseCrdDocument(document);
      versions.push(...document.versions.filter((v) => v.group === group));
    }
    groupCache.set(group, versions);
  }
  return versions.length > 0 ? versions : undefined;
}

function crdDocuments(): CrdDocument[] {
  if (documents === undefined) {
    documents = [];
    for (const file of CRD_SCHEMA_FILES) {
      for (const text of readFileSync(join(SCHEMA_DIR, file), 'utf8').split(/^---[ \t]*$/m)) {
        if (text.trim() === '') continue;
        // metadata.name of the CRD: the `  name:` line of the top-level `metadata:` block. A miss only costs a parse.
        const metadata = /^metadata:[ \t]*\n((?:[ \t]+.*\n|[ \t]*\n)*)/m.exec(text);
        const name = metadata ? /^ {2}name: *["']?([a-z0-9.-]+)["']? *$/m.exec(metadata[1]) : null;
        documents.push({ file, text, crdName: name ? name[1] : undefined });
      }
    }
  }
  return documents;
}

function parseCrdDocument(document: CrdDocument): CrdVersion[] {
  const parsed = parseDocument(document.text);
  if (parsed.errors.length > 0) throw new Error(`${document.file}: ${parsed.errors[0].message}`);
  const crd: unknown = parsed.toJS();
  if (crd === null || crd === undefined) return [];
  const versions = crdVersions(crd, document.file);
  if (document.crdName !== undefined && versions.some((v) => v.crdName !== document.crdName)) {
    throw new Error(`${document.file}: CRD name detection failed for ${document.crdName}`);
  }
  return versions;
}

function crdVersions(crd: unknown, file: string): CrdVersion[] {
  if (!isRecord(crd) || crd.kind !== 'CustomResourceDefinition' || !isRecord(crd.spec) || !isRecord(crd.metadata)) {
    throw new Error(`${file}: expected only CustomResourceDefinition documents`);
  }
  const { group, names, versions } = crd.spec;
  if (typeof group !== 'string' || !isRecord(names) || typeof names.kind !== 'string' || !Array.isArray(versions)) {
    throw new Error(`${file}: malformed CustomResourceDefinition ${String(crd.metadata.name)}`);
  }
  const crdName = String(crd.metadata.name);
  return versions.map((v: unknown) => {
    if (!isRecord(v) || typeof v.name !== 'string' || !isRecord(v.schema) || !isRecord(v.schema.openAPIV3Schema)) {
      throw new Error(`${file}: ${crdName} has a version without openAPIV3Schema`);
    }
    const schema = v.schema.openAPIV3Schema as StructuralSchema;
    return { crdName, group, kind: names.kind as string, version: v.name, served: v.served === true, schema };
  });
}

/** The conventional `anyOf: [{type: integer}, {type: string}]` of int-or-string nodes. */
function isIntOrStringAnyOf(anyOf: unknown): boolean {
  return Array.isArray(anyOf) && anyOf.length === 2
    && anyOf.every((branch) => isRecord(branch) && Object.keys(branch).length === 1 && (branch.type === 'integer' || branch.type === 'string'))
    && anyOf[0].type !== anyOf[1].type;
}

function asRecord(value: unknown, at: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${at} must be an object`);
  return value;
}

function asSchema(value: unknown, at: string): StructuralSchema {
  return asRecord(value, at) as StructuralSchema;
}

function toPointer(path: readonly PathSegment[]): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isRecord(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'undefined';
}

function shorten(rule: string): string {
  const text = rule.replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
