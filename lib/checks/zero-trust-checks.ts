import * as fs from 'fs';
import * as path from 'path';
import {
  CfnResource, IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, PolicyViolatingResource, PolicyViolation,
} from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { EKS_DATAPLANE_RULES } from './eks-dataplane-rules';
import { EKS_CLUSTER_RULES } from './eks-rules';
import { ENCRYPTION_RULES } from './encryption-rules';
import { NETWORK_POLICY_RULES } from './network-policy-rules';
import { ZeroTrustRule } from './rule';
import { SIZE_RULES } from './size-rules';
import { isObject, LoadedTemplate, PUBLIC_ENDPOINT_OPT_OUT_METADATA, RuleDefinition, RuleFinding, TemplateResource } from './template';

const DEFINITIONS: RuleDefinition[] = [...EKS_CLUSTER_RULES, ...EKS_DATAPLANE_RULES, ...ENCRYPTION_RULES, ...SIZE_RULES, ...NETWORK_POLICY_RULES];

/** The version of this package, for the report; `0.0.0` when package.json cannot be read. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    return pkg.name === 'cdk-zero-trust-eks' && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Reads one synthesized template. */
function loadTemplate(templatePath: string, stackConstructPath: string | undefined): LoadedTemplate {
  const bytes = fs.readFileSync(templatePath);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`ZeroTrustChecks: ${templatePath} is not a JSON template: ${(e as Error).message}`);
  }
  const resources = isObject(json) && isObject(json.Resources) ? json.Resources as Record<string, TemplateResource> : {};
  return { templatePath, stackConstructPath, bytes: bytes.length, resources };
}

/**
 * Read-only zero-trust checks for synthesized CloudFormation, run as a CDK policy-validation plugin, the way
 * cdk-nag 3 runs:
 *
 * ```ts
 * Validations.of(app).addPlugins(new ZeroTrustChecks());
 * ```
 *
 * It reads every template in `context.templatePaths` and never changes anything. Any violation fails `synth`;
 * the CDK writes the full report to `validation-report.json` in the cloud assembly. cdk-nag's EKS rules do not
 * fire on `aws-eks-v2` clusters and cdk-nag has no rules for node groups or add-ons, hence these rules.
 *
 * | rule | control | what must hold |
 * |---|---|---|
 * | ZT-EKS-1 | EKS-01/02 | every `AWS::EKS::Cluster` has `EndpointPrivateAccess: true` and `EndpointPublicAccess: false`. A public endpoint passes only with a non-empty reason in resource Metadata `cdk-zero-trust-eks:publicEndpointOptOut` (see `allowPublicEndpoint`) AND non-empty `PublicAccessCidrs` of literal IPv4 CIDRs, none `/0` |
 * | ZT-EKS-2 | EKS-05 | `AccessConfig.AuthenticationMode` is `API` |
 * | ZT-EKS-3 | EKS-05 | `AccessConfig.BootstrapClusterCreatorAdminPermissions` is `false` |
 * | ZT-EKS-4 | EKS-03 | `Logging.ClusterLogging.EnabledTypes` holds api, audit, authenticator, controllerManager, scheduler |
 * | ZT-EKS-5 | EKS-04 | an `EncryptionConfig` entry covers `secrets`, and its `Provider.KeyArn` is `Fn::GetAtt [<symmetric AWS::KMS::Key in the same template>, Arn]` or a literal key ARN `arn:<partition>:kms:<region>:<account>:key/<id>` (an imported key, trusted to be customer-managed). Alias ARNs and unresolvable values fail |
 * | ZT-EKS-6 | EKS-10 | every `AWS::EKS::Nodegroup` has a `LaunchTemplate` that resolves (Id by Ref / GetAtt LaunchTemplateId, or literal Name) to an `AWS::EC2::LaunchTemplate` in the same template whose `MetadataOptions` are `HttpTokens: required`, `HttpPutResponseHopLimit: 1` |
 * | ZT-EKS-7 | EKS-07 | every cluster has an `AWS::EKS::Addon` `vpc-cni` (ClusterName by Ref or literal name), and every vpc-cni add-on's `ConfigurationValues` (JSON or YAML string, or `Fn::Join` with tokens inside strings) parses and has `enableNetworkPolicy: "true"` |
 * | ZT-KMS-1 | KMS-01 | every symmetric `AWS::KMS::Key` (KeySpec absent or SYMMETRIC_DEFAULT) has `EnableKeyRotation: true` |
 * | ZT-LOG-1 | OBS-01/02 | every `AWS::Logs::LogGroup` has `KmsKeyId` and `RetentionInDays` |
 * | ZT-CFN-1 | design.md 5 | every template file is under 1,000,000 bytes |
 * | ZT-CFN-2 | design.md 5 | every template has at most 500 resources |
 * | ZT-K8S-1 | design.md 5 | every `Custom::AWSCDK-EKS-KubernetesResource` `Manifest` is under 262,144 bytes (literal parts of an `Fn::Join`) |
 * | ZT-NET-1 | NET-03, design.md 3.4 | no NetworkPolicy ipBlock in a manifest (its `cidr` minus its `except`) overlaps the CIDR of a subnet that an `AWS::EKS::Nodegroup` uses (Ref to `AWS::EC2::Subnet`), or equals/contains a VPC CIDR; unparseable manifests and non-literal ipBlocks fail |
 *
 * All rules report severity `error`. A deliberate exception is acknowledged the cdk-nag 3 way, with a reason:
 * `Validations.of(construct).acknowledge({ id: 'ZeroTrustChecks::ZT-EKS-6', reason: '...' })`.
 *
 * Only what is in one template can be resolved: references across stacks, parameters and imported subnets are
 * not followed (they fail where a rule needs the value, and are skipped where a rule only collects ranges).
 */
