import { CfnJson, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AwsApi } from './aws-api';
import { WorkloadIdentity } from './workload-identity';
import { API_ACCESS_ANNOTATION } from '../governance/constraint-templates';
import { checkApiRules, KubernetesApiRule, serviceAccountObjects } from '../governance/rbac';
import { AllowOptions } from '../model/allow-options';
import { declarationError } from '../model/errors';
import { IMicroservice, Microservice, MicroserviceOptions } from '../model/microservice';
import { ServicePort } from '../model/service-port';

/** Options of `ZeroTrustCluster.addService`. */
export interface ClusterServiceOptions extends MicroserviceOptions {
  /**
   * AWS APIs the service calls besides those its grants imply. Each opens egress to the VPC
   * endpoint subnets on 443 and its regional hosts in the mesh, for this service only.
   * @default - derived from the IAM actions granted to the service (e.g. `bucket.grantWrite(svc)` opens S3), plus STS with IRSA
   */
  readonly awsApis?: AwsApi[];
  /**
   * How the pods get AWS credentials.
   * @default WorkloadIdentity.IRSA
   */
  readonly identity?: WorkloadIdentity;
  /**
   * Kubernetes API access of the service account, by name: a namespace-scoped Role with exactly
   * these rules and a RoleBinding to the service account. Wildcards, `escalate`, `bind`,
   * `impersonate`, exec/attach/port-forward and token sub-resources are refused. The pods must also
   * opt in to mounting their token with the annotation `kubernetesApiAccessAnnotation` (the
   * pod-service-account guardrail denies a mounted token otherwise).
   * @default - no Kubernetes RBAC: the service account can do nothing with the API
   */
  readonly kubernetesApiAccess?: KubernetesApiRule[];
}

/** What a cluster service needs from its cluster. */
export interface ClusterServiceProps extends ClusterServiceOptions {
  readonly cluster: eks.ICluster;
  /** The service declared in the cluster's policy chart. */
  readonly microservice: Microservice;
}

/**
 * A service of a `ZeroTrustCluster`: both the policy model's microservice (same `allowFrom`) and
 * an `iam.IGrantable` backed by a role that only this service account can assume (created at
 * the first grant).
 * `bucket.grantWrite(service)` puts the permission on that role and opens S3 for the service.
 */
export class ClusterService extends Construct implements IMicroservice, iam.IGrantable {
  public readonly name: string;
  public readonly namespace: string;
  public readonly serviceAccountName: string;
  public readonly podLabels: { [key: string]: string };
  public readonly ports: ServicePort[];
  public readonly principal: string;
  private _role?: iam.Role;
  /** How the pods get credentials. */
  public readonly identity: WorkloadIdentity;
  /** The service in the Kubernetes policy model. */
  public readonly microservice: Microservice;
  /** The service account's Kubernetes API rules (empty: no RBAC). */
  public readonly kubernetesApiAccess: KubernetesApiRule[];
  private readonly extraApis: AwsApi[];
  private readonly cluster: eks.ICluster;

  constructor(scope: Construct, id: string, props: ClusterServiceProps) {
    super(scope, id);
    const svc = props.microservice;
    this.microservice = svc;
    this.name = svc.name;
    this.namespace = svc.namespace;
    this.serviceAccountName = svc.serviceAccountName;
    this.podLabels = svc.podLabels;
    this.ports = svc.ports;
    this.principal = svc.principal;
    this.identity = props.identity ?? WorkloadIdentity.IRSA;
    this.extraApis = [...(props.awsApis ?? [])];
    if (props.kubernetesApiAccess !== undefined) {
      checkApiRules(`ZeroTrustCluster.addService('${svc.name}')`, 'kubernetesApiAccess', props.kubernetesApiAccess);
    }
    this.kubernetesApiAccess = [...(props.kubernetesApiAccess ?? [])];

    this.cluster = props.cluster;
    if (this.extraApis.length > 0) {
      void this.role;
    }
  }

  /**
   * The role the pods run as, created on first use (a grant, or reading it): a service that never
   * touches AWS gets no role, no credentials and no AWS API egress.
   */
  public get role(): iam.Role {
    if (!this._role) {
      this._role = this.createRole();
    }
    return this._role;
  }

  /**
   * Whether the pods fetch credentials from the EKS Pod Identity Agent (169.254.170.23:80 on their
   * node): a Pod Identity service whose role (and so its association) exists. Read at rendering.
   */
  public get usesPodIdentityAgent(): boolean {
    return this.identity === WorkloadIdentity.POD_IDENTITY && this._role !== undefined;
  }

  /** The principal that grants go to: this service's role. */
  public get grantPrincipal(): iam.IPrincipal {
    return this.role;
  }

  /**
   * Refuses an AWS identity for a service account that another service also runs as: both pods would
   * hold the role (IRSA trusts the account, not the service), and EKS allows one Pod Identity
   * association per account. Checked when the role is created and again at rendering.
   * @internal
   */
  public _checkIdentityNotShared(): void {
    if (this._role !== undefined) {
      this.refuseSharedIdentity();
    }
  }

