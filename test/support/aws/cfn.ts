/**
 * Reading a synthesized CloudFormation template the way a reviewer does: resources by type and
 * properties (never by position), intrinsic functions rendered to readable placeholders, the
 * Kubernetes objects embedded in `Custom::AWSCDK-EKS-KubernetesResource` manifests, and the
 * transitive closure of `DependsOn`.
 */

/** One resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, any>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Condition?: string;
}

/** A template as JSON. */
export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly [key: string]: any;
}

/** A Kubernetes object as JSON. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [key: string]: any;
}

export const KUBERNETES_RESOURCE = 'Custom::AWSCDK-EKS-KubernetesResource';
export const HELM_CHART = 'Custom::AWSCDK-EKS-HelmChart';

/** The label aws-eks-v2 adds to every object of a manifest resource when pruning is on (its value is ''). */
export const PRUNE_LABEL_PREFIX = 'aws.cdk.eks/prune-';

/** Every resource of a type, as [logicalId, resource] pairs. */
export function resourcesOfType(template: CfnTemplate, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The one resource of a type that satisfies `predicate`; fails with the candidates when there is none or several. */
export function onlyResource(
  template: CfnTemplate, type: string, what: string, predicate: (r: CfnResource, id: string) => boolean,
): [string, CfnResource] {
  const all = resourcesOfType(template, type);
  const found = all.filter(([id, r]) => predicate(r, id));
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${type} that is ${what}, found ${found.length} (${found.map(([id]) => id).join(', ') || 'none'}) `
      + `among ${all.map(([id]) => id).join(', ')}`);
  }
  return found[0];
}

/** Whether a value is a CloudFormation intrinsic function (`{ Ref: ... }`, `{ 'Fn::...': ... }`). */
export function isIntrinsic(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return false;
  }
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'));
}

/** The logical id (or pseudo parameter) a `{ Ref }` names, else undefined. */
export function refOf(value: unknown): string | undefined {
  return isIntrinsic(value) && typeof value.Ref === 'string' ? value.Ref : undefined;
}

/** `[logicalId, attribute]` of a `{ 'Fn::GetAtt' }`, else undefined. */
export function getAttOf(value: unknown): [string, string] | undefined {
  if (!isIntrinsic(value)) {
    return undefined;
  }
  const att = value['Fn::GetAtt'];
  return Array.isArray(att) && att.length === 2 ? [String(att[0]), String(att[1])] : undefined;
}

/** Every logical id or pseudo parameter an intrinsic references (Ref and GetAtt), sorted. */
export function referencedIds(value: unknown): string[] {
  const ids = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v !== null && typeof v === 'object') {
      const ref = refOf(v);
      const att = getAttOf(v);
      if (ref !== undefined) {
        ids.add(ref);
      } else if (att) {
        ids.add(att[0]);
      } else {
        Object.values(v).forEach(walk);
      }
    }
  };
  walk(value);
  return [...ids].sort();
}

/**
 * A string, or an intrinsic rendered as a placeholder that cannot break the JSON it sits in:
 * `<<Ref:Id>>`, `<<GetAtt:Id.Attr>>`, `Fn::Join` joined part by part, and any other function as
 * `<<Fn::Name:ids it references>>` (e.g. the OIDC issuer `<<Fn::Select:OidcProviderId>>`).
 */
export function render(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  if (!isIntrinsic(value)) {
    throw new Error(`not a string or an intrinsic: ${JSON.stringify(value)}`);
  }
  const ref = refOf(value);
  if (ref !== undefined) {
    return `<<Ref:${ref}>>`;
  }
  const att = getAttOf(value);
  if (att) {
    return `<<GetAtt:${att[0]}.${att[1]}>>`;
  }
  const join = value['Fn::Join'];
  if (Array.isArray(join) && join.length === 2 && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map(render).join(String(join[0]));
  }
  const fn = Object.keys(value)[0];
  return `<<${fn}:${referencedIds(value).join(',')}>>`;
}

/** A deep copy with every intrinsic replaced by its `render`ed placeholder string. */
export function renderDeep<T>(value: T): T {
  if (isIntrinsic(value)) {
    return render(value) as unknown as T;
  }
  if (Array.isArray(value)) {
    return value.map(renderDeep) as unknown as T;
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v)])) as T;
  }
  return value;
}

/** JSON with object keys sorted at every level: equal for equal values whatever the key order. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      return v.map(sort);
    }
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map(k => [k, sort((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

/** The objects of a `Custom::AWSCDK-EKS-KubernetesResource`, its Manifest (a string or an Fn::Join) rendered and parsed. */
export function manifestObjects(resource: CfnResource): KubeObject[] {
  const manifest = resource.Properties?.Manifest;
  if (manifest === undefined) {
    throw new Error(`${resource.Type} has no Manifest property`);
  }
  return JSON.parse(render(manifest)) as KubeObject[];
}

/** An object without the prune label that aws-eks-v2 adds (so it compares with the chart's own output). */
export function withoutPruneLabel(o: KubeObject): KubeObject {
  const labels = Object.fromEntries(Object.entries(o.metadata.labels ?? {}).filter(([k]) => !k.startsWith(PRUNE_LABEL_PREFIX)));
  const metadata: Record<string, unknown> = { ...o.metadata, labels };
  if (Object.keys(labels).length === 0) {
    delete metadata.labels;
  }
  return { ...o, metadata } as KubeObject;
}

/** `kind namespace/name`: how an object is told apart from every other. */
export function objectKey(o: KubeObject): string {
  return `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The direct DependsOn of a resource. */
export function dependsOn(resource: CfnResource): string[] {
  const d = resource.DependsOn;
  return d === undefined ? [] : Array.isArray(d) ? d : [d];
}

/** Every resource a resource depends on through DependsOn, directly or transitively. */
export function dependsOnClosure(template: CfnTemplate, logicalId: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...dependsOn(resourceOf(template, logicalId))];
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (!seen.has(id)) {
      seen.add(id);
      todo.push(...dependsOn(resourceOf(template, id)));
    }
  }
  return seen;
}

