/**
 * Field catalogue of every Kubernetes built-in type, taken from the model classes of `@kubernetes/client-node`
 * (generated from the upstream OpenAPI document): `Model.getAttributeTypeMap()` lists each JSON field
 * (`baseName`) with its type (`V1LabelSelector`, `Array<X>`, `{ [key: string]: X; }`, `string`, `IntOrString`...).
 *
 * `@kubernetes/client-node` 1.x is published as ECMAScript modules only, which Jest's CommonJS runtime cannot
 * load. The catalogue is therefore read once per process by a short-lived `node` child process that imports
 * the models and prints their attribute type maps as JSON.
 */
import { execFileSync } from 'child_process';
import { dirname, join } from 'path';
import { pathToFileURL } from 'url';

export type TypeRef =
  | { readonly kind: 'scalar'; readonly name: string }
  | { readonly kind: 'free' }
  | { readonly kind: 'array'; readonly of: TypeRef }
  | { readonly kind: 'map'; readonly of: TypeRef }
  | { readonly kind: 'model'; readonly name: string };

export interface ModelField {
  readonly baseName: string;
  readonly type: TypeRef;
}

interface RawAttribute {
  readonly baseName: string;
  readonly type: string;
}

/** Leaf types whose values are not objects (their values are checked by kubernetes-models). */
const SCALAR_TYPES = new Set(['string', 'number', 'boolean', 'Date', 'V1MicroTime', 'IntOrString']);
/** Free-form JSON (e.g. RawExtension, JSONSchemaProps.default). */
const FREE_TYPES = new Set(['any', 'object']);

const DUMP_SCRIPT = `
const models = await import(process.argv[1]);
const out = {};
for (const [name, value] of Object.entries(models)) {
  if (typeof value === 'function' && typeof value.getAttributeTypeMap === 'function') {
    out[name] = value.getAttributeTypeMap().map((a) => ({ baseName: a.baseName, type: a.type }));
  }
}
process.stdout.write(JSON.stringify(out));
`;

export class ClientNodeModels {
  private readonly fieldCache = new Map<string, ReadonlyMap<string, ModelField>>();
  private readonly typeCache = new Map<string, TypeRef>();

  constructor(private readonly raw: Readonly<Record<string, readonly RawAttribute[]>>) {}

  public has(model: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.raw, model);
  }

  /** The JSON fields of a model, keyed by JSON name. */
  public fields(model: string): ReadonlyMap<string, ModelField> {
    let fields = this.fieldCache.get(model);
    if (fields === undefined) {
      if (!this.has(model)) throw new Error(`@kubernetes/client-node has no model named ${model}`);
      fields = new Map(this.raw[model].map((a) => [a.baseName, { baseName: a.baseName, type: this.parseType(a.type, model) }]));
      this.fieldCache.set(model, fields);
    }
    return fields;
  }

  /**
   * The model of a top-level kind. Names are `<Version><Kind>` (V1NetworkPolicy, V1beta1Foo), prefixed with the
   * group's first DNS label when the bare name is ambiguous across groups (CoreV1Event / EventsV1Event).
   */
  public findKind(group: string, version: string, kind: string): string | undefined {
    const versionPart = version.charAt(0).toUpperCase() + version.slice(1);
    const groupLabel = group === '' ? 'core' : group.split('.')[0];
    const groupPart = groupLabel.charAt(0).toUpperCase() + groupLabel.slice(1);
    for (const candidate of [`${groupPart}${versionPart}${kind}`, `${versionPart}${kind}`]) {
      if (this.has(candidate)) {
        const fields = this.fields(candidate);
        if (fields.has('apiVersion') && fields.has('kind') && fields.has('metadata')) return candidate;
      }
    }
    return undefined;
  }

  private parseType(type: string, owner: string): TypeRef {
    let ref = this.typeCache.get(type);
    if (ref === undefined) {
      ref = this.parseUncached(type.trim(), owner);
      this.typeCache.set(type, ref);
    }
    return ref;
  }

  private parseUncached(type: string, owner: string): TypeRef {
    const array = /^Array<(.+)>$/.exec(type);
    if (array) return { kind: 'array', of: this.parseType(array[1], owner) };
    const map = /^\{ *\[key: *string\]: *(.+?);? *\}$/.exec(type);
    if (map) return { kind: 'map', of: this.parseType(map[1], owner) };
    if (SCALAR_TYPES.has(type)) return { kind: 'scalar', name: type };
    if (FREE_TYPES.has(type)) return { kind: 'free' };
    if (this.has(type)) return { kind: 'model', name: type };
    // Never guess: an unknown type would silently disable unknown-field detection below it.
    throw new Error(`Unsupported @kubernetes/client-node attribute type "${type}" (in ${owner})`);
  }
}

let cached: ClientNodeModels | undefined;

/** The catalogue, loaded on first use and cached for the life of the process (one Jest worker). */
export function clientNodeModels(): ClientNodeModels {
  if (cached === undefined) {
    const packageJson = require.resolve('@kubernetes/client-node/package.json');
    const modelsEntry = pathToFileURL(join(dirname(packageJson), 'dist', 'gen', 'models', 'all.js')).href;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', DUMP_SCRIPT, modelsEntry], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const raw = JSON.parse(output) as Record<string, RawAttribute[]>;
    if (!raw.V1ObjectMeta || !raw.V1NetworkPolicy) throw new Error('Could not read the @kubernetes/client-node model catalogue');
    cached = new ClientNodeModels(raw);
  }
  return cached;
}
