import { declarationError } from './errors';
import { isLabelKey, isLabelValue } from './names';

/** Checks a label map: keys and values must be valid, and a selector must not be empty. */
export function checkLabels(subject: string, field: string, labels: Readonly<Record<string, string>>, selector: boolean): void {
  const keys = Object.keys(labels);
  if (selector && keys.length === 0) {
    throw declarationError(subject, field, labels, 'must not be empty: an empty selector matches every pod', "give at least one label, e.g. { 'app.kubernetes.io/name': 'payment' }");
  }
  for (const key of keys) {
    if (!isLabelKey(key)) {
      throw declarationError(subject, `${field} key`, key, 'must be a Kubernetes label key', "use e.g. 'app.kubernetes.io/name'");
    }
    const value = labels[key];
    if (typeof value !== 'string' || !isLabelValue(value)) {
      throw declarationError(subject, `${field}['${key}']`, value, 'must be a Kubernetes label value (at most 63 characters: alphanumerics, -, _ and .)', "use e.g. 'payment'");
    }
  }
}

/** Checks a port number. */
export function checkPort(subject: string, field: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw declarationError(subject, field, port, 'must be an integer from 1 to 65535', 'use a port such as 8080');
  }
}
