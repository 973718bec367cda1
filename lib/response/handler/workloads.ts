import { KubeApi, KubeApiError, OwnerReference, PodMeta, ScalableKind, WorkloadMeta } from './kube-api';
import { QuarantineTarget, WorkloadKind } from './requests';

/**
 * Workloads as the responder meets them: which pods a workload owns, what a mesh workload name
 * stands for, and the optional scale-down of the workload that owns a quarantined pod. Internal to
 * the Lambda handler.
 * @internal
 */

/** The kinds a mesh workload name (Istio `source_workload`) is looked up as, in this order. */
export const MESH_WORKLOAD_KINDS: readonly WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];

/** What a mesh workload name resolved to. */
export type MeshResolution =
  | { readonly kind: WorkloadKind; readonly meta: WorkloadMeta }
  | { readonly kind: 'Pod' }
  | { readonly ambiguous: string[] };

/**
 * Resolves an Istio workload name: the one Deployment, StatefulSet, DaemonSet or Job of that name,
 * or, when none exists, a bare pod of that name (Istio names a pod without a controller by itself).
 * Two kinds with the same name are ambiguous: the caller labels nothing rather than guess.
 */
export async function resolveMeshWorkload(kube: KubeApi, namespace: string, name: string): Promise<MeshResolution> {
  const found: { kind: WorkloadKind; meta: WorkloadMeta }[] = [];
  for (const kind of MESH_WORKLOAD_KINDS) {
    const meta = await kube.getWorkload(kind, namespace, name);
    if (meta) {
      found.push({ kind, meta });
    }
  }
  if (found.length > 1) {
    return { ambiguous: found.map(f => f.kind) };
  }
  return found[0] ?? { kind: 'Pod' };
}

/**
 * Whether a pod belongs to the workload: its controller is the workload, or for a Deployment a
 * ReplicaSet named `<deployment>-<pod-template-hash>` (the Deployment controller's naming), so a
 * neighbour whose labels happen to match the selector is never labelled.
 */
export function ownedBy(pod: PodMeta, target: { kind: WorkloadKind; name: string }, workload: WorkloadMeta): boolean {
  const controller = controllerOf(pod.ownerReferences);
  if (!controller) {
    return false;
  }
  if (target.kind === 'Deployment') {
    const hash = pod.labels['pod-template-hash'];
    return controller.kind === 'ReplicaSet' && hash !== undefined && controller.name === `${target.name}-${hash}`;
  }
  return controller.kind === target.kind && controller.uid === workload.uid;
}

export function controllerOf(refs: readonly OwnerReference[] | undefined): OwnerReference | undefined {
  return (refs ?? []).find(o => o.controller === true);
}

export type ScaleResult = 'scaled-down' | 'already-scaled-down' | 'not-scalable' | 'not-found' | 'replaced' | 'skipped';

/** What the scale-down did with the workload that owns the quarantined pods. */
export interface ScaleDownRecord {
  readonly result: ScaleResult;
  /** Why, in words. */
  readonly reason: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly uid?: string;
  /** `spec.replicas` before the patch. */
  readonly fromReplicas?: number;
  /** When the API server accepted `replicas: 0` (ISO 8601). */
  readonly scaledAt?: string;
}

/** A workload the scale-down acts on: resolved, with the metadata read just now. */
export interface ScaleCandidate {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly meta: WorkloadMeta;
}

/** The JSON merge patch of a `/scale` subresource: replicas 0, under the workload's uid and resourceVersion. */
export function scaleDownPatch(meta: { uid: string; resourceVersion?: string }): object {
  return { metadata: { uid: meta.uid, ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}) }, spec: { replicas: 0 } };
}

/**
 * The workload to scale for a pod: its controller when that is a StatefulSet, or the Deployment
 * that owns its ReplicaSet (ownerReferences, uids checked). Anything else cannot be scaled down.
 */
export async function scalableOwnerOfPod(kube: KubeApi, pod: PodMeta): Promise<ScaleCandidate | ScaleDownRecord> {
  const controller = controllerOf(pod.ownerReferences);
  const at = `pod ${pod.namespace}/${pod.name}`;
  if (!controller) {
    return { result: 'not-scalable', reason: `${at} has no controller (a bare pod): there is nothing to scale down, the pod is labelled only` };
  }
  return scalableWorkload(kube, { kind: controller.kind as WorkloadKind, namespace: pod.namespace, name: controller.name, uid: controller.uid }, at);
}

