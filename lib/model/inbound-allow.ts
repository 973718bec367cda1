import type { Microservice } from './microservice';
import { RequestRestriction } from './request-restriction';

/** Who an allow admits: a declared service, or the ingress gateway. */
export type Caller = { readonly kind: 'service'; readonly service: Microservice } | { readonly kind: 'ingress-gateway' };

/** One admitted (caller, target port, request restriction) triple. */
export interface InboundAllow {
  readonly caller: Caller;
  readonly port: number;
  /** undefined: any request on the port. */
  readonly restriction?: RequestRestriction;
}

/** A stable identity of a caller, used to merge allows. */
export function callerKey(caller: Caller): string {
  return caller.kind === 'service' ? `svc:${caller.service.namespace}/${caller.service.name}` : 'gateway';
}
