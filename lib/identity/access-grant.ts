import { Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { checkNamespaceList, editorGroup, secretEditorGroup } from '../governance/rbac';

/**
 * What a human principal may do in its namespaces. Cluster-wide admin is not a level: it exists
 * only through the break-glass role.
 */
export class AccessLevel {
  /**
   * Read most objects (not Secrets) through AWS's AmazonEKSViewPolicy, namespace-scoped.
   */
  public static readonly VIEW = new AccessLevel('view');
  /**
   * VIEW, plus the library's editor Role: change workloads, Services, ConfigMaps and
   * VirtualServices; never NetworkPolicies, Istio security kinds, RBAC, exec, attach or
   * port-forward; Secrets only with `secrets: true`. (AWS's AmazonEKSEditPolicy is not used: it
   * lets a holder exec into pods, read Secrets and rewrite NetworkPolicies.)
   */
  public static readonly EDIT = new AccessLevel('edit');

  private constructor(
    /** The level's name. */
    public readonly name: string,
  ) {}
}

/** Options of `ZeroTrustCluster.grantAccess`. */
export interface AccessGrantOptions {
  /** The namespaces the principal works in: each one a namespace of a service declared on the cluster. */
  readonly namespaces: string[];
  /** What the principal may do there. */
  readonly level: AccessLevel;
  /**
   * Also read and write Secrets in those namespaces (EDIT only). Off unless asked: a Secret is a
   * credential, and reading it is a way around every other boundary.
   * @default false
   */
  readonly secrets?: boolean;
}

/** Props of `NamespaceAccessGrant`. */
export interface NamespaceAccessGrantProps extends AccessGrantOptions {
  /** The cluster. */
  readonly cluster: eks.ICluster;
  /** The IAM role or user ARN that gets access. */
  readonly principalArn: string;
}

/** The AWS access policy viewers and editors get, namespace-scoped. */
export const VIEW_POLICY = 'AmazonEKSViewPolicy';

/**
 * An EKS access entry scoped to namespaces (controls.md EKS-06). Viewers get AWS's view policy
 * scoped to the namespaces; editors also carry Kubernetes groups that the cluster binds, in each
 * namespace, to the library's editor Role (and, when asked, its Secrets Role).
 */
export class NamespaceAccessGrant extends Construct {
  /** The access entry. */
  public readonly accessEntry: eks.CfnAccessEntry;
  /** The namespaces, sorted. */
  public readonly namespaces: string[];
  /** The Kubernetes groups of the entry. */
  public readonly kubernetesGroups: string[];
  /** The level. */
  public readonly level: AccessLevel;
  /** Whether editors may use Secrets. */
  public readonly secrets: boolean;

  constructor(scope: Construct, id: string, props: NamespaceAccessGrantProps) {
    super(scope, id);
    const owner = `ZeroTrustCluster.grantAccess '${this.node.path}'`;
    checkPrincipalArn(owner, props.principalArn);
    this.namespaces = checkNamespaceList(owner, 'namespaces', props.namespaces);
    this.level = props.level;
    this.secrets = props.secrets ?? false;
    if (this.secrets && this.level !== AccessLevel.EDIT) {
      throw new Error(`${owner}: secrets is true with level ${this.level.name}. Fix: Secrets go only with AccessLevel.EDIT; leave secrets out for viewers.`);
    }
    this.kubernetesGroups = this.level === AccessLevel.EDIT
      ? this.namespaces.flatMap(ns => (this.secrets ? [editorGroup(ns), secretEditorGroup(ns)] : [editorGroup(ns)]))
      : [];
    this.accessEntry = new eks.CfnAccessEntry(this, 'AccessEntry', {
      clusterName: props.cluster.clusterName,
      principalArn: props.principalArn,
      type: 'STANDARD',
      ...(this.kubernetesGroups.length > 0 ? { kubernetesGroups: this.kubernetesGroups } : {}),
      accessPolicies: [{
        policyArn: `arn:${props.cluster.stack.partition}:eks::aws:cluster-access-policy/${VIEW_POLICY}`,
        accessScope: { type: 'namespace', namespaces: this.namespaces },
      }],
    });
  }
}

const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

function checkPrincipalArn(owner: string, arn: string): void {
  if (Token.isUnresolved(arn)) return;
  if (!PRINCIPAL_ARN.test(arn)) {
    throw new Error(`${owner}: principal "${arn}" is not an IAM role or user ARN. `
      + 'Fix: pass a role ARN such as "arn:aws:iam::111122223333:role/ShopDevelopers" (role.roleArn).');
  }
}
