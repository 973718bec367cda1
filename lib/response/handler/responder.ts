import { parseInput } from './events';
import { KubeApi, KubeApiError, LabelSelector, PodMeta, WorkloadMeta } from './kube-api';
import { IgnoredInput, isIgnored, isMalformed, MalformedInput, QuarantineRequest, QuarantineTarget } from './requests';
import {
  ownedBy, resolveMeshWorkload, ScaleCandidate, scaleDown, ScaleDownRecord, scalableOwnerOfPod, scalableWorkload,
} from './workloads';

/**
 * The quarantine decision and action: which pods a finding or alert names, and labelling them
 * so that the pre-wired policies isolate them (design.md 3.6); with the `scale-down` action, also
 * scaling the owning Deployment or StatefulSet to 0. Internal to the Lambda handler.
 * @internal
 */

/**
 * `label` (the default): label the pods, which keeps them running and cut off. `scale-down`: label
 * them, then set the owning Deployment's or StatefulSet's replicas to 0; the pods, and the evidence
 * in their memory, processes and files, are then destroyed.
 */
export type QuarantineMode = 'label' | 'scale-down';

/** What the responder is configured with. */
export interface ResponderConfig {
  /** Only findings and alerts for this EKS cluster are acted on. */
  readonly clusterName: string;
  /** Findings below this GuardDuty severity are ignored (alerts without a severity pass). Default 7 (High). */
  readonly severityThreshold?: number;
  /** The quarantine label key. Default 'zero-trust.cdk.io/quarantine'. */
  readonly quarantineLabel?: string;
  /** When given, only pods in these namespaces are labelled (the service namespaces the RBAC Role covers). */
  readonly namespaces?: readonly string[];
  /** Default 'label'. */
  readonly action?: QuarantineMode;
}

/** Where the record of each decision is published (e.g. an SNS topic). */
export interface NotificationPublisher {
  publish(record: QuarantineRecord): Promise<void>;
}

/** What the responder is given. */
export interface ResponderDeps {
  readonly kube: KubeApi;
  readonly publisher: NotificationPublisher;
  /** One structured line per decision. Default `console.log`. */
  readonly log?: (line: string) => void;
  /** The clock (epoch ms). Default `Date.now`. */
  readonly now?: () => number;
}

export type PodResult = 'labelled' | 'already-labelled' | 'gone' | 'replaced';

/** What happened to one pod. */
export interface PodRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
  readonly result: PodResult;
  /** When the API server accepted the label (ISO 8601). */
  readonly labelAppliedAt?: string;
  /** From the event's time to the label applied. */
  readonly eventToLabelMs?: number;
}

export type Outcome = 'quarantined' | 'already-quarantined' | 'not-found' | 'replaced' | 'ignored' | 'dropped' | 'failed';

/** What the responder did with one finding or alert, and why. Logged and published. */
export interface QuarantineRecord {
  readonly action: 'quarantine';
  readonly outcome: Outcome;
  /** Why, in words. */
  readonly reason: string;
  readonly source?: 'guardduty' | 'sns';
  readonly findingId?: string;
  readonly findingType?: string;
  readonly severity?: number;
  readonly cluster?: string;
  readonly target?: QuarantineTarget;
  /** How the target became pods: the pod itself, or a workload's pods by its selector. */
  readonly resolution?: string;
  readonly pods: PodRecord[];
  readonly eventTime?: string;
  /** The longest time from the event to a label applied by this invocation. */
  readonly eventToLabelMs?: number;
  /** Time spent in the handler for this record. */
  readonly handlingMs: number;
  readonly error?: string;
  /** With the `scale-down` action only: what was done to the owning workload, and why. */
  readonly scaleDown?: ScaleDownRecord;
}

const DEFAULT_LABEL = 'zero-trust.cdk.io/quarantine';
const DEFAULT_THRESHOLD = 7;

/** The JSON merge patch that labels a pod, with uid and resourceVersion as preconditions (409 on mismatch). */
export function quarantinePatch(label: string, pod: { uid: string; resourceVersion: string }, why: string): object {
  return {
    metadata: {
      uid: pod.uid,
      resourceVersion: pod.resourceVersion,
      labels: { [label]: 'true' },
      annotations: { [`${label}-reason`]: why.slice(0, 1024) },
    },
  };
}

