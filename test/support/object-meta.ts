/**
 * The API server's value rules for `metadata` (k8s.io/apimachinery/pkg/api/validation): object names,
 * namespace, label and annotation syntax. Field names and JSON types of metadata are checked elsewhere
 * (client-node V1ObjectMeta walk, kubernetes-models ObjectMeta); this file only checks string contents.
 */
import { isRecord, Problem } from './manifest-problem';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

type NameRule = (name: string) => string | undefined;

const dnsLabel: NameRule = (name) => checkRegex(name, DNS1123_LABEL, 63,
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character");
const dnsSubdomain: NameRule = (name) => checkRegex(name, DNS1123_SUBDOMAIN, 253,
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
const dns1035Label: NameRule = (name) => checkRegex(name, DNS1035_LABEL, 63,
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character");
const pathSegment: NameRule = (name) => {
  if (name === '.' || name === '..') return `may not be '${name}'`;
  if (name.includes('/') || name.includes('%')) return "may not contain '/' or '%'";
  return undefined;
};

/** Name rules that differ from the default (DNS-1123 subdomain, also used for custom resources). */
const NAME_RULES: Readonly<Record<string, NameRule>> = {
  'v1/Namespace': dnsLabel,
  'v1/Service': dns1035Label,
  'rbac.authorization.k8s.io/Role': pathSegment,
  'rbac.authorization.k8s.io/ClusterRole': pathSegment,
  'rbac.authorization.k8s.io/RoleBinding': pathSegment,
  'rbac.authorization.k8s.io/ClusterRoleBinding': pathSegment,
};

/** Problems in the string values of `metadata` (paths are relative to the object root). */
export function objectMetaValueProblems(group: string, kind: string, metadata: unknown): Problem[] {
  if (metadata === undefined) return [{ path: ['metadata', 'name'], message: 'Required value: name or generateName is required' }];
  if (!isRecord(metadata)) return []; // type error reported by the model validator
  const problems: Problem[] = [];
  const nameRule = NAME_RULES[`${group === '' ? 'v1' : group}/${kind}`] ?? dnsSubdomain;
  const { name, generateName, namespace, labels, annotations } = metadata;
  if (name === undefined || name === '') {
    if (generateName === undefined || generateName === '') problems.push({ path: ['metadata', 'name'], message: 'Required value: name or generateName is required' });
  } else if (typeof name === 'string') {
    const error = nameRule(name);
    if (error) problems.push({ path: ['metadata', 'name'], message: `Invalid value: ${JSON.stringify(name)}: ${error}` });
  }
  if (typeof namespace === 'string' && namespace !== '') {
    const error = dnsLabel(namespace);
    if (error) problems.push({ path: ['metadata', 'namespace'], message: `Invalid value: ${JSON.stringify(namespace)}: ${error}` });
  }
  if (isRecord(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      const keyError = qualifiedNameError(key);
      if (keyError) problems.push({ path: ['metadata', 'labels'], message: `Invalid value: ${JSON.stringify(key)}: label key ${keyError}` });
      if (typeof value === 'string') {
        const valueError = checkRegex(value, LABEL_VALUE, 63,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
        if (valueError) problems.push({ path: ['metadata', 'labels', key], message: `Invalid value: ${JSON.stringify(value)}: ${valueError}` });
      }
    }
  }
  if (isRecord(annotations)) {
    let total = 0;
    for (const [key, value] of Object.entries(annotations)) {
      const keyError = qualifiedNameError(key.toLowerCase());
      if (keyError) problems.push({ path: ['metadata', 'annotations'], message: `Invalid value: ${JSON.stringify(key)}: annotation key ${keyError}` });
      total += key.length + (typeof value === 'string' ? value.length : 0);
    }
    if (total > TOTAL_ANNOTATION_SIZE_LIMIT) {
      problems.push({ path: ['metadata', 'annotations'], message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
    }
  }
  return problems;
}

/** `[prefix/]name` where prefix is a DNS-1123 subdomain and name a 63-character qualified name. */
function qualifiedNameError(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return "must consist of an optional DNS subdomain prefix and '/' followed by a name";
  const name = parts[parts.length - 1];
  if (parts.length === 2) {
    if (parts[0] === '') return 'prefix part must be non-empty';
    const prefixError = dnsSubdomain(parts[0]);
    if (prefixError) return `prefix part ${prefixError}`;
  }
  if (name === '') return 'name part must be non-empty';
  return checkRegex(name, QUALIFIED_NAME, 63,
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
}

function checkRegex(value: string, regex: RegExp, maxLength: number, description: string): string | undefined {
  if (value.length > maxLength) return `must be no more than ${maxLength} characters`;
  return regex.test(value) ? undefined : description;
}
