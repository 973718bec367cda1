import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { AdmissionIdentities, identityExpression, resolveIdentities } from './admission-identities';
import { AdmissionPolicyDefinition, managedObjectsPolicy, quarantineLabelPolicy } from './admission-policies';
import {
  ALLOWED_REGISTRIES, API_ACCESS_ANNOTATION, AUTHORIZATION_PRINCIPALS, HOST_ISOLATION, NAMESPACE_LABELS, PEER_AUTHENTICATION_STRICT,
  POD_SERVICE_ACCOUNT, SERVICE_EXPOSURE, TemplateDefinition,
} from './constraint-templates';
import { EnforcementAction } from './enforcement-action';
import { isDns1123Label } from '../model/names';
import { MeshPlatformProps } from '../model/platform';
import { resolvePlatform } from '../model/resolved-platform';

/** The label every object of this library carries. */
export const MANAGED_BY_LABEL = { key: 'app.kubernetes.io/managed-by', value: 'cdk-zero-trust-eks' };
/** The annotation that records a guardrail's namespace exemptions and their reasons (JSON). */
export const EXEMPTIONS_ANNOTATION = 'zero-trust.cdk.io/exemptions';

/** A namespace a guardrail does not apply to, and why. */
export interface GuardrailExemption {
  /** The namespace. */
  readonly namespace: string;
  /** Why the namespace is exempt (recorded in the synthesized output). */
  readonly reason: string;
}

/** Per-guardrail options. */
export interface GuardrailOptions {
  /**
   * What a violation does.
   * @default EnforcementAction.DENY
   */
  readonly enforcementAction?: EnforcementAction;
  /**
   * Namespaces the guardrail does not apply to, each with a reason. They are added to the
   * constraint's `spec.match.excludedNamespaces` (the binding's namespaceSelector for admission
   * policies) and recorded in its `zero-trust.cdk.io/exemptions` annotation.
   * @default - no exemptions beyond the system (and, where noted, platform) namespaces
   */
  readonly exemptions?: GuardrailExemption[];
}

/** Props of `ZeroTrustGuardrails`. */
export interface ZeroTrustGuardrailsProps {
  /**
   * The platform workloads (mesh root, ingress gateway, quarantine label), as given to `ZeroTrustPolicyChart`.
   * @default - the defaults of design.md section 2
   */
  readonly platform?: MeshPlatformProps;
  /**
   * Namespaces no guardrail applies to (Kubernetes and EKS system namespaces, Gatekeeper's own).
   * @default ['gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system']
   */
  readonly systemNamespaces?: string[];
  /**
   * Platform namespaces, where Helm charts the library does not render run: excluded from the
   * namespace-label, service-account and host-isolation guardrails only (their pods are bound by
   * the Pod Security level of their namespace).
   * @default - the mesh root namespace, the ingress gateway namespace and 'istio-cni'
   */
  readonly platformNamespaces?: string[];
  /**
   * The mesh label every namespace must carry.
   * @default - `istio-injection: enabled`
   */
  readonly meshLabel?: { [key: string]: string };
  /**
   * Image prefixes pods may use (each ending with `/`), e.g. `111122223333.dkr.ecr.eu-west-1.amazonaws.com/`.
   * @default ['docker.io/istio/'] - only the Istio images: name your registries
   */
  readonly allowedImageRegistries?: string[];
  /**
   * The pod annotation that, set to `"true"`, lets a pod mount its service account token.
   * @default 'zero-trust.cdk.io/kubernetes-api-access'
   */
  readonly apiAccessAnnotation?: string;
  /**
   * Identities that may change the quarantine label (the incident responder).
   * @default - the group `zero-trust:responders`
   */
  readonly responders?: AdmissionIdentities;
  /**
   * The break-glass identities: they may change the quarantine label and managed objects.
   * @default - the group `zero-trust:break-glass`
   */
  readonly breakGlass?: AdmissionIdentities;
  /**
   * Identities that deploy the library's objects (the kubectl provider, a GitOps controller).
   * @default - the group `zero-trust:deployers`
   */
  readonly deployers?: AdmissionIdentities;
  /** 1. Namespaces carry the mesh and Pod Security restricted labels. @default - deny */
  readonly namespaceLabels?: GuardrailOptions;
  /** 2. PeerAuthentication is STRICT (also per port). @default - deny */
  readonly peerAuthenticationStrict?: GuardrailOptions;
  /** 3. ALLOW AuthorizationPolicies name principals. @default - deny */
  readonly authorizationPrincipals?: GuardrailOptions;
  /** 4. LoadBalancer/NodePort Services only in the ingress namespace. @default - deny */
  readonly serviceExposure?: GuardrailOptions;
  /** 5. Dedicated service accounts, no token unless opted in. @default - deny */
  readonly podServiceAccount?: GuardrailOptions;
  /** 6. No host namespaces, privileged containers, host ports, hostPath. @default - deny */
  readonly hostIsolation?: GuardrailOptions;
  /** 7. Images only from allowed registries. @default - deny */
  readonly allowedRegistries?: GuardrailOptions;
  /** 8. The quarantine label changes only through responders and break-glass (ValidatingAdmissionPolicy). @default - deny */
  readonly quarantineLabel?: GuardrailOptions;
  /** 9. Managed objects change only through deployers and break-glass (ValidatingAdmissionPolicy). @default - deny */
  readonly managedObjects?: GuardrailOptions;
}