/** Builds the Lambda handler: it returns one record per finding or alert and throws only when a retry can help. */
export function createHandler(config: ResponderConfig, deps: ResponderDeps): (event: unknown) => Promise<QuarantineRecord[]> {
  const responder = new Responder(config, deps);
  return event => responder.handle(event);
}

class Responder {
  private readonly label: string;
  private readonly threshold: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly mode: QuarantineMode;

  constructor(private readonly config: ResponderConfig, private readonly deps: ResponderDeps) {
    this.mode = config.action ?? 'label';
    this.label = config.quarantineLabel ?? DEFAULT_LABEL;
    this.threshold = config.severityThreshold ?? DEFAULT_THRESHOLD;
    this.now = deps.now ?? Date.now;
    // eslint-disable-next-line no-console
    this.log = deps.log ?? (line => console.log(line));
  }

  public async handle(event: unknown): Promise<QuarantineRecord[]> {
    const records: QuarantineRecord[] = [];
    let retryable: unknown;
    for (const input of parseInput(event)) {
      const start = this.now();
      let record: QuarantineRecord;
      try {
        record = isMalformed(input) ? this.dropped(input, start)
          : isIgnored(input) ? this.ignored(input, start)
            : await this.respond(input, start);
      } catch (e) {
        // Timeouts, 5xx, auth errors, repeated conflicts: record, then let the platform retry (bounded, then the DLQ).
        retryable = retryable ?? e;
        record = {
          ...this.base(input as QuarantineRequest, start),
          outcome: 'failed',
          reason: 'the Kubernetes API call failed; the invocation fails so that it is retried',
          error: e instanceof Error ? e.message : String(e),
        };
      }
      await this.record(record);
      records.push(record);
    }
    if (retryable !== undefined) {
      throw retryable;
    }
    return records;
  }

  private async record(record: QuarantineRecord): Promise<void> {
    this.log(JSON.stringify({ level: record.outcome === 'failed' ? 'ERROR' : 'INFO', message: 'quarantine-responder', ...record }));
    if (record.outcome !== 'ignored') {
      await this.deps.publisher.publish(record);
    }
  }

  private dropped(input: MalformedInput, start: number): QuarantineRecord {
    return {
      action: 'quarantine',
      outcome: 'dropped',
      reason: `malformed input, dropped without retry: ${input.malformed}`,
      findingId: input.id,
      pods: [],
      handlingMs: this.now() - start,
    };
  }

  private ignored(input: IgnoredInput, start: number): QuarantineRecord {
    return {
      action: 'quarantine',
      outcome: 'ignored',
      reason: input.ignored,
      source: input.source,
      findingId: input.id,
      findingType: input.reason,
      cluster: input.cluster,
      pods: [],
      handlingMs: this.now() - start,
    };
  }

  private base(req: QuarantineRequest, start: number) {
    return {
      action: 'quarantine' as const,
      source: req.source,
      findingId: req.id,
      findingType: req.reason,
      severity: req.severity,
      cluster: req.cluster,
      target: 'unsupported' in req.target ? undefined : req.target,
      eventTime: new Date(req.eventTime).toISOString(),
      pods: [] as PodRecord[],
      handlingMs: this.now() - start,
    };
  }

