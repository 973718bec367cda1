/**
 * Evaluation of CRD `x-kubernetes-validations` rules with @bufbuild/cel, following the API server
 * (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel):
 *
 * - `self` is the value at the schema node, typed by the schema: integer -> int, number -> double,
 *   string -> string (format byte -> bytes, date-time -> timestamp), array -> list, object -> map
 *   (property names escaped like Kubernetes does: `__dash__`, `__dot__`, reserved words...).
 * - Transition rules (those that reference `oldSelf`) are skipped: there is no old object on create
 *   (`optionalOldSelf`, which would run them on create too, is rejected as unsupported).
 * - Library: CEL standard functions, the strings extension, and the Kubernetes functions that the rules of our
 *   CRDs use: `isURL`, `url` and `<URL>.getScheme()` (Kubernetes URL library, Go net/url semantics), plus an
 *   `int(string)` that parses like Go's strconv.ParseInt instead of JavaScript's BigInt().
 * - A rule that cannot be compiled, calls an unknown function or yields a non-boolean throws (loudly), instead
 *   of passing or failing silently.
 */
import { celEnv, CelEnv, celFunc, CelInput, celMethod, CelScalar, isCelError, objectType, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
// @bufbuild/protobuf is the required peer dependency of @bufbuild/cel: it defines the CEL type of URL values.
// eslint-disable-next-line import/no-extraneous-dependencies
import { create, createFileRegistry, FileRegistry } from '@bufbuild/protobuf';
// eslint-disable-next-line import/no-extraneous-dependencies
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema, timestampFromDate } from '@bufbuild/protobuf/wkt';
import { parseRequestUri, parseUrl } from './go-url';
import { isRecord, PathSegment } from './manifest-problem';

/** An entry of `x-kubernetes-validations`. */
export interface ValidationRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fieldPath?: string;
  readonly reason?: string;
  readonly optionalOldSelf?: boolean;
}

