import { Testing } from 'cdk8s';
import { ZeroTrustPolicyChart, ZeroTrustPolicyChartProps } from '../../lib';

/** A rendered Kubernetes object, as JSON. */
export type Manifest = {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly spec?: any;
  readonly [key: string]: any;
};

/** A fresh chart in a fresh test app. */
export function newChart(props: ZeroTrustPolicyChartProps = {}, id = 'shop'): ZeroTrustPolicyChart {
  return new ZeroTrustPolicyChart(Testing.app(), id, { namespace: 'shop', ...props });
}

/** The chart's objects. */
export function synth(chart: ZeroTrustPolicyChart): Manifest[] {
  return chart.toJson() as Manifest[];
}

/** Finds exactly one object by kind, namespace and name; fails loudly when there is none or several. */
export function find(objects: Manifest[], kind: string, namespace: string | undefined, name: string): Manifest {
  const found = objects.filter(o => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind} ${namespace ?? ''}/${name}, found ${found.length}; have: ${objects.map(o => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`).join(', ')}`);
  }
  return found[0];
}

/** Whether an object of that kind, namespace and name exists. */
export function has(objects: Manifest[], kind: string, namespace: string | undefined, name: string): boolean {
  return objects.some(o => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
}

/** All objects of a kind. */
export function ofKind(objects: Manifest[], kind: string): Manifest[] {
  return objects.filter(o => o.kind === kind);
}

/** The quarantine exclusion every selector and peer carries. */
export const NOT_QUARANTINED = [{ key: 'zero-trust.cdk.io/quarantine', operator: 'DoesNotExist' }];
