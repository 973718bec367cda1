/**
 * ZT-NET-1: NetworkPolicy ipBlocks name only dedicated subnets (design.md 3.4). With the VPC CNI, pods take
 * addresses from the node subnets, so an ipBlock over a node subnet (or the whole VPC) matches pods by IP and
 * bypasses the label-based policy. Read-only.
 */
import { formatRange, Ipv4Range, parseIpv4Cidr, rangeContains, rangesOverlap, subtractRanges } from './cidr';
import { KUBERNETES_RESOURCE } from './size-rules';
import {
  flattenJoin, get, isObject, LoadedTemplate, refTarget, resourceOfType, resourcesOfType, RuleDefinition, RuleFinding, show, tokenPlaceholder,
} from './template';

/** A named address range taken from the template. */
interface NamedRange {
  readonly logicalId: string;
  readonly cidr: string;
  readonly range: Ipv4Range;
}

/** Literal CIDRs of every `AWS::EC2::Subnet` that some `AWS::EKS::Nodegroup` places nodes in (by Ref). */
export function nodeSubnetRanges(template: LoadedTemplate): NamedRange[] {
  const seen = new Map<string, NamedRange>();
  for (const [, nodegroup] of resourcesOfType(template, 'AWS::EKS::Nodegroup')) {
    const subnets = get(nodegroup.Properties, 'Subnets');
    for (const subnet of Array.isArray(subnets) ? subnets : []) {
      const logicalId = refTarget(subnet);
      const cidr = get(resourceOfType(template, logicalId, 'AWS::EC2::Subnet')?.Properties, 'CidrBlock');
      const range = typeof cidr === 'string' ? parseIpv4Cidr(cidr) : undefined;
      if (logicalId !== undefined && range && typeof cidr === 'string') {
        seen.set(logicalId, { logicalId, cidr, range });
      }
    }
  }
  return [...seen.values()];
}

/** Literal IPv4 CIDRs of every VPC in the template (primary `AWS::EC2::VPC` and secondary `AWS::EC2::VPCCidrBlock`). */
export function vpcRanges(template: LoadedTemplate): NamedRange[] {
  return ['AWS::EC2::VPC', 'AWS::EC2::VPCCidrBlock'].flatMap(type => resourcesOfType(template, type).flatMap(([logicalId, vpc]) => {
    const cidr = get(vpc.Properties, 'CidrBlock');
    const range = typeof cidr === 'string' ? parseIpv4Cidr(cidr) : undefined;
    return range && typeof cidr === 'string' ? [{ logicalId, cidr, range }] : [];
  }));
}

/**
 * The Kubernetes objects in a `Manifest` property: a JSON string holding one object or an array (a `List` is
 * unwrapped), or an `Fn::Join` whose literal parts are joined with each token replaced by an opaque string.
 */
export function manifestObjects(manifest: unknown): { readonly objects?: unknown[]; readonly problem?: string } {
  const flat = flattenJoin(manifest, tokenPlaceholder);
  if (!flat) {
    return { problem: `Manifest ${show(manifest)} is not a string or Fn::Join` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(flat.text);
  } catch (e) {
    return { problem: `Manifest does not parse as JSON (${(e as Error).message})` };
  }
  const objects: unknown[] = [];
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(collect);
    } else if (isObject(value) && value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach(collect);
    } else {
      objects.push(value);
    }
  };
  collect(parsed);
  return { objects };
}

/** One ipBlock peer of a NetworkPolicy, with where it sits. */
interface IpBlockPeer {
  readonly where: string;
  readonly ipBlock: unknown;
}

/** Every ipBlock in `spec.ingress[].from[]` and `spec.egress[].to[]` of a NetworkPolicy. */
function ipBlocks(policy: Record<string, unknown>): IpBlockPeer[] {
  const found: IpBlockPeer[] = [];
  for (const [direction, peersKey] of [['ingress', 'from'], ['egress', 'to']]) {
    const rules = get(policy, 'spec', direction);
    (Array.isArray(rules) ? rules : []).forEach((rule, i) => {
      const peers = get(rule, peersKey);
      (Array.isArray(peers) ? peers : []).forEach((peer, j) => {
        const ipBlock = get(peer, 'ipBlock');
        if (ipBlock !== undefined) {
          found.push({ where: `${direction}[${i}].${peersKey}[${j}].ipBlock`, ipBlock });
        }
      });
    });
  }
  return found;
}

