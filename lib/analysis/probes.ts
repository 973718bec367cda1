import { Workload } from './workload';

/**
 * Probe workloads: pods nobody declared, which the self-check adds next to the declared ones so
 * that access granted to "anyone" shows up as a flow. A policy that admits every pod of a
 * namespace (`podSelector: {}`), every namespace (`namespaceSelector: {}`), or a principal by
 * namespace or wildcard admits a stranger too, and no declared flow has a stranger at either end.
 * A stranger has no labels, so a peer that picks pods by label in every namespace would miss it:
 * an impersonator, a pod labelled like a declared service or platform pod outside every managed
 * namespace, shows that peer up.
 */

/** The service account of every stranger: no declared service uses it. */
export const STRANGER_SERVICE_ACCOUNT = 'zero-trust-probe-stranger';

/** A namespace no declaration manages, for a stranger outside every managed namespace. */
export const UNMANAGED_NAMESPACE = 'zero-trust-probe-unmanaged';

const STRANGER_PREFIX = 'probe/stranger/';
const QUARANTINED_PREFIX = 'probe/quarantined/';
const IMPERSONATOR_PREFIX = 'probe/impersonator/';

/** The id of the stranger in a namespace. */
export function strangerId(namespace: string): string {
  return `${STRANGER_PREFIX}${namespace}`;
}

/** The id of the impersonator of a workload. */
export function impersonatorId(id: string): string {
  return `${IMPERSONATOR_PREFIX}${id}`;
}

/** Whether a workload id is an impersonator's. */
export function isImpersonator(id: string): boolean {
  return id.startsWith(IMPERSONATOR_PREFIX);
}

/** The id of the quarantined copy of a workload. */
export function quarantinedId(id: string): string {
  return `${QUARANTINED_PREFIX}${id}`;
}

/** Whether a workload id is a quarantined copy's. */
export function isQuarantinedCopy(id: string): boolean {
  return id.startsWith(QUARANTINED_PREFIX);
}

/**
 * One meshed stranger per namespace: no labels (so only selectors that match every pod pick it),
 * its own service account (so only principals by namespace or wildcard admit it), no ports.
 */
export function strangers(namespaces: Iterable<string>): Workload[] {
  return [...new Set(namespaces)].sort().map(namespace => ({
    id: strangerId(namespace),
    namespace,
    labels: {},
    serviceAccountName: STRANGER_SERVICE_ACCOUNT,
    ports: [],
    meshed: true,
  }));
}

/**
 * A pod of the same workload that carries the quarantine label with the value the responder sets:
 * same namespace, labels, service account and ports. It must have no flow in or out at the
 * NetworkPolicy layer, and no request into it may be allowed at the Istio layer (design.md 3.6).
 */
export function quarantinedCopy(w: Workload, quarantineLabel: string): Workload {
  return { ...w, id: quarantinedId(w.id), labels: { ...w.labels, [quarantineLabel]: 'true' } };
}

/**
 * A pod that looks like `w` (same labels and ports) but runs in the unmanaged namespace under the
 * stranger's service account: only a peer that matches `w`'s labels in namespaces nobody declared
 * (`namespaceSelector: {}` with a podSelector, say) picks it. It must have no flow into any service
 * at either layer, and no service's egress may reach it. In `w`'s own namespace the same labels
 * are `w` itself, so the impersonator lives in the unmanaged namespace only.
 */
export function impersonator(w: Workload): Workload {
  const { ip: _ip, ...rest } = w;
  return { ...rest, id: impersonatorId(w.id), namespace: UNMANAGED_NAMESPACE, serviceAccountName: STRANGER_SERVICE_ACCOUNT, meshed: true };
}