/**
 * The workload to scale for a target that names a workload, or for a pod's controller (`via` then
 * names the pod, for the record).
 */
export async function scalableWorkload(
  kube: KubeApi, target: QuarantineTarget, via: string, known?: WorkloadMeta,
): Promise<ScaleCandidate | ScaleDownRecord> {
  const label = `${target.kind} ${target.namespace}/${target.name}`;
  const subject = via ? `${via} belongs to ${label}, which` : label;
  const labelOnly = (why: string): ScaleDownRecord => ({
    result: 'not-scalable', kind: target.kind, namespace: target.namespace, name: target.name, reason: `${subject} ${why}; labelled only`,
  });
  if (target.kind === 'DaemonSet') {
    return labelOnly('runs one pod per node and has no replica count to scale');
  }
  if (target.kind === 'Job') {
    return labelOnly('runs to completion and has no replica count the responder may scale (its Role covers deployments/scale and statefulsets/scale only)');
  }
  if (target.kind !== 'ReplicaSet' && target.kind !== 'Deployment' && target.kind !== 'StatefulSet') {
    return labelOnly(`is a ${target.kind}, which the responder does not scale down`);
  }
  const meta = known ?? await kube.getWorkload(target.kind, target.namespace, target.name);
  if (!meta) {
    return { result: 'not-found', kind: target.kind, namespace: target.namespace, name: target.name, reason: `${label} no longer exists: nothing to scale down` };
  }
  if (target.uid && meta.uid !== target.uid) {
    return {
      result: 'replaced',
      kind: target.kind,
      namespace: target.namespace,
      name: target.name,
      uid: meta.uid,
      reason: `${label} has uid ${meta.uid}, not ${target.uid}: it was replaced, not scaled`,
    };
  }
  if (target.kind !== 'ReplicaSet') {
    return { kind: target.kind, namespace: target.namespace, name: target.name, meta };
  }
  const owner = controllerOf(meta.ownerReferences);
  if (!owner || owner.kind !== 'Deployment') {
    return labelOnly('no Deployment owns: the responder scales Deployments and StatefulSets only');
  }
  return scalableWorkload(kube, { kind: 'Deployment', namespace: target.namespace, name: owner.name, uid: owner.uid }, `${via || label} (through ${label})`);
}

/**
 * Sets `replicas: 0` on the workload's `/scale` subresource: nothing when it is already 0 (a
 * duplicate delivery), one re-read and retry on 409, never a workload with another uid.
 */
export async function scaleDown(kube: KubeApi, c: ScaleCandidate, now: () => number): Promise<ScaleDownRecord> {
  const kind = c.kind as ScalableKind;
  const label = `${c.kind} ${c.namespace}/${c.name}`;
  const base = { kind: c.kind, namespace: c.namespace, name: c.name, uid: c.meta.uid };
  let meta: WorkloadMeta | undefined = c.meta;
  for (let attempt = 0; ; attempt++) {
    if (!meta) {
      return { ...base, result: 'not-found', reason: `${label} was deleted before it was scaled down` };
    }
    if (meta.uid !== c.meta.uid) {
      return { ...base, result: 'replaced', reason: `${label} was replaced (uid ${meta.uid}) before it was scaled down: not scaled` };
    }
    if (meta.replicas === 0) {
      return { ...base, result: 'already-scaled-down', fromReplicas: 0, reason: `${label} already has 0 replicas: nothing patched` };
    }
    const outcome = await kube.patchScale(kind, c.namespace, c.name, scaleDownPatch(meta));
    if (outcome === 'patched') {
      return {
        ...base,
        result: 'scaled-down',
        fromReplicas: meta.replicas,
        scaledAt: new Date(now()).toISOString(),
        reason: `${label} scaled from ${meta.replicas ?? 'unknown'} to 0 replicas (its pods, their memory, processes and files, are destroyed)`,
      };
    }
    if (outcome === 'not-found') {
      return { ...base, result: 'not-found', reason: `${label} was deleted before it was scaled down` };
    }
    if (attempt >= 1) {
      throw new KubeApiError(`${label}: the scale patch conflicted twice (409); retrying the invocation`, 409);
    }
    meta = await kube.getWorkload(c.kind, c.namespace, c.name);
  }
}
