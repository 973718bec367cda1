import { parseSnsRecord } from './alertmanager';
import { Json, obj, ParsedInput, parseTime, str, targetOf } from './requests';

/**
 * Parsing of the responder's inputs into quarantine requests. Internal to the Lambda handler:
 * plain TypeScript, not part of the jsii API.
 *
 * Two inputs are understood:
 * - An EventBridge event carrying a GuardDuty finding (`source: aws.guardduty`,
 *   `detail-type: GuardDuty Finding`, the finding in `detail`). Field names follow the GuardDuty
 *   finding format: https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html
 *   (`severity`, `type`, `id`, `resource`), API_Resource.html (`resourceType`, `eksClusterDetails`,
 *   `kubernetesDetails`), API_EksClusterDetails.html (`name`, `arn`) and
 *   API_KubernetesWorkloadDetails.html (`name`, `type`, `uid`, `namespace`).
 * - An SNS event (`Records[].Sns`): each message is the JSON the Amazon Managed Service for
 *   Prometheus alert manager renders with this library's message template, one request per alert
 *   (alertmanager.ts); any other message (a CloudWatch alarm notification among them) is dropped.
 *
 * @internal
 */
export { isIgnored, isMalformed, workloadKind } from './requests';
export type { IgnoredInput, MalformedInput, ParsedInput, QuarantineRequest, QuarantineTarget, WorkloadKind } from './requests';

/** Parses a Lambda input: an EventBridge GuardDuty event or an SNS event (one request per record). */
export function parseInput(input: unknown): ParsedInput[] {
  const event = obj(input);
  if (!event) {
    return [{ malformed: 'input is not a JSON object' }];
  }
  if (Array.isArray(event.Records)) {
    if (event.Records.length === 0) {
      return [{ malformed: 'SNS event has no records' }];
    }
    return event.Records.flatMap(parseSnsRecord);
  }
  if (event.source === 'aws.guardduty' || event['detail-type'] === 'GuardDuty Finding') {
    return [parseGuardDutyEvent(event)];
  }
  return [{ malformed: `unknown input (source ${JSON.stringify(event.source)}, detail-type ${JSON.stringify(event['detail-type'])})`, id: str(event.id) }];
}

function parseGuardDutyEvent(event: Json): ParsedInput {
  const eventId = str(event.id);
  if (event['detail-type'] !== 'GuardDuty Finding') {
    return { malformed: `detail-type ${JSON.stringify(event['detail-type'])} is not 'GuardDuty Finding'`, id: eventId };
  }
  const finding = obj(event.detail);
  if (!finding) {
    return { malformed: 'GuardDuty event has no detail', id: eventId };
  }
  const id = str(finding.id) ?? eventId;
  const severity = finding.severity;
  if (typeof severity !== 'number' || !Number.isFinite(severity)) {
    return { malformed: `finding severity ${JSON.stringify(severity)} is not a number`, id };
  }
  const eventTime = parseTime(event.time) ?? parseTime(finding.updatedAt);
  if (eventTime === undefined) {
    return { malformed: 'event has no parsable time', id };
  }
  const resource = obj(finding.resource);
  if (!resource) {
    return { malformed: 'finding has no resource', id };
  }
  const cluster = str(obj(resource.eksClusterDetails)?.name);
  if (!cluster) {
    return { malformed: `finding resource (${JSON.stringify(resource.resourceType)}) names no EKS cluster (resource.eksClusterDetails.name)`, id };
  }
  const base = { source: 'guardduty' as const, id: id ?? 'unknown', reason: str(finding.type) ?? 'unknown finding type', cluster, severity, eventTime };
  const workload = obj(obj(resource.kubernetesDetails)?.kubernetesWorkloadDetails);
  if (!workload) {
    return { ...base, target: { unsupported: 'the finding names no Kubernetes workload (resource.kubernetesDetails.kubernetesWorkloadDetails)' } };
  }
  return { ...base, target: targetOf(workload.type, workload.namespace, workload.name, workload.uid) };
}
