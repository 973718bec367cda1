/**
 * Control-plane checks on every native `AWS::EKS::Cluster` (what `aws-cdk-lib/aws-eks-v2` emits):
 * ZT-EKS-1 .. ZT-EKS-5. Read-only.
 */
import { parseIpv4Cidr } from './cidr';
import {
  get, getAttTarget, LoadedTemplate, PUBLIC_ENDPOINT_OPT_OUT_METADATA, resourceOfType, resourcesOfType, RuleDefinition, RuleFinding, show,
} from './template';

const CLUSTER = 'AWS::EKS::Cluster';
const VPC_CONFIG = 'Properties/ResourcesVpcConfig';

/** Runs `check` on each cluster of the template and tags its findings with the cluster's logical id. */
function eachCluster(
  template: LoadedTemplate,
  check: (props: unknown, metadata: unknown) => Array<Omit<RuleFinding, 'logicalId'>>,
): RuleFinding[] {
  return resourcesOfType(template, CLUSTER).flatMap(([logicalId, cluster]) =>
    check(cluster.Properties, cluster.Metadata).map(f => ({ ...f, logicalId })));
}

/** Why a list of public-access CIDRs does not restrict the public endpoint, or undefined when it does. */
function publicCidrProblem(cidrs: unknown): string | undefined {
  if (!Array.isArray(cidrs) || cidrs.length === 0) {
    return `PublicAccessCidrs is ${show(cidrs)}; EKS then defaults to 0.0.0.0/0`;
  }
  for (const cidr of cidrs) {
    if (typeof cidr !== 'string') {
      return `PublicAccessCidrs holds ${show(cidr)}, which cannot be checked at synth`;
    }
    const range = parseIpv4Cidr(cidr);
    if (!range) {
      return `PublicAccessCidrs holds ${show(cidr)}, which is not an IPv4 CIDR`;
    }
    if (range.first === 0 && range.last === 2 ** 32 - 1) {
      return `PublicAccessCidrs holds ${cidr}, which admits the whole internet`;
    }
  }
  return undefined;
}

const privateEndpoint: RuleDefinition = {
  info: {
    ruleId: 'ZT-EKS-1',
    controls: ['EKS-01', 'EKS-02'],
    title: 'The EKS API endpoint is private',
    fix: 'Use endpointAccess: EndpointAccess.PRIVATE (ResourcesVpcConfig.EndpointPublicAccess: false and EndpointPrivateAccess: true). '
      + 'If a public endpoint is unavoidable, keep private access on, restrict PublicAccessCidrs (no 0.0.0.0/0) and record why with '
      + `ZeroTrustChecks.allowPublicEndpoint(cluster, reason) (resource Metadata "${PUBLIC_ENDPOINT_OPT_OUT_METADATA}").`,
    severity: 'error',
  },
  check: template => eachCluster(template, (props, metadata) => {
    const findings: Array<Omit<RuleFinding, 'logicalId'>> = [];
    const privateAccess = get(props, 'ResourcesVpcConfig', 'EndpointPrivateAccess');
    if (privateAccess !== true) {
      findings.push({
        locations: [`${VPC_CONFIG}/EndpointPrivateAccess`],
        message: `EndpointPrivateAccess is ${show(privateAccess)}; it must be true (EKS defaults to false).`,
      });
    }
    const publicAccess = get(props, 'ResourcesVpcConfig', 'EndpointPublicAccess');
    if (publicAccess === false) {
      return findings;
    }
    const found = publicAccess === undefined ? 'absent, and EKS defaults it to true' : show(publicAccess);
    const reason = get(metadata, PUBLIC_ENDPOINT_OPT_OUT_METADATA);
    if (typeof reason !== 'string' || reason.trim() === '') {
      findings.push({
        locations: [`${VPC_CONFIG}/EndpointPublicAccess`],
        message: `EndpointPublicAccess is ${found}: the API server is reachable from the internet and no opt-out reason is recorded.`,
      });
      return findings;
    }
    const problem = publicCidrProblem(get(props, 'ResourcesVpcConfig', 'PublicAccessCidrs'));
    if (problem) {
      findings.push({
        locations: [`${VPC_CONFIG}/PublicAccessCidrs`],
        message: `The public endpoint is opted out ("${reason}") but not restricted: ${problem}.`,
      });
    }
    return findings;
  }),
};

const apiAuthentication: RuleDefinition = {
  info: {
    ruleId: 'ZT-EKS-2',
    controls: ['EKS-05'],
    title: 'Cluster access is managed by access entries only (AuthenticationMode API)',
    fix: 'Set authenticationMode: AuthenticationMode.API (AccessConfig.AuthenticationMode: API); CloudFormation defaults to CONFIG_MAP.',
    severity: 'error',
  },
  check: template => eachCluster(template, props => {
    const mode = get(props, 'AccessConfig', 'AuthenticationMode');
    return mode === 'API' ? [] : [{
      locations: ['Properties/AccessConfig/AuthenticationMode'],
      message: `AuthenticationMode is ${mode === undefined ? 'absent (CloudFormation defaults to CONFIG_MAP)' : show(mode)}; it must be API.`,
    }];
  }),
};

