/**
 * The quarantine responder's Lambda handler (Node 20, no dependencies beyond node builtins).
 *
 * Wire it with `createHandler(config, { kube, publisher })`: `kube` is an `HttpKubeApi` over the
 * cluster endpoint with an injected EKS token function, `publisher` sends each record to the
 * notification topic. Not exported from the library's jsii entry point.
 * @internal
 */
export { parseInput } from './events';
export type { QuarantineRequest, QuarantineTarget, WorkloadKind } from './events';
export { HttpKubeApi, KubeApiError, selectorString } from './kube-api';
export type { HttpKubeApiOptions, KubeApi, LabelSelector, PatchOutcome, PodMeta, WorkloadMeta } from './kube-api';
export { createHandler, quarantinePatch } from './responder';
export type { NotificationPublisher, Outcome, PodRecord, PodResult, QuarantineRecord, ResponderConfig, ResponderDeps } from './responder';
