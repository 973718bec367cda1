/**
 * Size limits that CDK does not check at synth but that fail a deployment: ZT-CFN-1 (template bytes),
 * ZT-CFN-2 (resource count) and ZT-K8S-1 (one Kubernetes manifest resource). Read-only.
 */
import { flattenJoin, get, resourcesOfType, RuleDefinition, show } from './template';

/** CloudFormation's template size limit, taken conservatively as 1,000,000 bytes (the quota is "1 MB"). */
export const MAX_TEMPLATE_BYTES = 1_000_000;
/** CloudFormation's limit on resources in one template. */
export const MAX_TEMPLATE_RESOURCES = 500;
/** 256 KB: the largest manifest a `Custom::AWSCDK-EKS-KubernetesResource` can carry in its request. */
export const MAX_MANIFEST_BYTES = 256 * 1024;

/** The resource type that `KubernetesManifest` (aws-eks and aws-eks-v2) emits. */
export const KUBERNETES_RESOURCE = 'Custom::AWSCDK-EKS-KubernetesResource';

const templateSize: RuleDefinition = {
  info: {
    ruleId: 'ZT-CFN-1',
    controls: ['design.md 5'],
    title: `Every template is under ${MAX_TEMPLATE_BYTES.toLocaleString('en-US')} bytes`,
    fix: 'Split the stack (nested stacks or a second stack), set suppressTemplateIndentation: true on the stack, or combine many '
      + 'KubernetesManifest resources into fewer ones; CDK only warns about template size at synth.',
    severity: 'error',
  },
  check: template => template.bytes < MAX_TEMPLATE_BYTES ? [] : [{
    locations: [],
    message: `The template is ${template.bytes.toLocaleString('en-US')} bytes; CloudFormation accepts less than `
      + `${MAX_TEMPLATE_BYTES.toLocaleString('en-US')}.`,
  }],
};

const resourceCount: RuleDefinition = {
  info: {
    ruleId: 'ZT-CFN-2',
    controls: ['design.md 5'],
    title: `Every template has at most ${MAX_TEMPLATE_RESOURCES} resources`,
    fix: 'Split the stack (nested stacks or separate stacks), or combine KubernetesManifest resources (one manifest can hold many objects).',
    severity: 'error',
  },
  check: template => {
    const count = Object.keys(template.resources).length;
    return count <= MAX_TEMPLATE_RESOURCES ? [] : [{
      locations: ['Resources'],
      message: `The template has ${count} resources; CloudFormation accepts at most ${MAX_TEMPLATE_RESOURCES}.`,
    }];
  },
};

const manifestSize: RuleDefinition = {
  info: {
    ruleId: 'ZT-K8S-1',
    controls: ['design.md 5'],
    title: `Every ${KUBERNETES_RESOURCE} manifest is under ${MAX_MANIFEST_BYTES.toLocaleString('en-US')} bytes (256 KB)`,
    fix: 'Split the objects over several KubernetesManifest resources (e.g. one per service), or render them with cdk8s and apply '
      + 'them out of band (GitOps).',
    severity: 'error',
  },
  check: template => resourcesOfType(template, KUBERNETES_RESOURCE).flatMap(([logicalId, resource]) => {
    const manifest = get(resource.Properties, 'Manifest');
    const flat = flattenJoin(manifest, () => '');
    if (!flat) {
      return [{ logicalId, locations: ['Properties/Manifest'], message: `Manifest ${show(manifest)} is not a string or Fn::Join; its size is unknown.` }];
    }
    const bytes = Buffer.byteLength(flat.text, 'utf8');
    return bytes < MAX_MANIFEST_BYTES ? [] : [{
      logicalId,
      locations: ['Properties/Manifest'],
      message: `The manifest is ${bytes.toLocaleString('en-US')} bytes${flat.tokens > 0 ? ` (literal parts only, ${flat.tokens} tokens not counted)` : ''}; `
        + `it must be under ${MAX_MANIFEST_BYTES.toLocaleString('en-US')}.`,
    }];
  }),
};

/** Size rules, in rule-id order. */
export const SIZE_RULES: RuleDefinition[] = [templateSize, resourceCount, manifestSize];