/** What is wrong with one ipBlock, or undefined when it names only addresses where no pod lives. */
export function ipBlockProblem(ipBlock: unknown, nodeSubnets: readonly NamedRange[], vpcs: readonly NamedRange[]): string | undefined {
  const cidr = get(ipBlock, 'cidr');
  if (typeof cidr === 'string' && cidr.includes(':')) {
    return undefined; // IPv6: node subnets and VPCs are checked as IPv4 only
  }
  const range = typeof cidr === 'string' ? parseIpv4Cidr(cidr) : undefined;
  if (!range) {
    return `cidr ${show(cidr)} is not a literal IPv4 CIDR, so it cannot be checked`;
  }
  const except = get(ipBlock, 'except');
  const holes = (Array.isArray(except) ? except : []).flatMap(e => {
    const hole = typeof e === 'string' ? parseIpv4Cidr(e) : undefined;
    return hole ? [hole] : [];
  });
  const matched = subtractRanges(range, holes);
  const problems: string[] = [];
  for (const subnet of nodeSubnets) {
    if (matched.some(piece => rangesOverlap(piece, subnet.range))) {
      problems.push(`overlaps node subnet ${subnet.logicalId} (${subnet.cidr})`);
    }
  }
  for (const vpc of vpcs) {
    if (matched.some(piece => rangeContains(piece, vpc.range))) {
      problems.push(`${rangeContains(vpc.range, range) ? 'equals' : 'contains'} VPC CIDR ${vpc.cidr} of ${vpc.logicalId}`);
    }
  }
  if (problems.length === 0) {
    return undefined;
  }
  const shown = holes.length > 0 ? `${cidr} except ${holes.map(formatRange).join(', ')}` : `${cidr}`;
  return `${shown} ${problems.join(' and ')}`;
}

const ipBlocksOnDedicatedSubnets: RuleDefinition = {
  info: {
    ruleId: 'ZT-NET-1',
    controls: ['NET-03', 'design.md 3.4'],
    title: 'No NetworkPolicy ipBlock overlaps a node (pod) subnet or covers the whole VPC',
    fix: 'Select pods with namespaceSelector/podSelector instead of addresses. Use ipBlock only for dedicated subnets where no pod '
      + 'lives (control-plane ENI, load-balancer, VPC-endpoint or scraper subnets), or add except entries that remove the node subnets.',
    severity: 'error',
  },
  check: template => {
    const nodeSubnets = nodeSubnetRanges(template);
    const vpcs = vpcRanges(template);
    const findings: RuleFinding[] = [];
    for (const [logicalId, resource] of resourcesOfType(template, KUBERNETES_RESOURCE)) {
      const { objects, problem } = manifestObjects(get(resource.Properties, 'Manifest'));
      if (problem !== undefined) {
        findings.push({ logicalId, locations: ['Properties/Manifest'], message: `${problem}, so its NetworkPolicies cannot be checked.` });
        continue;
      }
      for (const object of objects ?? []) {
        if (!isObject(object) || object.kind !== 'NetworkPolicy') {
          continue;
        }
        const name = `${get(object, 'metadata', 'namespace') ?? 'default'}/${get(object, 'metadata', 'name')}`;
        for (const peer of ipBlocks(object)) {
          const wrong = ipBlockProblem(peer.ipBlock, nodeSubnets, vpcs);
          if (wrong !== undefined) {
            findings.push({ logicalId, locations: ['Properties/Manifest'], message: `NetworkPolicy ${name} ${peer.where}: ${wrong}.` });
          }
        }
      }
    }
    return findings;
  },
};

/** Network-policy rules, in rule-id order. */
export const NETWORK_POLICY_RULES: RuleDefinition[] = [ipBlocksOnDedicatedSubnets];
