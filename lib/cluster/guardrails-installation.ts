import { Duration } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { App as Cdk8sApp, Chart } from 'cdk8s';
import { Construct, IDependable } from 'constructs';
import { GuardrailOptions, ZeroTrustGuardrails, ZeroTrustGuardrailsProps } from '../governance';
import { gatekeeperNamespaceObjects } from '../governance/gatekeeper-namespace';

/** Options of the admission guardrails a `ZeroTrustCluster` installs. */
export interface ClusterGuardrailsOptions {
  /**
   * Image prefixes pods may use, each ending with `/`. Replaces the default list.
   * @default - this account's ECR in this region, the EKS add-on registry of this region, `docker.io/istio/` and `docker.io/openpolicyagent/`
   */
  readonly allowedImageRegistries?: string[];
  /**
   * The OPA Gatekeeper Helm chart version (a released 3.2x; the image tag is `v<version>`).
   * @default '3.22.2'
   */
  readonly gatekeeperVersion?: string;
  /**
   * Replicas of Gatekeeper's admission webhook; the disruption budget keeps all but one available.
   * @default 3
   */
  readonly gatekeeperReplicas?: number;
  /** 1. Namespaces carry the mesh and Pod Security restricted labels. @default - deny, no exemptions */
  readonly namespaceLabels?: GuardrailOptions;
  /** 2. PeerAuthentication is STRICT (also per port). @default - deny, no exemptions */
  readonly peerAuthenticationStrict?: GuardrailOptions;
  /** 3. ALLOW AuthorizationPolicies name principals. @default - deny, no exemptions */
  readonly authorizationPrincipals?: GuardrailOptions;
  /** 4. LoadBalancer/NodePort Services only in the ingress namespace. @default - deny, no exemptions */
  readonly serviceExposure?: GuardrailOptions;
  /** 5. Dedicated service accounts, no token unless opted in. @default - deny, no exemptions */
  readonly podServiceAccount?: GuardrailOptions;
  /** 6. No host namespaces, privileged containers, host ports, hostPath. @default - deny, no exemptions */
  readonly hostIsolation?: GuardrailOptions;
  /** 7. Images only from allowed registries. @default - deny, no exemptions */
  readonly allowedRegistries?: GuardrailOptions;
  /** 8. The quarantine label changes only through responders and break-glass. @default - deny, no exemptions */
  readonly quarantineLabel?: GuardrailOptions;
  /** 9. Managed objects change only through the kubectl handler and break-glass. @default - deny, no exemptions */
  readonly managedObjects?: GuardrailOptions;
}

/** Props of `GuardrailsInstallation`. */
export interface GuardrailsInstallationProps {
  /** The cluster (with a kubectl provider). */
  readonly cluster: eks.ICluster;
  /** The guardrails, with identities, platform and registries resolved by the cluster. */
  readonly guardrails: ZeroTrustGuardrailsProps;
  /** The Gatekeeper chart version. */
  readonly gatekeeperVersion: string;
  /** Webhook replicas (2 or more). */
  readonly gatekeeperReplicas: number;
  /** The control-plane ENI subnets' CIDRs. */
  readonly controlPlaneCidrs: string[];
  /** The `kubernetes` Service ClusterIP as a /32. */
  readonly apiServerServiceCidr: string;
  /**
   * The cluster's Kubernetes version, for the namespace's Pod Security `enforce-version`.
   * @default - 'latest'
   */
  readonly kubernetesVersion?: string;
}

/** Gatekeeper's namespace (it is also excluded from every guardrail). */
export const GATEKEEPER_NAMESPACE = 'gatekeeper-system';
/** Gatekeeper's Helm repository. */
export const GATEKEEPER_REPOSITORY = 'https://open-policy-agent.github.io/gatekeeper/charts';
const WEBHOOK_PORT = 8443;

/**
 * Installs the admission guardrails: Gatekeeper's namespace with its NetworkPolicies, then
 * Gatekeeper from its pinned Helm chart (webhook fail-closed, replicas with a disruption budget,
 * audit on), then the ConstraintTemplates, then, once Gatekeeper has established each
 * constraint CRD (read back by a `KubernetesObjectValue` that polls until the CRD's Established
 * condition is True), the Constraints. The ValidatingAdmissionPolicies are a separate manifest the
 * cluster applies after its own policy manifests.
 */
export class GuardrailsInstallation extends Construct {
  /** The Gatekeeper Helm release. */
  public readonly gatekeeper: eks.HelmChart;
  /** The Helm values of Gatekeeper (for inspection and tests). */
  public readonly gatekeeperValues: { [key: string]: unknown };
  /** The ConstraintTemplates manifest. */
  public readonly templates: eks.KubernetesManifest;
  /** The Constraints manifest: depend on it to be admitted only by live guardrails. */
  public readonly constraints: eks.KubernetesManifest;
  /** The ValidatingAdmissionPolicies and their bindings. */
  public readonly admissionPolicies: eks.KubernetesManifest;
  /** Every Kubernetes object this installation applies (not the chart's), for tests and reviews. */
  public readonly objects: Record<string, unknown>[];

