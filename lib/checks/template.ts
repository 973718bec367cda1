/**
 * Internal helpers for reading a synthesized CloudFormation template (JSON) without changing it.
 * Nothing in this file is part of the public (jsii) API.
 */

import type { ZeroTrustRule } from './rule';

/** Resource Metadata key that records an accepted public EKS endpoint (read by ZT-EKS-1). */
export const PUBLIC_ENDPOINT_OPT_OUT_METADATA = 'cdk-zero-trust-eks:publicEndpointOptOut';

/** One resource of a template as it appears in the JSON. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** A template read from disk. */
export interface LoadedTemplate {
  /** Absolute path of the template file. */
  readonly templatePath: string;
  /** Construct path of the stack that produced it, when known. */
  readonly stackConstructPath?: string;
  /** Size of the file in bytes, exactly as it will be uploaded. */
  readonly bytes: number;
  /** Resources by logical id. */
  readonly resources: Readonly<Record<string, TemplateResource>>;
}

/** One thing a rule found wrong. */
export interface RuleFinding {
  /** Logical id of the offending resource; absent for a finding about the whole template. */
  readonly logicalId?: string;
  /** Locations relative to the resource, e.g. `Properties/AccessConfig/AuthenticationMode`. */
  readonly locations: string[];
  /** What is wrong, naming the values found. */
  readonly message: string;
}

/** A plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a nested value: `get(props, 'A', 'B')` is `props.A.B`, or undefined when any step is missing. */
export function get(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isObject(current)) {
      return undefined;
    }
    current = current[key];
  }
  return current;
}

/** All resources of one CloudFormation type, as [logicalId, resource] pairs in template order. */
export function resourcesOfType(template: LoadedTemplate, type: string): Array<[string, TemplateResource]> {
  return Object.entries(template.resources).filter(([, r]) => r.Type === type);
}

/** The logical id of `{ Ref: X }`, or undefined. */
export function refTarget(value: unknown): string | undefined {
  if (isObject(value) && Object.keys(value).length === 1 && typeof value.Ref === 'string') {
    return value.Ref;
  }
  return undefined;
}

/** The logical id of `{ 'Fn::GetAtt': [X, attribute] }` (or the `'X.attribute'` string form), or undefined. */
export function getAttTarget(value: unknown, attribute: string): string | undefined {
  if (!isObject(value) || Object.keys(value).length !== 1) {
    return undefined;
  }
  const arg = value['Fn::GetAtt'];
  if (Array.isArray(arg) && arg.length === 2 && typeof arg[0] === 'string' && arg[1] === attribute) {
    return arg[0];
  }
  if (typeof arg === 'string' && arg.endsWith(`.${attribute}`)) {
    return arg.slice(0, -attribute.length - 1);
  }
  return undefined;
}

/** The resource with that logical id if it has the given type. */
export function resourceOfType(template: LoadedTemplate, logicalId: string | undefined, type: string): TemplateResource | undefined {
  if (logicalId === undefined) {
    return undefined;
  }
  const resource = template.resources[logicalId];
  return resource && resource.Type === type ? resource : undefined;
}

/** Text of a string property that may be wrapped in `Fn::Join`, with every token (non-literal part) replaced. */
export interface FlattenedText {
  /** The text with each token replaced by `placeholder(i)`. */
  readonly text: string;
  /** Number of tokens replaced. */
  readonly tokens: number;
}

/**
 * Flattens a plain string or an `Fn::Join` (nested joins included) into text. Literal parts and delimiters are
 * kept; every other part (Ref, GetAtt, ImportValue...) is a token, replaced by `placeholder(index)`.
 * Returns undefined for anything that is neither a string nor an `Fn::Join` with a literal delimiter.
 */
export function flattenJoin(value: unknown, placeholder: (index: number) => string): FlattenedText | undefined {
  let tokens = 0;
  const walk = (v: unknown, top: boolean): string | undefined => {
    if (typeof v === 'string') {
      return v;
    }
    const join = isObject(v) && Object.keys(v).length === 1 ? v['Fn::Join'] : undefined;
    if (Array.isArray(join) && join.length === 2 && typeof join[0] === 'string' && Array.isArray(join[1])) {
      const parts: string[] = [];
      for (const part of join[1]) {
        const text = walk(part, false);
        if (text === undefined) {
          return undefined;
        }
        parts.push(text);
      }
      return parts.join(join[0]);
    }
    if (top) {
      return undefined;
    }
    return placeholder(tokens++);
  };
  const text = walk(value, true);
  return text === undefined ? undefined : { text, tokens };
}

/** Placeholder used when a joined manifest is parsed: a JSON-safe string that cannot be a CIDR. */
export function tokenPlaceholder(index: number): string {
  return `\${Token[${index}]}`;
}

/** Renders a value briefly for a message. */
export function show(value: unknown): string {
  if (value === undefined) {
    return 'absent';
  }
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A rule: its public description and the read-only check that runs on each template. */
export interface RuleDefinition {
  readonly info: ZeroTrustRule;
  check(template: LoadedTemplate): RuleFinding[];
}