/** The resource of a logical id; fails if the template has none. */
export function resourceOf(template: CfnTemplate, logicalId: string): CfnResource {
  const r = template.Resources[logicalId];
  if (!r) {
    throw new Error(`no resource ${logicalId} in the template`);
  }
  return r;
}

/** The Tags property of a resource as a map. */
export function tagsOf(resource: CfnResource): Record<string, string> {
  return Object.fromEntries((resource.Properties?.Tags ?? []).map((t: { Key: string; Value: string }) => [t.Key, t.Value]));
}

/** The subnets of a tier, as CDK names them in the `aws-cdk:subnet-name` tag: [logicalId, CidrBlock], sorted by id. */
export function subnetsOfTier(template: CfnTemplate, tier: string): Array<[string, string]> {
  return resourcesOfType(template, 'AWS::EC2::Subnet')
    .filter(([, r]) => tagsOf(r)['aws-cdk:subnet-name'] === tier)
    .map(([id, r]): [string, string] => [id, r.Properties!.CidrBlock])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/** The template with every 64-hex-char asset hash (S3 keys, asset paths, any string) replaced by a placeholder. */
export function stripAssetHashes(template: CfnTemplate): CfnTemplate {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<ASSET-HASH>'));
}

/**
 * The StringEquals conditions of a web-identity trust policy, with the CfnJson that carries them
 * (aws-cdk-lib puts token keys in a `Custom::AWSCDKCfnJson`) followed and rendered. Fails unless
 * the role has exactly one statement and it is `sts:AssumeRoleWithWebIdentity` with StringEquals only.
 */
export function webIdentityTrust(template: CfnTemplate, roleId: string): { federated: string; stringEquals: Record<string, string> } {
  const statements = resourceOf(template, roleId).Properties?.AssumeRolePolicyDocument?.Statement ?? [];
  if (statements.length !== 1) {
    throw new Error(`${roleId}: expected one trust statement, got ${JSON.stringify(statements)}`);
  }
  const st = statements[0];
  if (st.Effect !== 'Allow' || st.Action !== 'sts:AssumeRoleWithWebIdentity' || Object.keys(st.Condition ?? {}).join() !== 'StringEquals') {
    throw new Error(`${roleId}: expected an Allow of sts:AssumeRoleWithWebIdentity conditioned by StringEquals only, got ${JSON.stringify(st)}`);
  }
  const federated = refOf(st.Principal?.Federated);
  if (federated === undefined || Object.keys(st.Principal).length !== 1) {
    throw new Error(`${roleId}: expected a Federated principal that is a Ref, got ${JSON.stringify(st.Principal)}`);
  }
  let conditions: unknown = st.Condition.StringEquals;
  const att = getAttOf(conditions);
  if (att) {
    const json = resourceOf(template, att[0]);
    if (json.Type !== 'Custom::AWSCDKCfnJson' || att[1] !== 'Value') {
      throw new Error(`${roleId}: StringEquals points at ${json.Type}.${att[1]}, not at a CfnJson value`);
    }
    conditions = JSON.parse(render(json.Properties!.Value));
  }
  return { federated, stringEquals: conditions as Record<string, string> };
}

/** The logical ids of the roles an `AWS::IAM::Policy` is attached to. */
export function policyRoles(policy: CfnResource): string[] {
  return (policy.Properties?.Roles ?? []).map((r: unknown) => refOf(r) ?? render(r));
}