export class ZeroTrustChecks implements IPolicyValidationPlugin {
  /** Resource Metadata key whose non-empty string value records why a cluster keeps a public endpoint (ZT-EKS-1). */
  public static readonly PUBLIC_ENDPOINT_OPT_OUT_METADATA: string = PUBLIC_ENDPOINT_OPT_OUT_METADATA;

  /** Every rule this plugin runs, in report order. */
  public static readonly RULES: ZeroTrustRule[] = DEFINITIONS.map(d => ({ ...d.info, controls: [...d.info.controls] }));

  /**
   * Records that a cluster keeps a public API endpoint on purpose. ZT-EKS-1 then accepts the public endpoint,
   * provided private access stays on and `publicAccessCidrs` is restricted (non-empty, no 0.0.0.0/0).
   *
   * @param cluster an aws-eks-v2 `Cluster` (its default child is used) or an `AWS::EKS::Cluster` CfnResource
   * @param reason why the endpoint must be public; recorded in the template
   */
  public static allowPublicEndpoint(cluster: IConstruct, reason: string): void {
    const resource = CfnResource.isCfnResource(cluster) ? cluster : cluster.node.defaultChild;
    if (!resource || !CfnResource.isCfnResource(resource) || resource.cfnResourceType !== 'AWS::EKS::Cluster') {
      throw new Error(`allowPublicEndpoint: ${cluster.node.path} is not an AWS::EKS::Cluster and has no such default child`);
    }
    if (reason.trim() === '') {
      throw new Error('allowPublicEndpoint: a reason is required');
    }
    resource.addMetadata(PUBLIC_ENDPOINT_OPT_OUT_METADATA, reason);
  }

  public readonly name: string = 'ZeroTrustChecks';
  public readonly version?: string = packageVersion();
  public readonly ruleIds?: string[] = DEFINITIONS.map(d => d.info.ruleId);

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const stackPaths = new Map<string, string>();
    for (const stack of context.stackTemplates ?? []) {
      stackPaths.set(path.resolve(stack.templatePath), stack.stackConstructPath);
    }
    const violations: PolicyViolation[] = [];
    for (const templatePath of context.templatePaths) {
      const template = loadTemplate(templatePath, stackPaths.get(path.resolve(templatePath)));
      for (const definition of DEFINITIONS) {
        for (const finding of definition.check(template)) {
          violations.push(this.toViolation(definition.info, template, finding));
        }
      }
    }
    return { success: violations.length === 0, violations, pluginVersion: this.version };
  }

  private toViolation(rule: ZeroTrustRule, template: LoadedTemplate, finding: RuleFinding): PolicyViolation {
    let resource: PolicyViolatingResource;
    if (finding.logicalId !== undefined) {
      resource = { resourceLogicalId: finding.logicalId, templatePath: template.templatePath, locations: finding.locations };
    } else if (template.stackConstructPath !== undefined) {
      resource = { constructPath: template.stackConstructPath, templatePath: template.templatePath, locations: finding.locations };
    } else {
      resource = { templatePath: template.templatePath, locations: finding.locations };
    }
    const subject = finding.logicalId ?? template.stackConstructPath ?? path.basename(template.templatePath);
    return {
      ruleName: rule.ruleId,
      description: `[${rule.ruleId}] ${rule.title}. ${subject}: ${finding.message}`,
      fix: rule.fix,
      severity: rule.severity,
      ruleMetadata: { controls: rule.controls.join(', ') },
      violatingResources: [resource],
    };
  }
}