  private refuseSharedIdentity(): void {
    const twin = this.microservice._model.sharingIdentity(this.microservice);
    if (twin !== undefined) {
      throw declarationError(`ZeroTrustCluster.addService('${this.name}')`, 'serviceAccountName', this.serviceAccountName,
        `is shared with service '${twin.name}' in namespace '${this.namespace}', so an AWS role for '${this.name}' would be held by '${twin.name}' too`,
        `give '${this.name}' a dedicated serviceAccountName before granting it AWS access`);
    }
  }

  private createRole(): iam.Role {
    this.refuseSharedIdentity();
    const svc = this.microservice;
    if (this.identity === WorkloadIdentity.POD_IDENTITY) {
      // Only the EKS Pod Identity service may assume it (AssumeRole + TagSession), and only on behalf of this
      // account's cluster: the confused-deputy conditions of controls.md IAM-02.
      const assumedBy = new iam.PrincipalWithConditions(new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(), {
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        ArnEquals: { 'aws:SourceArn': this.cluster.clusterArn },
      });
      const role = new iam.Role(this, 'Role', {
        description: `EKS Pod Identity role of ${svc.namespace}/${svc.serviceAccountName}`,
        assumedBy,
      });
      new eks.CfnPodIdentityAssociation(this, 'Association', {
        clusterName: this.cluster.clusterName,
        namespace: svc.namespace,
        serviceAccount: svc.serviceAccountName,
        roleArn: role.roleArn,
      });
      return role;
    }
    const provider = this.cluster.openIdConnectProvider;
    const issuer = provider.openIdConnectProviderIssuer;
    // Trust pinned to exactly this service account and audience (controls.md IAM-01).
    const conditions = new CfnJson(this, 'TrustConditions', {
      value: {
        [`${issuer}:sub`]: `system:serviceaccount:${svc.namespace}:${svc.serviceAccountName}`,
        [`${issuer}:aud`]: 'sts.amazonaws.com',
      },
    });
    const role = new iam.Role(this, 'Role', {
      description: `IRSA role of ${svc.namespace}/${svc.serviceAccountName}`,
      assumedBy: new iam.WebIdentityPrincipal(provider.openIdConnectProviderArn, { StringEquals: conditions }),
    });
    svc.annotateServiceAccount('eks.amazonaws.com/role-arn', role.roleArn);
    return role;
  }

  /**
   * The pod template annotation (`<key>: "true"`) the service's pods need to mount their service
   * account token, when it has Kubernetes API access.
   */
  public get kubernetesApiAccessAnnotation(): string {
    return API_ACCESS_ANNOTATION;
  }

  /** The Role and RoleBinding of the service account (none unless `kubernetesApiAccess` was given). @internal */
  public _rbacObjects(): Record<string, unknown>[] {
    return this.kubernetesApiAccess.length === 0 ? [] : serviceAccountObjects(this.namespace, this.serviceAccountName, this.kubernetesApiAccess);
  }

  public allowFrom(caller: IMicroservice, options: AllowOptions = {}): void {
    this.microservice.allowFrom(caller, options);
  }

  public allowFromIngressGateway(options: AllowOptions = {}): void {
    this.microservice.allowFromIngressGateway(options);
  }

  /**
   * The AWS APIs this service may reach: none without a role; else those given, those whose IAM
   * actions the role has been granted, and STS with IRSA (AssumeRoleWithWebIdentity). A Pod
   * Identity service gets its credentials from the node's agent instead (`usesPodIdentityAgent`),
   * so it reaches STS only if given or granted. Read when the policies are rendered, after every grant.
   */
  public awsApis(): AwsApi[] {
    if (!this._role) {
      return [];
    }
    const apis = new Set<AwsApi>(this.extraApis);
    if (this.identity === WorkloadIdentity.IRSA) {
      apis.add(AwsApi.STS);
    }
    for (const prefix of grantedPrefixes(this._role)) {
      const api = AwsApi.forIamPrefix(prefix);
      if (api) {
        apis.add(api);
      }
    }
    return AwsApi.all().filter(a => apis.has(a));
  }
}

/** The IAM service prefixes of every action in the role's identity policies. */
function grantedPrefixes(role: iam.Role): string[] {
  const stack = Stack.of(role);
  const prefixes = new Set<string>();
  for (const child of role.node.findAll()) {
    if (child instanceof iam.Policy) {
      const doc = stack.resolve(child.document.toJSON()) as { Statement?: { Action?: string | string[]; Effect?: string }[] } | undefined;
      for (const st of doc?.Statement ?? []) {
        if (st.Effect !== 'Allow') {
          continue;
        }
        for (const action of Array.isArray(st.Action) ? st.Action : st.Action ? [st.Action] : []) {
          prefixes.add(action.split(':')[0]);
        }
      }
    }
  }
  return [...prefixes].sort();
}
