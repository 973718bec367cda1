import { Construct } from 'constructs';
import { PrincipalRule } from './flows';
import { MANAGED_BY_LABELS, OBJECT_NAMES } from './object-names';
import { Microservice } from '../../model/microservice';
import { PolicyModel } from '../../model/policy-model';
import { AuthorizationAction, AuthorizationPolicy, AuthorizationRule } from '../istio/authorization-policy';

/**
 * AuthorizationPolicies (design.md 3.3 and 3.6): allow-nothing mesh-wide and per namespace,
 * the mesh-wide quarantine DENY, the ingress gateway's ALLOW, and per service an ALLOW that
 * lists exactly its callers' principals, target ports, methods and paths.
 */
export class AuthorizationPolicyRenderer {
  constructor(private readonly model: PolicyModel) {}

  /** An ALLOW policy with no rules: nothing is allowed unless another policy allows it. */
  public allowNothing(scope: Construct, namespace: string): void {
    new AuthorizationPolicy(scope, 'AllowNothing', { metadata: { name: OBJECT_NAMES.allowNothing, namespace, labels: MANAGED_BY_LABELS } });
  }

  /** Mesh-wide DENY of every request into a pod labelled quarantined (DENY wins over ALLOW). */
  public denyQuarantined(scope: Construct): void {
    const p = this.model.platform;
    new AuthorizationPolicy(scope, 'DenyQuarantined', {
      metadata: { name: OBJECT_NAMES.denyQuarantined, namespace: p.rootNamespace, labels: MANAGED_BY_LABELS },
      action: AuthorizationAction.DENY,
      selector: { matchLabels: { [p.quarantineLabel]: 'true' } },
      rules: [{}],
    });
  }

  /**
   * The gateway is the entry point: it accepts clients from outside the mesh, which have no
   * principal, so its rule names only its listener ports (the one ALLOW without `from`).
   */
  public ingressGateway(scope: Construct): void {
    const p = this.model.platform;
    new AuthorizationPolicy(scope, 'IngressGateway', {
      metadata: { name: OBJECT_NAMES.ingressGateway, namespace: p.gatewayNamespace, labels: MANAGED_BY_LABELS },
      action: AuthorizationAction.ALLOW,
      selector: { matchLabels: { ...p.gatewayLabels } },
      rules: [{ operations: [{ ports: [...p.gatewayPorts] }] }],
    });
  }

  /** The service's ALLOW policy; nothing when it has no callers (it is then unreachable). */
  public service(scope: Construct, service: Microservice, rules: PrincipalRule[]): void {
    if (rules.length === 0) {
      return;
    }
    new AuthorizationPolicy(scope, 'AuthorizationPolicy', {
      metadata: { name: service.name, namespace: service.namespace, labels: MANAGED_BY_LABELS },
      action: AuthorizationAction.ALLOW,
      selector: { matchLabels: { ...service.podLabels } },
      rules: rules.map(toIstioRule),
    });
  }
}

function toIstioRule(rule: PrincipalRule): AuthorizationRule {
  return {
    sources: [{ principals: rule.principals }],
    operations: [{ ports: rule.ports, methods: rule.restriction?.methods?.slice(), paths: rule.restriction?.paths?.slice() }],
  };
}
