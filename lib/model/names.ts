/**
 * Kubernetes name and label syntax (apimachinery `validation.go`): the checks every declared
 * name goes through before anything is rendered.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** RFC 1123 label: lowercase alphanumerics and '-', starts and ends alphanumeric, at most 63 characters. */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** RFC 1035 label (what a Kubernetes Service name must be): an RFC 1123 label that starts with a letter. */
export function isDns1035Label(value: string): boolean {
  return value.length <= 63 && DNS1035_LABEL.test(value);
}

/** RFC 1123 subdomain: dot-separated RFC 1123 labels, at most 253 characters. */
export function isDns1123Subdomain(value: string): boolean {
  return value.length > 0 && value.length <= 253 && value.split('.').every(isDns1123Label);
}

/** A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) {
    return false;
  }
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

/** A label value: empty, or at most 63 characters, alphanumeric at both ends, '-', '_' and '.' inside. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value));
}

/** Turns any string into a readable example of a valid RFC 1123 label, for error messages. */
export function suggestLabel(value: string): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return cleaned.length > 0 ? cleaned : 'my-service';
}

/** Whether a string is an unresolved AWS CDK token (`${Token[...]}`), which checks must skip. */
export function isToken(value: string): boolean {
  return value.includes('${Token[');
}
