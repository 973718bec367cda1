/** Fixture objects for the guardrail tests: compliant workloads and mesh objects, weakened one field at a time. */
import { Chart, Testing } from 'cdk8s';
import { Json } from './admission-cel';
import { ZeroTrustGuardrails, ZeroTrustGuardrailsProps } from '../../lib/governance';

export const ECR = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/';

export const GUARDRAIL_PROPS: ZeroTrustGuardrailsProps = {
  allowedImageRegistries: [ECR, 'docker.io/istio/'],
  deployers: { usernamePrefixes: ['arn:aws:sts::111122223333:assumed-role/KubectlRole/'] },
  breakGlass: { groups: ['zero-trust:break-glass'] },
  responders: { usernames: ['system:serviceaccount:zero-trust:responder'] },
};

/** Synthesizes the guardrails in their own chart. */
export function synthGuardrails(props: ZeroTrustGuardrailsProps = GUARDRAIL_PROPS): Json[] {
  const chart = new Chart(Testing.app(), 'guardrails');
  new ZeroTrustGuardrails(chart, 'guardrails', props);
  return Testing.synth(chart) as Json[];
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A pod that every guardrail admits. */
export function compliantPod(): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'order-7d9f', namespace: 'shop', labels: { 'app.kubernetes.io/name': 'order' } },
    spec: {
      serviceAccountName: 'order',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'app',
        image: `${ECR}shop/order@sha256:${'a'.repeat(64)}`,
        ports: [{ containerPort: 8080 }],
        securityContext: { allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] } },
      }],
      initContainers: [{ name: 'migrate', image: `${ECR}shop/migrate:1.0`, securityContext: { allowPrivilegeEscalation: false } }],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
}

/** A Deployment whose pod template is the compliant pod. */
export function compliantDeployment(): Json {
  const pod = compliantPod();
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'order', namespace: 'shop' },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/name': 'order' } },
      template: { metadata: { labels: { 'app.kubernetes.io/name': 'order' } }, spec: pod.spec },
    },
  };
}

/** A CronJob whose pod template is the compliant pod. */
export function compliantCronJob(): Json {
  const pod = compliantPod();
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'report', namespace: 'shop' },
    spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { ...(pod.spec as Json), restartPolicy: 'Never' } } } } },
  };
}

/** A compliant object with one change applied to a copy. */
export function weaken(obj: Json, change: (copy: Json & { spec: any; metadata: any }) => void): Json {
  const copy = clone(obj) as Json & { spec: any; metadata: any };
  change(copy);
  return copy;
}

export function podSpecOf(obj: Json): any {
  const spec = obj.spec as any;
  if (obj.kind === 'Pod') return spec;
  if (obj.kind === 'CronJob') return spec.jobTemplate.spec.template.spec;
  return spec.template.spec;
}