const DEFAULT_SYSTEM_NAMESPACES = ['gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system'];
const PSS_RESTRICTED = ['audit', 'enforce', 'warn'].map(mode => ({ key: `pod-security.kubernetes.io/${mode}`, value: 'restricted' }));

/**
 * Admission guardrails that refuse objects which break zero trust: OPA Gatekeeper
 * ConstraintTemplates written for its CEL engine (`K8sNativeValidation`) with their Constraints,
 * and two ValidatingAdmissionPolicies for the rules that depend on who sends the request
 * (quarantine label, managed objects). Put it in a cdk8s Chart without a namespace; Gatekeeper
 * and its CRDs must exist before the templates, and the templates before the constraints.
 */
export class ZeroTrustGuardrails extends Construct {
  /** The ConstraintTemplates (apply after Gatekeeper is running). */
  public readonly templates: ApiObject[] = [];
  /** The Constraints (apply after the templates: Gatekeeper creates their CRDs from them). */
  public readonly constraints: ApiObject[] = [];
  /** The ValidatingAdmissionPolicies and their bindings (need no Gatekeeper). */
  public readonly admissionPolicies: ApiObject[] = [];

  constructor(scope: Construct, id: string, props: ZeroTrustGuardrailsProps = {}) {
    super(scope, id);
    const owner = `ZeroTrustGuardrails '${this.node.path}'`;
    if (Chart.of(this).namespace !== undefined) {
      throw new Error(`${owner}: its chart has namespace '${Chart.of(this).namespace}', but the guardrails are cluster-scoped objects. `
        + 'Fix: put ZeroTrustGuardrails in a Chart without a namespace.');
    }
    const platform = resolvePlatform(props.platform);
    const system = checkNamespaces(owner, 'systemNamespaces', props.systemNamespaces ?? DEFAULT_SYSTEM_NAMESPACES);
    const platformNamespaces = checkNamespaces(owner, 'platformNamespaces',
      props.platformNamespaces ?? [platform.rootNamespace, platform.gatewayNamespace, 'istio-cni']);
    const meshLabel = Object.entries(props.meshLabel ?? { 'istio-injection': 'enabled' }).map(([key, value]) => ({ key, value }));
    const registries = checkRegistries(owner, props.allowedImageRegistries ?? ['docker.io/istio/']);

    const constraint = (template: TemplateDefinition, options: GuardrailOptions | undefined, excluded: string[], parameters?: object) =>
      this.addConstraint(owner, template, options, excluded, parameters);
    constraint(NAMESPACE_LABELS, props.namespaceLabels, [...system, ...platformNamespaces, 'default'],
      { labels: sortByKey([...meshLabel, ...PSS_RESTRICTED]) });
    constraint(PEER_AUTHENTICATION_STRICT, props.peerAuthenticationStrict, system);
    constraint(AUTHORIZATION_PRINCIPALS, props.authorizationPrincipals, system, {
      ingressGatewayNamespace: platform.gatewayNamespace,
      ingressGatewaySelector: sortedRecord(platform.gatewayLabels),
    });
    constraint(SERVICE_EXPOSURE, props.serviceExposure, system, { allowedNamespaces: [platform.gatewayNamespace] });
    constraint(POD_SERVICE_ACCOUNT, props.podServiceAccount, [...system, ...platformNamespaces],
      { optInAnnotation: props.apiAccessAnnotation ?? API_ACCESS_ANNOTATION });
    constraint(HOST_ISOLATION, props.hostIsolation, [...system, ...platformNamespaces]);
    constraint(ALLOWED_REGISTRIES, props.allowedRegistries, system, { registries });

    const responders = props.responders ?? { groups: ['zero-trust:responders'] };
    const breakGlass = props.breakGlass ?? { groups: ['zero-trust:break-glass'] };
    const deployers = props.deployers ?? { groups: ['zero-trust:deployers'] };
    this.addAdmissionPolicy(owner, quarantineLabelPolicy(platform.quarantineLabel,
      identityExpression(resolveIdentities(owner, 'responders/breakGlass', responders, breakGlass))), props.quarantineLabel);
    this.addAdmissionPolicy(owner, managedObjectsPolicy(MANAGED_BY_LABEL,
      identityExpression(resolveIdentities(owner, 'deployers/breakGlass', deployers, breakGlass))), props.managedObjects);
  }

