import { Aws } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { ClusterGuardrailsOptions } from './guardrails-installation';
import { ZeroTrustGuardrailsProps } from '../governance';
import { editorObjects } from '../governance/rbac';
import { AccessLevel, NamespaceAccessGrant } from '../identity/access-grant';
import { assumedRolePrefix } from '../identity/assumed-role';
import { ClusterService } from '../identity/cluster-service';
import { MeshPlatformProps } from '../model/platform';
import { resolvePlatform } from '../model/resolved-platform';

/**
 * Namespaces no guardrail applies to on an EKS cluster: Kubernetes' own and Gatekeeper's (the
 * guardrails' defaults), plus the namespaces of the AWS-managed add-ons this library installs or
 * offers, whose pods EKS renders and keeps: `amazon-cloudwatch` (the CloudWatch agent and Fluent Bit
 * DaemonSets read host logs through hostPath volumes and call the API with their tokens) and
 * `amazon-guardduty` (the runtime monitoring agent runs privileged in the host PID namespace). The
 * guardrails would refuse their pods; no tenant has RBAC there.
 */
export const EKS_SYSTEM_NAMESPACES: readonly string[] = [
  'amazon-cloudwatch', 'amazon-guardduty', 'gatekeeper-system', 'kube-node-lease', 'kube-public', 'kube-system',
];

/** The Kubernetes group of the incident responder's access entry. */
export const RESPONDERS_GROUP = 'zero-trust:responders';

/**
 * The default image registries: this account's ECR in this region, the EKS add-on registry of this
 * region (account 602401143452 serves most regions), Istio's and Gatekeeper's Docker Hub images.
 */
export function defaultRegistries(): string[] {
  return [
    `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/`,
    `602401143452.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/`,
    'docker.io/istio/',
    'docker.io/openpolicyagent/',
  ];
}

/**
 * The guardrails' props on a cluster: deployers = the kubectl handler's role (its sessions), the
 * responders' group, break-glass = the break-glass role's sessions.
 */
export function guardrailsProps(cluster: eks.Cluster, breakGlassPrefix: string, platform: MeshPlatformProps | undefined,
  options: ClusterGuardrailsOptions = {}): ZeroTrustGuardrailsProps {
  const kubectlRole = cluster.kubectlProvider?.role;
  const gatewayNamespace = resolvePlatform(platform).gatewayNamespace;
  const registries = options.allowedRegistries;
  const userExemptions = registries?.exemptions ?? [];
  const gatewayExempt = userExemptions.some(e => e.namespace === gatewayNamespace);
  const gatewayExemption = {
    namespace: gatewayNamespace,
    reason: 'The Istio gateway chart\'s Deployment names its image "auto", which the Istio injector replaces with docker.io/istio/proxyv2 '
      + 'on each pod; only the Istio Helm release deploys here.',
  };
  return {
    platform,
    systemNamespaces: [...EKS_SYSTEM_NAMESPACES],
    allowedImageRegistries: options.allowedImageRegistries ?? defaultRegistries(),
    deployers: kubectlRole ? { usernamePrefixes: [assumedRolePrefix(kubectlRole.roleName)] } : { groups: ['zero-trust:deployers'] },
    responders: { groups: [RESPONDERS_GROUP] },
    breakGlass: { usernamePrefixes: [breakGlassPrefix] },
    namespaceLabels: options.namespaceLabels,
    peerAuthenticationStrict: options.peerAuthenticationStrict,
    authorizationPrincipals: options.authorizationPrincipals,
    serviceExposure: options.serviceExposure,
    podServiceAccount: options.podServiceAccount,
    hostIsolation: options.hostIsolation,
    allowedRegistries: {
      enforcementAction: registries?.enforcementAction,
      exemptions: gatewayExempt ? userExemptions : [...userExemptions, gatewayExemption],
    },
    quarantineLabel: options.quarantineLabel,
    managedObjects: options.managedObjects,
  };
}

/**
 * The RBAC objects of the cluster: the editor Roles and bindings of every namespace an editor was
 * granted (the Secrets Role only where a grant asked for it), and each service's API Role.
 */
export function rbacManifestObjects(grants: readonly NamespaceAccessGrant[], services: readonly ClusterService[]): Record<string, unknown>[] {
  const editorNamespaces = new Map<string, boolean>();
  for (const grant of grants) {
    if (grant.level !== AccessLevel.EDIT) continue;
    for (const ns of grant.namespaces) {
      editorNamespaces.set(ns, (editorNamespaces.get(ns) ?? false) || grant.secrets);
    }
  }
  return [
    ...[...editorNamespaces].sort(([a], [b]) => a.localeCompare(b)).flatMap(([ns, secrets]) => editorObjects(ns, secrets)),
    ...services.flatMap(s => s._rbacObjects()),
  ];
}
