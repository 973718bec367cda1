/**
 * Data-plane checks that cdk-nag has no rules for: node IMDS settings through `AWS::EKS::Nodegroup` launch
 * templates (ZT-EKS-6) and VPC CNI network-policy enforcement (ZT-EKS-7). Read-only.
 */
import { parse as parseYaml } from 'yaml';
import {
  flattenJoin, get, getAttTarget, isObject, LoadedTemplate, refTarget, resourceOfType, resourcesOfType, RuleDefinition, RuleFinding, show,
  tokenPlaceholder,
} from './template';

const LAUNCH_TEMPLATE = 'AWS::EC2::LaunchTemplate';
const METADATA_OPTIONS = 'Properties/LaunchTemplateData/MetadataOptions';

/** The logical id of the `AWS::EC2::LaunchTemplate` a nodegroup's `LaunchTemplate` spec points at, if it is in the template. */
function launchTemplateOf(template: LoadedTemplate, spec: unknown): string | undefined {
  const id = get(spec, 'Id');
  const byId = refTarget(id) ?? getAttTarget(id, 'LaunchTemplateId');
  if (byId !== undefined) {
    return resourceOfType(template, byId, LAUNCH_TEMPLATE) ? byId : undefined;
  }
  const name = get(spec, 'Name');
  if (typeof name !== 'string') {
    return undefined;
  }
  const match = resourcesOfType(template, LAUNCH_TEMPLATE).find(([, lt]) => get(lt.Properties, 'LaunchTemplateName') === name);
  return match?.[0];
}

const nodeImds: RuleDefinition = {
  info: {
    ruleId: 'ZT-EKS-6',
    controls: ['EKS-10'],
    title: 'Every managed node group uses a launch template that requires IMDSv2 with hop limit 1',
    fix: 'Give each node group a launch template (in the same stack) with MetadataOptions { HttpTokens: required, '
      + 'HttpPutResponseHopLimit: 1 }, e.g. ec2.LaunchTemplate({ requireImdsv2: true, httpPutResponseHopLimit: 1 }). '
      + 'Hop limit 2 is acceptable only on a labelled pool for pods that need IMDS: acknowledge it there with a reason.',
    severity: 'error',
  },
  check: template => {
    const findings: RuleFinding[] = [];
    const users = new Map<string, string[]>();
    for (const [nodegroupId, nodegroup] of resourcesOfType(template, 'AWS::EKS::Nodegroup')) {
      const spec = get(nodegroup.Properties, 'LaunchTemplate');
      if (spec === undefined) {
        findings.push({
          logicalId: nodegroupId,
          locations: ['Properties/LaunchTemplate'],
          message: 'The node group has no launch template, so EKS default IMDS settings apply (hop limit 2 lets pods reach node credentials).',
        });
        continue;
      }
      const ltId = launchTemplateOf(template, spec);
      if (ltId === undefined) {
        findings.push({
          logicalId: nodegroupId,
          locations: ['Properties/LaunchTemplate'],
          message: `LaunchTemplate ${show(spec)} does not resolve to an ${LAUNCH_TEMPLATE} in this template, so its IMDS settings cannot be checked.`,
        });
        continue;
      }
      users.set(ltId, [...users.get(ltId) ?? [], nodegroupId]);
    }
    for (const [ltId, nodegroups] of users) {
      const options = get(template.resources[ltId].Properties, 'LaunchTemplateData', 'MetadataOptions');
      const tokens = get(options, 'HttpTokens');
      const hops = get(options, 'HttpPutResponseHopLimit');
      const problems: string[] = [];
      const locations: string[] = [];
      if (tokens !== 'required') {
        problems.push(`HttpTokens is ${show(tokens)} (must be "required": IMDSv1 must be off)`);
        locations.push(`${METADATA_OPTIONS}/HttpTokens`);
      }
      if (hops !== 1 && hops !== '1') {
        problems.push(`HttpPutResponseHopLimit is ${show(hops)} (must be 1 so pods cannot reach IMDS)`);
        locations.push(`${METADATA_OPTIONS}/HttpPutResponseHopLimit`);
      }
      if (problems.length > 0) {
        findings.push({ logicalId: ltId, locations, message: `Launch template of node group(s) ${nodegroups.join(', ')}: ${problems.join('; ')}.` });
      }
    }
    return findings;
  },
};

/**
 * Reads an add-on's ConfigurationValues: a JSON (or YAML) string, or an `Fn::Join` whose tokens sit inside string
 * values. Returns the parsed object, or a reason it cannot be read.
 */
export function parseConfigurationValues(value: unknown): { readonly config?: Record<string, unknown>; readonly problem?: string } {
  const flat = flattenJoin(value, tokenPlaceholder);
  if (!flat) {
    return { problem: `ConfigurationValues ${show(value)} is not a string or Fn::Join, so it cannot be read at synth` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(flat.text);
  } catch {
    try {
      parsed = parseYaml(flat.text);
    } catch {
      parsed = undefined;
    }
  }
  if (!isObject(parsed)) {
    return { problem: `ConfigurationValues ${show(flat.text)} does not parse to a JSON (or YAML) object` };
  }
  return { config: parsed };
}

const networkPolicyEnforcement: RuleDefinition = {
  info: {
    ruleId: 'ZT-EKS-7',
    controls: ['EKS-07'],
    title: 'The vpc-cni add-on enforces NetworkPolicies (enableNetworkPolicy "true") on every cluster',
    fix: 'Add the vpc-cni add-on to each cluster (eks.Addon / AWS::EKS::Addon with AddonName vpc-cni) with configurationValues '
      + 'JSON.stringify({ enableNetworkPolicy: "true" }); the value is the string "true". Without it every NetworkPolicy is inert.',
    severity: 'error',
  },
  check: template => {
    const findings: RuleFinding[] = [];
    const clusters = resourcesOfType(template, 'AWS::EKS::Cluster');
    const covered = new Set<string>();
    for (const [addonId, addon] of resourcesOfType(template, 'AWS::EKS::Addon')) {
      if (get(addon.Properties, 'AddonName') !== 'vpc-cni') {
        continue;
      }
      const clusterName = get(addon.Properties, 'ClusterName');
      const target = refTarget(clusterName)
        ?? clusters.find(([, c]) => typeof clusterName === 'string' && get(c.Properties, 'Name') === clusterName)?.[0];
      if (target !== undefined) {
        covered.add(target);
      }
      const { config, problem } = parseConfigurationValues(get(addon.Properties, 'ConfigurationValues'));
      const enabled = config?.enableNetworkPolicy;
      if (problem === undefined && enabled === 'true') {
        continue;
      }
      findings.push({
        logicalId: addonId,
        locations: ['Properties/ConfigurationValues'],
        message: problem !== undefined ? `${problem}.`
          : `enableNetworkPolicy is ${show(enabled)}; it must be the string "true" (network policy enforcement is off by default).`,
      });
    }
    for (const [clusterId] of clusters) {
      if (!covered.has(clusterId)) {
        findings.push({
          logicalId: clusterId,
          locations: ['Properties'],
          message: 'No AWS::EKS::Addon with AddonName vpc-cni targets this cluster in this template, so NetworkPolicies are not enforced.',
        });
      }
    }
    return findings;
  },
};

/** Data-plane rules, in rule-id order. */
export const EKS_DATAPLANE_RULES: RuleDefinition[] = [nodeImds, networkPolicyEnforcement];