  private addConstraint(owner: string, template: TemplateDefinition, options: GuardrailOptions | undefined, excluded: string[],
    parameters?: object): void {
    const name = template.kind.toLowerCase();
    const templateObject = new ApiObject(this, `Template-${template.kind}`, {
      apiVersion: 'templates.gatekeeper.sh/v1',
      kind: 'ConstraintTemplate',
      metadata: { name, labels: managedLabels(), annotations: { description: template.description } },
      spec: {
        crd: {
          spec: {
            names: { kind: template.kind },
            ...(template.parameters ? { validation: { openAPIV3Schema: template.parameters } } : {}),
          },
        },
        targets: [{
          target: 'admission.k8s.gatekeeper.sh',
          code: [{
            engine: 'K8sNativeValidation',
            source: {
              variables: template.variables.map(v => ({ name: v.name, expression: v.expression })),
              validations: template.validations.map(v => ({ expression: v.expression, message: v.message, messageExpression: v.messageExpression })),
            },
          }],
        }],
      },
    });
    this.templates.push(templateObject);

    const exemptions = checkExemptions(owner, template.kind, options?.exemptions ?? []);
    const constraintObject = new ApiObject(this, `Constraint-${template.kind}`, {
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      kind: template.kind,
      metadata: { name: kebab(template.kind), labels: managedLabels(), annotations: exemptionAnnotations(exemptions) },
      spec: {
        enforcementAction: (options?.enforcementAction ?? EnforcementAction.DENY).value,
        match: {
          kinds: template.match.map(m => ({ apiGroups: m.apiGroups, kinds: m.kinds })),
          excludedNamespaces: [...new Set([...excluded, ...exemptions.map(e => e.namespace)])].sort(),
        },
        ...(parameters ? { parameters } : {}),
      },
    });
    constraintObject.addDependency(templateObject);
    this.constraints.push(constraintObject);
  }

  private addAdmissionPolicy(owner: string, policy: AdmissionPolicyDefinition, options: GuardrailOptions | undefined): void {
    const policyObject = new ApiObject(this, `Policy-${policy.name}`, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policy.name, labels: managedLabels(), annotations: { description: policy.description } },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: policy.resourceRules, objectSelector: policy.objectSelector },
        variables: policy.variables,
        validations: policy.validations.map(v => ({ expression: v.expression, message: v.message, messageExpression: v.messageExpression, reason: 'Forbidden' })),
      },
    });
    const exemptions = checkExemptions(owner, policy.name, options?.exemptions ?? []);
    const binding = new ApiObject(this, `Binding-${policy.name}`, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policy.name, labels: managedLabels(), annotations: exemptionAnnotations(exemptions) },
      spec: {
        policyName: policy.name,
        validationActions: (options?.enforcementAction ?? EnforcementAction.DENY).validationActions,
        ...(exemptions.length > 0 ? {
          matchResources: {
            namespaceSelector: {
              matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: exemptions.map(e => e.namespace) }],
            },
          },
        } : {}),
      },
    });
    binding.addDependency(policyObject);
    this.admissionPolicies.push(policyObject, binding);
  }
}

function managedLabels(): { [key: string]: string } {
  return { [MANAGED_BY_LABEL.key]: MANAGED_BY_LABEL.value };
}

function exemptionAnnotations(exemptions: GuardrailExemption[]): { [key: string]: string } | undefined {
  if (exemptions.length === 0) return undefined;
  return { [EXEMPTIONS_ANNOTATION]: JSON.stringify(exemptions.map(e => ({ namespace: e.namespace, reason: e.reason }))) };
}

function checkExemptions(owner: string, guardrail: string, exemptions: GuardrailExemption[]): GuardrailExemption[] {
  const seen = new Set<string>();
  for (const e of exemptions) {
    if (!isDns1123Label(e.namespace)) {
      throw new Error(`${owner}: ${guardrail} exemption "${e.namespace}" is not a namespace name. Fix: name an existing namespace.`);
    }
    if (e.reason.trim() === '') {
      throw new Error(`${owner}: ${guardrail} exemption of namespace "${e.namespace}" has no reason. Fix: say why the namespace is exempt; it is recorded in the output.`);
    }
    if (seen.has(e.namespace)) {
      throw new Error(`${owner}: ${guardrail} exempts namespace "${e.namespace}" twice. Fix: keep one exemption with one reason.`);
    }
    seen.add(e.namespace);
  }
  return [...exemptions].sort((a, b) => a.namespace.localeCompare(b.namespace));
}

function checkNamespaces(owner: string, what: string, namespaces: string[]): string[] {
  for (const ns of namespaces) {
    if (!isDns1123Label(ns)) {
      throw new Error(`${owner}: ${what} contains "${ns}", which is not a namespace name.`);
    }
  }
  return [...new Set(namespaces)].sort();
}

function checkRegistries(owner: string, registries: string[]): string[] {
  if (registries.length === 0) {
    throw new Error(`${owner}: allowedImageRegistries is empty, so no pod could start. Fix: name your registries (e.g. this account's ECR).`);
  }
  for (const r of registries) {
    if (!r.includes('${Token[') && (!r.endsWith('/') || r.length < 2)) {
      throw new Error(`${owner}: allowed image registry "${r}" must end with "/" (a prefix like "docker.io/istio" also admits "docker.io/istio-evil/"). `
        + `Fix: write "${r}/".`);
    }
  }
  return [...new Set(registries)].sort();
}

function sortByKey<T extends { key: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.key.localeCompare(b.key));
}

function sortedRecord(record: { [key: string]: string }): { [key: string]: string } {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

function kebab(kind: string): string {
  return kind.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}
