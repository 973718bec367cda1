import { field, KubeObject, list } from './manifest';

/** A container port of a workload. */
export interface WorkloadPort {
  /** The container port number. */
  readonly port: number;
  /**
   * TCP, UDP or SCTP.
   * @default 'TCP'
   */
  readonly protocol?: string;
  /**
   * The port's name, for NetworkPolicies that name ports.
   * @default - unnamed
   */
  readonly name?: string;
  /**
   * The application protocol Istio sees on this port ('http', 'http2', 'grpc', 'tcp', ...).
   * @default - read from a Service that targets the port (appProtocol or name prefix), else 'tcp'
   */
  readonly appProtocol?: string;
}

/** Whether Istio parses HTTP on this port, so that methods and paths can match. */
export function isHttpPort(p: WorkloadPort | undefined): boolean {
  const proto = (p?.appProtocol ?? 'tcp').toLowerCase();
  return ['http', 'http2', 'grpc', 'grpc-web', 'h2c'].includes(proto) || proto.startsWith('http-') || proto.startsWith('grpc-') || proto.startsWith('kubernetes.io/h2c');
}

/** A set of identical pods: what the analyzer decides flows between. */
export interface Workload {
  /** A unique id, e.g. 'shop/order'. */
  readonly id: string;
  /** The pods' namespace. */
  readonly namespace: string;
  /** The pods' labels. */
  readonly labels: { [key: string]: string };
  /** The pods' service account. */
  readonly serviceAccountName: string;
  /** The ports the pods listen on. */
  readonly ports: WorkloadPort[];
  /**
   * Whether the pods run an Istio sidecar. Unmeshed pods send plaintext (no principal) and are
   * not protected by AuthorizationPolicies.
   * @default true
   */
  readonly meshed?: boolean;
  /**
   * A pod IP, for ipBlock peers.
   * @default - ipBlock peers never match this workload
   */
  readonly ip?: string;
}

/** A namespace and its labels (namespaceSelectors read them). */
export interface NamespaceLabels {
  readonly name: string;
  readonly labels: { [key: string]: string };
}

const POD_TEMPLATE_KINDS: Record<string, (string)[]> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/**
 * The namespaces of a manifest set: each Namespace object with its labels, plus every namespace
 * that objects name, with the `kubernetes.io/metadata.name` label the API server always sets
 * (kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name).
 */
export function namespacesOf(objects: readonly KubeObject[], extra: readonly string[] = []): Map<string, NamespaceLabels> {
  const out = new Map<string, NamespaceLabels>();
  const add = (name: string, labels: Record<string, string> = {}) => {
    const prior = out.get(name)?.labels ?? {};
    out.set(name, { name, labels: { ...prior, ...labels, 'kubernetes.io/metadata.name': name } });
  };
  for (const o of objects) {
    if (o.kind === 'Namespace' && o.metadata?.name) {
      add(o.metadata.name, o.metadata.labels ?? {});
    } else if (o.metadata?.namespace && !out.has(o.metadata.namespace)) {
      add(o.metadata.namespace);
    }
  }
  for (const name of extra) {
    if (!out.has(name)) {
      add(name);
    }
  }
  return out;
}

/**
 * Workloads found in the manifests: one per Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
 * Job or CronJob, from its pod template (labels, service account, container ports). A pod is
 * meshed when its namespace has `istio-injection=enabled` or `istio.io/rev`, or the pod says
 * `sidecar.istio.io/inject: "true"`, unless the pod opts out with "false".
 */
export function workloadsOf(objects: readonly KubeObject[], namespaces: Map<string, NamespaceLabels>): Workload[] {
  const out: Workload[] = [];
  for (const o of objects) {
    const kind = o.kind ?? '';
    const template = kind === 'Pod' ? o : POD_TEMPLATE_KINDS[kind] ? field<KubeObject>(o, ...POD_TEMPLATE_KINDS[kind]) : undefined;
    if (!template) {
      continue;
    }
    const namespace = o.metadata?.namespace ?? 'default';
    const labels = { ...(field<Record<string, string>>(template, 'metadata', 'labels') ?? {}) };
    const annotations = field<Record<string, string>>(template, 'metadata', 'annotations') ?? {};
    const nsLabels = namespaces.get(namespace)?.labels ?? {};
    const podSays = labels['sidecar.istio.io/inject'] ?? annotations['sidecar.istio.io/inject'];
    const nsMeshed = nsLabels['istio-injection'] === 'enabled' || nsLabels['istio.io/rev'] !== undefined;
    const meshed = podSays === 'false' ? false : podSays === 'true' || nsMeshed;
    const ports: WorkloadPort[] = [];
    for (const c of list<unknown>(template, 'spec', 'containers')) {
      for (const p of list<{ containerPort?: number; protocol?: string; name?: string }>(c, 'ports')) {
        if (typeof p.containerPort === 'number') {
          ports.push({ port: p.containerPort, protocol: p.protocol ?? 'TCP', name: p.name });
        }
      }
    }
    for (let i = 0; i < ports.length; i++) {
      const appProtocol = serviceProtocol(objects, namespace, labels, ports[i]);
      if (appProtocol) {
        ports[i] = { ...ports[i], appProtocol };
      }
    }
    out.push({
      id: `${kind}/${namespace}/${o.metadata?.name ?? '?'}`,
      namespace,
      labels,
      serviceAccountName: field<string>(template, 'spec', 'serviceAccountName') ?? 'default',
      ports,
      meshed,
    });
  }
  return out;
}

/**
 * The protocol Istio infers for a container port from a Service that selects the pod and targets
 * it: `appProtocol`, else the port name's prefix before '-' (istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/).
 */
function serviceProtocol(objects: readonly KubeObject[], namespace: string, labels: Record<string, string>, port: WorkloadPort): string | undefined {
  for (const o of objects) {
    if (o.kind !== 'Service' || (o.metadata?.namespace ?? 'default') !== namespace) {
      continue;
    }
    const selector = field<Record<string, string>>(o.spec, 'selector');
    if (!selector || !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
      continue;
    }
    for (const sp of list<{ port?: number; targetPort?: number | string; name?: string; appProtocol?: string }>(o.spec, 'ports')) {
      const target = sp.targetPort ?? sp.port;
      if (target === port.port || (typeof target === 'string' && target === port.name)) {
        return sp.appProtocol ?? sp.name?.split('-')[0];
      }
    }
  }
  return undefined;
}
