/**
 * The quarantine responder's Lambda handler (Node 20, no dependencies beyond node builtins).
 *
 * Wire it with `createHandler(config, { kube, publisher })`: `kube` is an `HttpKubeApi` over the
 * cluster endpoint with an injected EKS token function, `publisher` sends each record to the
 * notification topic. Not exported from the library's jsii entry point.
 * @internal
 */
export { ALERT_MESSAGE_FORMAT, QUARANTINE_MARK } from './alertmanager';
export { parseInput } from './events';
export type { IgnoredInput, QuarantineRequest, QuarantineTarget, WorkloadKind } from './events';
export { HttpKubeApi, KubeApiError, selectorString } from './kube-api';
export type { HttpKubeApiOptions, KubeApi, LabelSelector, OwnerReference, PatchOutcome, PodMeta, ScalableKind, WorkloadMeta } from './kube-api';
export { createHandler, quarantinePatch } from './responder';
export type {
  NotificationPublisher, Outcome, PodRecord, PodResult, QuarantineMode, QuarantineRecord, ResponderConfig, ResponderDeps,
} from './responder';
export { scaleDownPatch } from './workloads';
export type { ScaleDownRecord, ScaleResult } from './workloads';