  private readonly cluster: eks.ICluster;

  constructor(scope: Construct, id: string, props: GuardrailsInstallationProps) {
    super(scope, id);
    this.cluster = props.cluster;
    const chart = new Chart(new Cdk8sApp(), 'guardrails');
    const guardrails = new ZeroTrustGuardrails(chart, 'guardrails', props.guardrails);
    const json = (objects: { toJson(): unknown }[]) => objects.map(o => o.toJson() as Record<string, unknown>);

    const namespaceObjects = gatekeeperNamespaceObjects({
      namespace: GATEKEEPER_NAMESPACE,
      controlPlaneCidrs: props.controlPlaneCidrs,
      apiServerServiceCidr: props.apiServerServiceCidr,
      webhookPort: WEBHOOK_PORT,
      webhookPodLabels: { 'control-plane': 'controller-manager', 'gatekeeper.sh/operation': 'webhook' },
      kubernetesVersion: props.kubernetesVersion,
    });
    const namespace = this.manifest('Namespace', namespaceObjects);

    const version = props.gatekeeperVersion;
    const image = `v${version}`;
    this.gatekeeperValues = {
      replicas: props.gatekeeperReplicas,
      pdb: { controllerManager: { minAvailable: props.gatekeeperReplicas - 1 } },
      // Fail closed: a request Gatekeeper cannot judge is refused (README "Guardrails": the trade-off).
      validatingWebhookFailurePolicy: 'Fail',
      validatingWebhookTimeoutSeconds: 5,
      // EKS add-ons in kube-system must restart even while Gatekeeper is down.
      validatingWebhookExemptNamespacesLabels: { 'kubernetes.io/metadata.name': ['kube-system'] },
      enableK8sNativeValidation: true,
      disableMutation: true,
      disableAudit: false,
      auditInterval: 60,
      logDenies: true,
      // Registry-qualified images, so the allowed-registries constraint can name them.
      image: { repository: 'docker.io/openpolicyagent/gatekeeper', crdRepository: 'docker.io/openpolicyagent/gatekeeper-crds', release: image },
      // The namespace is ours (labelled, with its NetworkPolicies); no post-install jobs that would need more egress.
      postInstall: { labelNamespace: { enabled: false }, probeWebhook: { enabled: false } },
      controllerManager: { port: WEBHOOK_PORT, networkPolicy: { enabled: false } },
    };
    this.gatekeeper = new eks.HelmChart(this, 'Gatekeeper', {
      cluster: props.cluster,
      chart: 'gatekeeper',
      release: 'gatekeeper',
      repository: GATEKEEPER_REPOSITORY,
      version,
      namespace: GATEKEEPER_NAMESPACE,
      createNamespace: false,
      values: this.gatekeeperValues,
      // Helm waits until the webhook's pods are ready: nothing is judged by a webhook that cannot answer.
      wait: true,
      timeout: Duration.minutes(10),
    });
    this.gatekeeper.node.addDependency(namespace);

    const templateObjects = json(guardrails.templates);
    this.templates = this.manifest('Templates', templateObjects);
    this.templates.node.addDependency(this.gatekeeper);

    // Gatekeeper creates one CRD per template, asynchronously; a Constraint applied before its CRD is
    // established fails ("no matches for kind"). Each value polls (every 10 s, up to its timeout)
    // until the CRD reports Established=True.
    const crdReady: IDependable[] = templateObjects.map(t => {
      const kind = String((((t.spec as Record<string, any>).crd.spec.names) as { kind: string }).kind);
      const ready = new eks.KubernetesObjectValue(this, `CrdEstablished-${kind}`, {
        cluster: props.cluster,
        objectType: 'customresourcedefinition',
        objectName: `${kind.toLowerCase()}.constraints.gatekeeper.sh`,
        jsonPath: '.status.conditions[?(@.type=="Established")].status',
        timeout: Duration.minutes(5),
      });
      ready.node.addDependency(this.templates);
      return ready;
    });

    const constraintObjects = json(guardrails.constraints);
    this.constraints = this.manifest('Constraints', constraintObjects);
    crdReady.forEach(r => this.constraints.node.addDependency(r));

    const policyObjects = json(guardrails.admissionPolicies);
    this.admissionPolicies = this.manifest('AdmissionPolicies', policyObjects);
    this.admissionPolicies.node.addDependency(this.constraints);
    this.objects = [...namespaceObjects, ...templateObjects, ...constraintObjects, ...policyObjects];
  }

  private manifest(id: string, objects: Record<string, unknown>[]): eks.KubernetesManifest {
    return new eks.KubernetesManifest(this, id, { cluster: this.cluster, manifest: objects, overwrite: true });
  }
}
