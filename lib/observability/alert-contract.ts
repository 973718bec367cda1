/**
 * The contract between the alert manager's SNS message template (prometheus-rules.ts) and the
 * quarantine responder's handler (lib/response/handler/alertmanager.ts): one definition, read by
 * both sides. Plain values only, so the handler's Lambda bundle can include this file.
 */

/**
 * The label, and its value, by which an alerting rule marks its alerts for quarantine: the
 * quarantine responder acts on a firing alert only when it carries it, and records and ignores
 * every other alert. Add it to a rule of your own to have the responder act on it.
 */
export const QUARANTINE_LABEL = { name: 'quarantine', value: 'true' } as const;

/**
 * The `format` of the JSON the alert manager's SNS message template renders. The responder drops
 * (logged, and published as dropped) every SNS message without it: a CloudWatch alarm, a text
 * message, an alert manager without the template. It tells messages apart; it authenticates
 * nothing (anyone who may publish can write it): the policy of `ManagedPrometheus.alertTopic`,
 * which only the workspace may publish to, does that.
 */
export const ALERT_MESSAGE_FORMAT = 'zero-trust-eks/alertmanager-sns/v1';