  private async respond(req: QuarantineRequest, start: number): Promise<QuarantineRecord> {
    const base = this.base(req, start);
    const ignore = (reason: string): QuarantineRecord => ({ ...base, outcome: 'ignored', reason, handlingMs: this.now() - start });
    if (req.cluster !== this.config.clusterName) {
      return ignore(`finding is for cluster '${req.cluster}', this responder serves '${this.config.clusterName}'`);
    }
    if (req.severity !== undefined && req.severity < this.threshold) {
      return ignore(`severity ${req.severity} is below the threshold ${this.threshold}`);
    }
    if ('unsupported' in req.target) {
      return ignore(`no pod to quarantine: ${req.target.unsupported}`);
    }
    const target = req.target;
    if (this.config.namespaces && !this.config.namespaces.includes(target.namespace)) {
      return ignore(`namespace '${target.namespace}' is not one this responder may act in (${this.config.namespaces.join(', ')})`);
    }
    const why = `${req.source} ${req.id}: ${req.reason}${req.severity !== undefined ? ` (severity ${req.severity})` : ''}`;

    let resolved: Resolved;
    if (target.kind === 'Workload') {
      const mesh = await resolveMeshWorkload(this.deps.kube, target.namespace, target.name);
      if ('ambiguous' in mesh) {
        return ignore(`the mesh workload name ${target.namespace}/${target.name} is the name of a ${mesh.ambiguous.join(' and a ')}: `
          + 'refusing to guess which one sent the traffic');
      }
      if ('meta' in mesh && isEmptySelector(mesh.meta.selector)) {
        return ignore(`${mesh.kind} ${target.namespace}/${target.name} has an empty selector, which would match every pod of the namespace; refusing to label`);
      }
      const via = `the alert names the mesh workload ${target.namespace}/${target.name}, `
        + (mesh.kind === 'Pod' ? 'which names no Deployment, StatefulSet, DaemonSet or Job: taken as a bare pod\'s name: ' : `a ${mesh.kind}: `);
      resolved = 'meta' in mesh
        ? await this.workloadPods({ ...target, kind: mesh.kind }, mesh.meta, why, req.eventTime, via)
        : await this.onePod({ ...target, kind: 'Pod' }, why, req.eventTime, via);
    } else if (target.kind === 'Pod') {
      resolved = await this.onePod(target, why, req.eventTime, '');
    } else {
      const workload = await this.deps.kube.getWorkload(target.kind, target.namespace, target.name);
      const label = `${target.kind} ${target.namespace}/${target.name}`;
      if (!workload) {
        return { ...base, outcome: 'not-found', reason: `${label} no longer exists; nothing to quarantine`, handlingMs: this.now() - start };
      }
      if (target.uid && workload.uid !== target.uid) {
        return {
          ...base,
          outcome: 'replaced',
          reason: `${label} has uid ${workload.uid}, the finding named ${target.uid}: it was replaced, nothing labelled`,
          handlingMs: this.now() - start,
        };
      }
      if (isEmptySelector(workload.selector)) {
        return ignore(`${label} has an empty selector, which would match every pod of the namespace; refusing to label`);
      }
      resolved = await this.workloadPods(target, workload, why, req.eventTime, '');
    }
    const { pods, resolution } = resolved;
    const scale = this.mode === 'scale-down' ? await this.scaleDown(resolved) : undefined;
    const latencies = pods.map(p => p.eventToLabelMs).filter((x): x is number => x !== undefined);
    const summary = summarize(pods);
    return {
      ...base,
      ...summary,
      reason: scale ? `${summary.reason}; scale-down: ${scale.reason}` : summary.reason,
      resolution,
      pods,
      eventToLabelMs: latencies.length > 0 ? Math.max(...latencies) : undefined,
      handlingMs: this.now() - start,
      ...(scale ? { scaleDown: scale } : {}),
    };
  }

  /** A pod target: that pod, labelled. */
  private async onePod(target: QuarantineTarget, why: string, eventTime: number, via: string): Promise<Resolved> {
    const resolution = `${via}pod ${target.namespace}/${target.name}`
      + (target.uid ? ` with uid ${target.uid}` : ' (the finding gave no uid: the live pod\'s uid is the precondition)');
    const { record, pod } = await this.quarantinePod(target.namespace, target.name, target.uid, why, eventTime);
    return { resolution, pods: [record], pod: isHeld(record) ? pod : undefined };
  }

  /** A workload target: its pods (selected by its selector, owned by it), labelled. */
  private async workloadPods(target: QuarantineTarget, workload: WorkloadMeta, why: string, eventTime: number, via: string): Promise<Resolved> {
    const label = `${target.kind} ${target.namespace}/${target.name}`;
    const candidates = await this.deps.kube.listPods(target.namespace, workload.selector);
    const owned = candidates.filter(p => ownedBy(p, target, workload));
    const head = via || `the finding names ${label}, not a pod: `;
    const resolution = `${head}quarantining its ${owned.length} pod(s) (selected by its selector, owned by it)`;
    const pods: PodRecord[] = [];
    for (const p of owned) {
      pods.push((await this.quarantinePod(p.namespace, p.name, p.uid, why, eventTime)).record);
    }
    return { resolution, pods, workload: { target, meta: workload } };
  }

