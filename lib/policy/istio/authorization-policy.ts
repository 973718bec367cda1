import { ApiObject, ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import { WorkloadSelector } from './workload-selector';

/** `AuthorizationPolicy.spec.action`. */
export class AuthorizationAction {
  /** Allow a request that matches a rule. */
  public static readonly ALLOW = new AuthorizationAction('ALLOW');
  /** Deny a request that matches a rule (evaluated before ALLOW). */
  public static readonly DENY = new AuthorizationAction('DENY');
  private constructor(public readonly value: string) {}
}

/** Who a rule matches (`rules[].from[].source`). */
export interface AuthorizationSource {
  /** SPIFFE principals, `<trustDomain>/ns/<ns>/sa/<sa>`. */
  readonly principals?: string[];
}

/** What a rule matches (`rules[].to[].operation`). */
export interface AuthorizationOperation {
  /** Target (container) ports. */
  readonly ports?: number[];
  /** HTTP methods. */
  readonly methods?: string[];
  /** Request paths. */
  readonly paths?: string[];
}

/** One rule: a request matches when it matches a source AND an operation (each absent list matches all). */
export interface AuthorizationRule {
  /** Sources (`from`); any one may match. */
  readonly sources?: AuthorizationSource[];
  /** Operations (`to`); any one may match. */
  readonly operations?: AuthorizationOperation[];
}

/** Props of a `security.istio.io/v1` AuthorizationPolicy. */
export interface AuthorizationPolicyProps {
  /** Name and namespace. */
  readonly metadata: ApiObjectMetadata;
  /**
   * The action. Leave `action` and `rules` out for an allow-nothing policy.
   * @default - ALLOW
   */
  readonly action?: AuthorizationAction;
  /**
   * The workloads it applies to.
   * @default - every workload in the namespace (mesh-wide in the root namespace)
   */
  readonly selector?: WorkloadSelector;
  /**
   * The rules. An ALLOW policy without rules allows nothing.
   * @default - no rules
   */
  readonly rules?: AuthorizationRule[];
}

/** A typed `security.istio.io/v1` AuthorizationPolicy. */
export class AuthorizationPolicy extends ApiObject {
  constructor(scope: Construct, id: string, props: AuthorizationPolicyProps) {
    const spec: Record<string, unknown> = {};
    if (props.selector) {
      spec.selector = { matchLabels: props.selector.matchLabels };
    }
    if (props.action) {
      spec.action = props.action.value;
    }
    if (props.rules) {
      spec.rules = props.rules.map(renderRule);
    }
    super(scope, id, { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: props.metadata, spec });
  }
}

function renderRule(rule: AuthorizationRule): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rule.sources) {
    out.from = rule.sources.map(source => ({ source: prune({ principals: source.principals }) }));
  }
  if (rule.operations) {
    out.to = rule.operations.map(op => ({
      operation: prune({ ports: op.ports?.map(String), methods: op.methods, paths: op.paths }),
    }));
  }
  return out;
}

function prune(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