const noCreatorAdmin: RuleDefinition = {
  info: {
    ruleId: 'ZT-EKS-3',
    controls: ['EKS-05'],
    title: 'The cluster creator gets no permanent cluster-admin',
    fix: 'Set bootstrapClusterCreatorAdminPermissions: false (AccessConfig.BootstrapClusterCreatorAdminPermissions: false) and grant '
      + 'admin through an explicit, audited access entry. Changing it later replaces the cluster.',
    severity: 'error',
  },
  check: template => eachCluster(template, props => {
    const bootstrap = get(props, 'AccessConfig', 'BootstrapClusterCreatorAdminPermissions');
    return bootstrap === false ? [] : [{
      locations: ['Properties/AccessConfig/BootstrapClusterCreatorAdminPermissions'],
      message: `BootstrapClusterCreatorAdminPermissions is ${bootstrap === undefined ? 'absent (EKS defaults to true)' : show(bootstrap)}; `
        + 'it must be false.',
    }];
  }),
};

/** The control-plane log types EKS can export; all are required. */
export const REQUIRED_LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

const controlPlaneLogs: RuleDefinition = {
  info: {
    ruleId: 'ZT-EKS-4',
    controls: ['EKS-03'],
    title: 'All five control-plane log types are exported',
    fix: `Enable clusterLogging for ${REQUIRED_LOG_TYPES.join(', ')} (Logging.ClusterLogging.EnabledTypes), into a stack-owned, `
      + 'KMS-encrypted log group with retention (OBS-01).',
    severity: 'error',
  },
  check: template => eachCluster(template, props => {
    const enabled = get(props, 'Logging', 'ClusterLogging', 'EnabledTypes');
    const types = Array.isArray(enabled) ? enabled.map(e => get(e, 'Type')) : [];
    const missing = REQUIRED_LOG_TYPES.filter(t => !types.includes(t));
    return missing.length === 0 ? [] : [{
      locations: ['Properties/Logging/ClusterLogging/EnabledTypes'],
      message: `Control-plane log types not exported: ${missing.join(', ')}.`,
    }];
  }),
};

/** A KMS key ARN (not an alias ARN): `arn:<partition>:kms:<region>:<account>:key/<key id>`. */
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** Why a `Provider.KeyArn` value is not a customer-managed key we can see, or undefined when it is. */
function keyArnProblem(template: LoadedTemplate, keyArn: unknown): string | undefined {
  const keyId = getAttTarget(keyArn, 'Arn');
  if (keyId !== undefined) {
    const key = resourceOfType(template, keyId, 'AWS::KMS::Key');
    if (!key) {
      return `Provider.KeyArn is the Arn of ${keyId}, which is not an AWS::KMS::Key in this template`;
    }
    const spec = get(key.Properties, 'KeySpec');
    return spec === undefined || spec === 'SYMMETRIC_DEFAULT' ? undefined : `key ${keyId} has KeySpec ${show(spec)}; EKS needs a symmetric key`;
  }
  if (typeof keyArn === 'string') {
    if (KEY_ARN.test(keyArn)) {
      return undefined;
    }
    if (/:alias\//.test(keyArn)) {
      return `Provider.KeyArn is the alias ${keyArn}; alias/aws/* keys are AWS-managed and other aliases can be repointed, so name the key ARN`;
    }
    return `Provider.KeyArn ${show(keyArn)} is not a KMS key ARN`;
  }
  return `Provider.KeyArn ${show(keyArn)} cannot be resolved to a key at synth`;
}

const secretsEncryption: RuleDefinition = {
  info: {
    ruleId: 'ZT-EKS-5',
    controls: ['EKS-04'],
    title: 'Kubernetes secrets are envelope-encrypted with a customer-managed KMS key',
    fix: 'Pass secretsEncryptionKey: a kms.Key created in the same stack (EncryptionConfig: [{ Resources: [secrets], Provider: { KeyArn: '
      + '{ Fn::GetAtt: [<key>, Arn] } } }]). An imported key must be given by its key ARN (arn:...:key/<id>), never an alias. '
      + 'Encryption can only be set when the cluster is created.',
    severity: 'error',
  },
  check: template => eachCluster(template, props => {
    const configs = get(props, 'EncryptionConfig');
    const list = Array.isArray(configs) ? configs : [];
    const index = list.findIndex(c => {
      const resources = get(c, 'Resources');
      return Array.isArray(resources) && resources.includes('secrets');
    });
    if (index < 0) {
      return [{ locations: ['Properties/EncryptionConfig'], message: 'No EncryptionConfig covers the resource "secrets".' }];
    }
    const problem = keyArnProblem(template, get(list[index], 'Provider', 'KeyArn'));
    return problem === undefined ? [] : [{ locations: [`Properties/EncryptionConfig/${index}/Provider/KeyArn`], message: `${problem}.` }];
  }),
};

/** Control-plane rules, in rule-id order. */
export const EKS_CLUSTER_RULES: RuleDefinition[] = [privateEndpoint, apiAuthentication, noCreatorAdmin, controlPlaneLogs, secretsEncryption];