  /** After the labels: the owning Deployment or StatefulSet to 0 replicas, or why not. */
  private async scaleDown(resolved: Resolved): Promise<ScaleDownRecord> {
    const kube = this.deps.kube;
    let candidate: ScaleCandidate | ScaleDownRecord;
    if (resolved.workload) {
      const { target, meta } = resolved.workload;
      candidate = await scalableWorkload(kube, target, '', meta);
    } else if (resolved.pod) {
      candidate = await scalableOwnerOfPod(kube, resolved.pod);
    } else {
      return { result: 'skipped', reason: 'no pod was labelled or found labelled (gone or replaced): nothing is scaled down on its account' };
    }
    return 'meta' in candidate ? scaleDown(kube, candidate, this.now) : candidate;
  }

  /** Labels one pod unless it is gone, replaced or already labelled; one re-read and retry on 409. */
  private async quarantinePod(
    namespace: string, name: string, expectedUid: string | undefined, why: string, eventTime: number,
  ): Promise<{ record: PodRecord; pod?: PodMeta }> {
    const kube = this.deps.kube;
    let pod = await kube.getPod(namespace, name);
    const uid = expectedUid ?? pod?.uid;
    for (let attempt = 0; ; attempt++) {
      if (!pod) {
        return { record: { namespace, name, uid, result: 'gone' } };
      }
      if (pod.uid !== uid) {
        return { record: { namespace, name, uid: pod.uid, result: 'replaced' } };
      }
      if (pod.labels[this.label] === 'true') {
        return { record: { namespace, name, uid, result: 'already-labelled' }, pod };
      }
      const outcome = await kube.patchPod(namespace, name, quarantinePatch(this.label, pod, why));
      if (outcome === 'patched') {
        const at = this.now();
        return { record: { namespace, name, uid, result: 'labelled', labelAppliedAt: new Date(at).toISOString(), eventToLabelMs: at - eventTime }, pod };
      }
      if (outcome === 'not-found') {
        return { record: { namespace, name, uid, result: 'gone' } };
      }
      if (attempt >= 1) {
        throw new KubeApiError(`pod ${namespace}/${name}: the patch conflicted twice (409); retrying the invocation`, 409);
      }
      pod = await kube.getPod(namespace, name);
    }
  }
}

/** How a target became pods. */
interface Resolved {
  readonly resolution: string;
  readonly pods: PodRecord[];
  /** A pod target that was labelled or already labelled: its owner is the one to scale. */
  readonly pod?: PodMeta;
  /** A workload target: the workload to scale. */
  readonly workload?: { readonly target: QuarantineTarget; readonly meta: WorkloadMeta };
}

function isHeld(r: PodRecord): boolean {
  return r.result === 'labelled' || r.result === 'already-labelled';
}

function isEmptySelector(s: LabelSelector): boolean {
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

function summarize(pods: PodRecord[]): { outcome: Outcome; reason: string } {
  const count = (r: PodResult) => pods.filter(p => p.result === r).length;
  const detail = (['labelled', 'already-labelled', 'gone', 'replaced'] as PodResult[])
    .filter(r => count(r) > 0).map(r => `${count(r)} ${r}`).join(', ');
  if (count('labelled') > 0) {
    return { outcome: 'quarantined', reason: `quarantine label applied (${detail})` };
  }
  if (count('already-labelled') > 0) {
    return { outcome: 'already-quarantined', reason: `already quarantined, nothing patched (${detail})` };
  }
  if (count('replaced') > 0) {
    return { outcome: 'replaced', reason: `the pod was replaced (its uid differs from the finding's), nothing labelled (${detail})` };
  }
  return { outcome: 'not-found', reason: pods.length === 0 ? 'no pod to label' : `the pod is gone, nothing to label (${detail})` };
}
