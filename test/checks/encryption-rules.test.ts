import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { baseline, expectCompliant, expectViolations, synthWithChecks } from './support';

describe('ZT-KMS-1 symmetric keys rotate', () => {
  test.each([[false], [undefined]])('EnableKeyRotation %s on a symmetric key is a violation on the key', rotation => {
    const result = synthWithChecks(stack => {
      baseline(stack).key.enableKeyRotation = rotation;
    });
    expectViolations(result, [['ZT-KMS-1', 'Key']]);
    expect(result.violations[0].description).toMatch(/EnableKeyRotation is (false|absent) on a symmetric key/);
  });

  test('an explicit SYMMETRIC_DEFAULT key without rotation is a violation', () => {
    const result = synthWithChecks(stack => {
      baseline(stack);
      new kms.CfnKey(stack, 'Explicit', { keySpec: 'SYMMETRIC_DEFAULT' });
    });
    expectViolations(result, [['ZT-KMS-1', 'Explicit']]);
  });

  test('asymmetric and HMAC keys (which cannot rotate automatically) are out of scope; the L2 key with rotation passes', () => {
    expectCompliant(synthWithChecks(stack => {
      baseline(stack);
      new kms.CfnKey(stack, 'Signing', { keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' });
      new kms.CfnKey(stack, 'Mac', { keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' });
      new kms.Key(stack, 'L2', { enableKeyRotation: true });
    }));
  });
});

describe('ZT-LOG-1 log groups are encrypted and expire', () => {
  test('a log group without retention is a violation on it', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).logGroup.retentionInDays = undefined;
    });
    expectViolations(result, [['ZT-LOG-1', 'ClusterLogs']]);
    expect(result.violations[0].description).toMatch(/no RetentionInDays \(its events never expire\)/);
  });

  test('a log group without a KMS key is a violation on it', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).logGroup.kmsKeyId = undefined;
    });
    expectViolations(result, [['ZT-LOG-1', 'ClusterLogs']]);
    expect(result.violations[0].description).toMatch(/no KmsKeyId\./);
  });

  test('an L2 log group with defaults (never expire, no key) is a violation naming both', () => {
    const result = synthWithChecks(stack => {
      baseline(stack);
      const group = new logs.LogGroup(stack, 'Flow', { retention: logs.RetentionDays.INFINITE });
      (group.node.defaultChild as logs.CfnLogGroup).overrideLogicalId('Flow');
    });
    expectViolations(result, [['ZT-LOG-1', 'Flow']]);
    expect(result.violations[0].description).toMatch(/no KmsKeyId and no RetentionInDays/);
  });

  test('an L2 log group with a key and retention is compliant', () => {
    expectCompliant(synthWithChecks(stack => {
      baseline(stack);
      new logs.LogGroup(stack, 'Flow', {
        retention: logs.RetentionDays.THREE_MONTHS,
        encryptionKey: kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:111111111111:key/abc'),
      });
    }));
  });
});