/** The parts of a structural schema node that determine CEL types. */
export interface CelTypedSchema {
  readonly 'type'?: string;
  readonly 'format'?: string;
  readonly 'properties'?: Readonly<Record<string, CelTypedSchema>>;
  readonly 'additionalProperties'?: boolean | CelTypedSchema;
  readonly 'items'?: CelTypedSchema;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface RuleFailure {
  readonly rule: string;
  readonly message: string;
  /** Path below the node, from the rule's `fieldPath`. */
  readonly fieldPath: readonly PathSegment[];
}

/** Validates a value present at the node; returns the failed rules. */
export type RuleSetEvaluator = (value: unknown) => RuleFailure[];

/** Calls that the @bufbuild/cel planner handles itself rather than through the function resolver. */
const PLANNER_BUILTINS = new Set(['_[_]', '_[?_]', '_?._', '_?_:_', '_&&_', '_||_', '@not_strictly_false', '__not_strictly_false__']);
const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if',
  'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

interface CompiledRule {
  readonly rule: string;
  readonly message: string;
  readonly program: (bindings: Record<string, CelInput>) => unknown;
  readonly messageProgram?: (bindings: Record<string, CelInput>) => unknown;
  readonly fieldPath: readonly PathSegment[];
}

class TypeMismatch extends Error {}

/** Compiles the rules of one schema node; `location` (schema path) is used in loud errors. */
export function compileValidationRules(rules: readonly ValidationRule[], schema: CelTypedSchema, location: string): RuleSetEvaluator {
  const compiled: CompiledRule[] = [];
  for (const rule of rules) {
    if (rule.optionalOldSelf === true) {
      // Such rules also run on create, with oldSelf = optional.none(): optional types are not implemented here.
      throw new Error(`CEL rule at ${location} uses optionalOldSelf, which is not supported: ${oneLine(rule.rule)}`);
    }
    const parsed = compileExpression(rule.rule, location);
    if (parsed.usesOldSelf) continue; // transition rule: there is no old object on create
    compiled.push({
      rule: rule.rule,
      message: rule.message ?? `failed rule: ${oneLine(rule.rule)}`,
      program: parsed.program,
      messageProgram: rule.messageExpression === undefined ? undefined : compileExpression(rule.messageExpression, location).program,
      fieldPath: parseFieldPath(rule.fieldPath, location),
    });
  }
  if (compiled.length === 0) return () => [];
  return (value) => {
    if (value === null || value === undefined) return [];
    let self: CelInput;
    try {
      self = toCel(value, schema);
    } catch (error) {
      if (error instanceof TypeMismatch) return []; // the schema type error is reported by ajv
      throw error;
    }
    const failures: RuleFailure[] = [];
    for (const rule of compiled) {
      const result = rule.program({ self });
      if (result === true) continue;
      if (isCelError(result)) {
        if (/unbound function|no matching overload|unresolved attribute/.test(result.message)) {
          throw new Error(`CEL rule at ${location} could not be evaluated (unsupported function or type): ${oneLine(rule.rule)}: ${result.message}`);
        }
        // Like the API server: an evaluation error (e.g. int("x")) rejects the object.
        failures.push({ rule: rule.rule, message: `${rule.message} (evaluation error: ${result.message})`, fieldPath: rule.fieldPath });
      } else if (result === false) {
        failures.push({ rule: rule.rule, message: customMessage(rule, self) ?? rule.message, fieldPath: rule.fieldPath });
      } else {
        throw new Error(`CEL rule at ${location} returned a non-boolean: ${oneLine(rule.rule)}`);
      }
    }
    return failures;
  };
}

function customMessage(rule: CompiledRule, self: CelInput): string | undefined {
  if (rule.messageProgram === undefined) return undefined;
  const message = rule.messageProgram({ self });
  return typeof message === 'string' && message.trim() !== '' ? message : undefined;
}

function compileExpression(text: string, location: string): { program: CompiledRule['program']; usesOldSelf: boolean } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text);
  } catch (error) {
    throw new Error(`CEL rule at ${location} does not compile: ${oneLine(text)}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const calls = new Set<string>();
  const identifiers = new Set<string>();
  collectNames(parsed.expr, calls, identifiers);
  const env = kubernetesCelEnv();
  const unsupported = [...calls].filter((name) => !PLANNER_BUILTINS.has(name) && env.funcs.find(name) === undefined);
  if (unsupported.length > 0) {
    throw new Error(`CEL rule at ${location} uses unsupported function(s) ${unsupported.join(', ')}: ${oneLine(text)}`);
  }
  const program = plan(env, parsed) as (bindings: Record<string, CelInput>) => unknown;
  return { program, usesOldSelf: identifiers.has('oldSelf') };
}

function collectNames(node: unknown, calls: Set<string>, identifiers: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectNames(item, calls, identifiers);
    return;
  }
  if (!isRecord(node)) return;
  if (node.case === 'callExpr' && isRecord(node.value)) calls.add(String(node.value.function));
  if (node.case === 'identExpr' && isRecord(node.value)) identifiers.add(String(node.value.name));
  for (const value of Object.values(node)) collectNames(value, calls, identifiers);
}

/** `fieldPath` is a JSON path relative to self: `.spec.foo`, `.map['key']`, `.list[0]`. */
function parseFieldPath(fieldPath: string | undefined, location: string): PathSegment[] {
  if (fieldPath === undefined || fieldPath === '') return [];
  const segments: PathSegment[] = [];
  const token = /\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]|\[([0-9]+)\]/y;
  let match: RegExpExecArray | null;
  while (token.lastIndex < fieldPath.length && (match = token.exec(fieldPath)) !== null) {
    segments.push(match[3] !== undefined ? Number(match[3]) : match[1] ?? match[2]);
  }
  if (token.lastIndex !== fieldPath.length) throw new Error(`Unsupported fieldPath "${fieldPath}" at ${location}`);
  return segments;
}

// ---- values ------------------------------------------------------------------------------------------------

/** Converts a JSON value to its CEL input according to the schema node, like the API server's UnstructuredToVal. */
function toCel(value: unknown, schema: CelTypedSchema | undefined): CelInput {
  if (value === null) return null;
  if (schema === undefined) return fromJson(value);
  if (schema['x-kubernetes-int-or-string']) return typeof value === 'string' ? value : toInt(value);
  switch (schema.type) {
    case 'integer':
      return toInt(value);
    case 'number':
      if (typeof value !== 'number') throw new TypeMismatch();
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new TypeMismatch();
      return value;
    case 'string':
      if (typeof value !== 'string') throw new TypeMismatch();
      return stringValue(value, schema.format);
    case 'array':
      if (!Array.isArray(value)) throw new TypeMismatch();
      return value.map((item) => toCel(item, schema.items));
    case 'object':
      if (!isRecord(value)) throw new TypeMismatch();
      return objectValue(value, schema);
    default:
      return fromJson(value); // no type: x-kubernetes-preserve-unknown-fields
  }
}

function objectValue(value: Record<string, unknown>, schema: CelTypedSchema): ReadonlyMap<string, CelInput> {
  const out = new Map<string, CelInput>();
  const additional = isRecord(schema.additionalProperties) ? (schema.additionalProperties as CelTypedSchema) : undefined;
  for (const [key, item] of Object.entries(value)) {
    const property = schema.properties?.[key];
    if (property !== undefined) {
      const name = escapeFieldName(key);
      if (name !== undefined) out.set(name, toCel(item, property));
    } else if (additional !== undefined) {
      out.set(key, toCel(item, additional));
    } else {
      out.set(key, fromJson(item));
    }
  }
  return out;
}

function stringValue(value: string, format: string | undefined): CelInput {
  switch (format) {
    case 'byte':
      return new Uint8Array(Buffer.from(value, 'base64'));
    case 'date-time': {
      const date = new Date(value);
      if (Number.isNaN(date.getTime())) throw new TypeMismatch();
      return timestampFromDate(date);
    }
    case 'duration':
    case 'date':
      throw new Error(`CEL conversion of string format "${format}" is not implemented`);
    default:
      return value;
  }
}

function toInt(value: unknown): bigint {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeMismatch();
  return BigInt(value);
}

/** Untyped JSON (preserve-unknown-fields): integers are CEL ints, like JSON decoded by the API server. */
function fromJson(value: unknown): CelInput {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(fromJson);
  if (isRecord(value)) return new Map(Object.entries(value).map(([k, v]) => [k, fromJson(v)]));
  throw new TypeMismatch();
}

/** Kubernetes' CEL field name escaping; undefined when the property is not accessible from CEL. */
function escapeFieldName(name: string): string | undefined {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  return name.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

// ---- environment and Kubernetes library -----------------------------------------------------------------

let registry: FileRegistry | undefined;
let environment: CelEnv | undefined;

/** A registry with the opaque `kubernetes.URL` type (cel-go's URL type has no fields visible to rules). */
function kubernetesRegistry(): FileRegistry {
  if (registry === undefined) {
    const stringField = (name: string, number: number) => ({
      name, number, jsonName: name, type: FieldDescriptorProto_Type.STRING, label: FieldDescriptorProto_Label.OPTIONAL,
    });
    const file = create(FileDescriptorProtoSchema, {
      name: 'kubernetes/cel/url.proto',
      package: 'kubernetes',
      syntax: 'proto3',
      messageType: [{ name: 'URL', field: [stringField('scheme', 1), stringField('href', 2)] }],
    });
    registry = createFileRegistry(file, () => undefined);
  }
  return registry;
}

function kubernetesCelEnv(): CelEnv {
  if (environment === undefined) {
    const reg = kubernetesRegistry();
    const urlDesc = reg.getMessage('kubernetes.URL');
    if (urlDesc === undefined) throw new Error('kubernetes.URL type missing');
    const URL_TYPE = objectType(urlDesc);
    const library = [
      // isURL(string) bool: url.ParseRequestURI succeeds.
      celFunc('isURL', [CelScalar.STRING], CelScalar.BOOL, (s) => {
        try {
          parseRequestUri(s);
          return true;
        } catch {
          return false;
        }
      }),
      // url(string) URL: ParseRequestURI must succeed (absolute URL or path), the value is then url.Parse(s).
      celFunc('url', [CelScalar.STRING], URL_TYPE, (s) => {
        try {
          parseRequestUri(s);
          return create(urlDesc, { scheme: parseUrl(s).scheme, href: s });
        } catch (error) {
          throw new Error(`URL parse error during conversion from string: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
      celMethod('getScheme', URL_TYPE, [], CelScalar.STRING, function getScheme() {
        const scheme: unknown = (this.message as unknown as Record<string, unknown>).scheme;
        return typeof scheme === 'string' ? scheme : '';
      }),
      // Same overload id as the standard int(string), which it replaces: Go accepts only [+-]?[0-9]+ in int64 range.
      celFunc('int', [CelScalar.STRING], CelScalar.INT, (s) => {
        if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`cannot convert "${s}" to int: invalid syntax`);
        const n = BigInt(s);
        if (n > 9223372036854775807n || n < -9223372036854775808n) throw new Error(`cannot convert "${s}" to int: value out of range`);
        return n;
      }),
    ];
    environment = celEnv({ funcs: [...strings, ...library], registry: reg });
  }
  return environment;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
