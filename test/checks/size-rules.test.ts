import * as fs from 'fs';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { baseline, DEFAULT_DENY, expectCompliant, expectViolations, KUBERNETES_RESOURCE, synthWithChecks, validateTemplate } from './support';

/** Disables CDK's own 500-resource synth check, so the plugin is what reports the count. */
const NO_CDK_LIMIT = { '@aws-cdk/core:stackResourceLimit': 0 };

function handles(stack: Stack, count: number): void {
  for (let i = 0; i < count; i++) {
    new CfnResource(stack, `H${i}`, { type: 'AWS::CloudFormation::WaitConditionHandle' });
  }
}

function kubernetesResource(stack: Stack, id: string, manifest: unknown): CfnResource {
  return new CfnResource(stack, id, { type: KUBERNETES_RESOURCE, properties: { ServiceToken: 'arn:aws:lambda:us-east-1:1:function:k', Manifest: manifest } });
}

describe('ZT-CFN-2 at most 500 resources per template', () => {
  test('501 resources is a violation on the stack, reporting the count', () => {
    const result = synthWithChecks(stack => handles(stack, 501), NO_CDK_LIMIT);
    expectViolations(result, [['ZT-CFN-2', 'Test']]);
    expect(result.violations[0].description).toMatch(/The template has 501 resources; CloudFormation accepts at most 500\./);
  });

  test('exactly 500 resources is compliant', () => {
    expectCompliant(synthWithChecks(stack => handles(stack, 500), NO_CDK_LIMIT));
  });
});

describe('ZT-CFN-1 template under 1,000,000 bytes', () => {
  test('a template over 1 MB is a violation on the stack, reporting its size', () => {
    const result = synthWithChecks(stack => {
      new CfnResource(stack, 'Blob', { type: 'Custom::Blob', properties: { ServiceToken: 'arn:aws:lambda:us-east-1:1:function:b', Data: 'x'.repeat(1_050_000) } });
    });
    const bytes = fs.statSync(`${result.outdir}/Test.template.json`).size;
    expect(bytes).toBeGreaterThan(1_000_000);
    expectViolations(result, [['ZT-CFN-1', 'Test']]);
    expect(result.violations[0].description).toContain(`The template is ${bytes.toLocaleString('en-US')} bytes`);
  });

  test('a template just under the limit is compliant; one of exactly 1,000,000 bytes is not', () => {
    const template = (size: number) => {
      const skeleton = JSON.stringify({ Resources: { Blob: { Type: 'Custom::Blob', Properties: { Data: '' } } } });
      return JSON.stringify({ Resources: { Blob: { Type: 'Custom::Blob', Properties: { Data: 'x'.repeat(size - skeleton.length) } } } });
    };
    const under = validateTemplate(template(999_999));
    expect(fs.statSync(under.templatePath).size).toBe(999_999);
    expect(under.pairs).toEqual([]);
    const at = validateTemplate(template(1_000_000));
    expect(fs.statSync(at.templatePath).size).toBe(1_000_000);
    expect(at.pairs).toEqual([['ZT-CFN-1', 'Direct.template.json']]);
  });
});

describe('ZT-K8S-1 Kubernetes manifest under 256 KB', () => {
  const bigConfigMap = (bytes: number) => [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'shop' }, data: { blob: 'x'.repeat(bytes) } }];

  test('a manifest over 256 KB is a violation on that resource, reporting its size', () => {
    const result = synthWithChecks(stack => {
      baseline(stack);
      kubernetesResource(stack, 'Big', JSON.stringify(bigConfigMap(270_000)));
    });
    expectViolations(result, [['ZT-K8S-1', 'Big']]);
    expect(result.violations[0].description).toMatch(/The manifest is 270,\d{3} bytes; it must be under 262,144\./);
  });

  test('a large manifest under 256 KB is compliant', () => {
    expectCompliant(synthWithChecks(stack => {
      baseline(stack);
      kubernetesResource(stack, 'Big', JSON.stringify(bigConfigMap(250_000)));
    }));
  });

  test('an Fn::Join manifest is measured by its joined literal parts; tokens are not counted', () => {
    const join = (parts: unknown[]) => ({ Resources: { M: { Type: KUBERNETES_RESOURCE, Properties: { Manifest: { 'Fn::Join': ['', parts] } } } } });
    const half = 'x'.repeat(140_000);
    const over = validateTemplate(join(['[{"kind":"ConfigMap","data":{"a":"', half, { Ref: 'AWS::Region' }, half, '"}}]']));
    expect(over.pairs).toEqual([['ZT-K8S-1', 'M']]);
    expect(over.descriptions[0]).toMatch(/literal parts only, 1 tokens not counted/);
    const under = validateTemplate(join(['[{"kind":"ConfigMap","data":{"a":"', half, { Ref: 'AWS::Region' }, '"}}]']));
    expect(under.pairs).toEqual([]);
    // A nested Fn::Join's delimiter counts too.
    const nested = validateTemplate(join(['["', { 'Fn::Join': ['y'.repeat(140_000), ['a', 'b', 'c']] }, '"]']));
    expect(nested.pairs).toEqual([['ZT-K8S-1', 'M']]);
  });

  test('a manifest that is neither a string nor an Fn::Join is a violation', () => {
    const result = validateTemplate({ Resources: { M: { Type: KUBERNETES_RESOURCE, Properties: { Manifest: { 'Fn::Sub': '[]' } } } } });
    expect(result.pairs).toEqual([['ZT-K8S-1', 'M'], ['ZT-NET-1', 'M']]);
  });

  test('a CDK-joined manifest (stack.toJsonString with tokens) synthesizes compliant', () => {
    expectCompliant(synthWithChecks(stack => {
      baseline(stack);
      kubernetesResource(stack, 'Joined', stack.toJsonString([{ ...DEFAULT_DENY, metadata: { name: stack.region, namespace: 'shop' } }]));
    }));
  });
});
