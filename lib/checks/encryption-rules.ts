/**
 * Key and log-group checks: ZT-KMS-1 (symmetric keys rotate) and ZT-LOG-1 (every log group is encrypted and
 * expires). Read-only.
 */
import { get, resourcesOfType, RuleDefinition, RuleFinding, show } from './template';

const keyRotation: RuleDefinition = {
  info: {
    ruleId: 'ZT-KMS-1',
    controls: ['KMS-01'],
    title: 'Every symmetric customer-managed KMS key rotates automatically',
    fix: 'Set enableKeyRotation: true on the kms.Key (EnableKeyRotation: true; optionally rotationPeriod).',
    severity: 'error',
  },
  check: template => resourcesOfType(template, 'AWS::KMS::Key').flatMap(([logicalId, key]): RuleFinding[] => {
    const spec = get(key.Properties, 'KeySpec');
    if (spec !== undefined && spec !== 'SYMMETRIC_DEFAULT') {
      return [];
    }
    const rotation = get(key.Properties, 'EnableKeyRotation');
    return rotation === true ? [] : [{
      logicalId,
      locations: ['Properties/EnableKeyRotation'],
      message: `EnableKeyRotation is ${show(rotation)} on a symmetric key; it must be true.`,
    }];
  }),
};

const logGroups: RuleDefinition = {
  info: {
    ruleId: 'ZT-LOG-1',
    controls: ['OBS-01', 'OBS-02'],
    title: 'Every CloudWatch log group is encrypted with a KMS key and has a retention period',
    fix: 'Give the logs.LogGroup an encryptionKey (KmsKeyId) whose key policy admits logs.<region>.amazonaws.com, and a finite retention '
      + '(RetentionInDays). For Lambda and other service-created groups, create the group in the stack first.',
    severity: 'error',
  },
  check: template => resourcesOfType(template, 'AWS::Logs::LogGroup').flatMap(([logicalId, group]): RuleFinding[] => {
    const missing = ['KmsKeyId', 'RetentionInDays'].filter(p => get(group.Properties, p) === undefined || get(group.Properties, p) === null);
    return missing.length === 0 ? [] : [{
      logicalId,
      locations: missing.map(p => `Properties/${p}`),
      message: `The log group has no ${missing.join(' and no ')}${missing.includes('RetentionInDays') ? ' (its events never expire)' : ''}.`,
    }];
  }),
};

/** Encryption and logging rules, in rule-id order. */
export const ENCRYPTION_RULES: RuleDefinition[] = [keyRotation, logGroups];
