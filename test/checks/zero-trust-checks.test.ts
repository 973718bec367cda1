import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { baseline, expectViolations, synthWithChecks, tempDir } from './support';
import { ZeroTrustChecks } from '../../lib/checks';

const RULE_IDS = ['ZT-EKS-1', 'ZT-EKS-2', 'ZT-EKS-3', 'ZT-EKS-4', 'ZT-EKS-5', 'ZT-EKS-6', 'ZT-EKS-7',
  'ZT-KMS-1', 'ZT-LOG-1', 'ZT-CFN-1', 'ZT-CFN-2', 'ZT-K8S-1', 'ZT-NET-1'];

describe('ZeroTrustChecks plugin', () => {
  test('publishes a stable rule table that matches ruleIds and its doc comment', () => {
    const plugin = new ZeroTrustChecks();
    expect(plugin.name).toBe('ZeroTrustChecks');
    expect(plugin.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(ZeroTrustChecks.RULES.map(r => r.ruleId)).toEqual(RULE_IDS);
    expect(plugin.ruleIds).toEqual(RULE_IDS);
    for (const rule of ZeroTrustChecks.RULES) {
      expect(rule.severity).toBe('error');
      expect(rule.title.length).toBeGreaterThan(10);
      expect(rule.fix.length).toBeGreaterThan(20);
      expect(rule.controls.length).toBeGreaterThan(0);
    }
    const source = fs.readFileSync(path.join(__dirname, '../../lib/checks/zero-trust-checks.ts'), 'utf8');
    for (const id of RULE_IDS) {
      expect(source).toContain(` * | ${id} |`);
    }
  });

  test('RULES is a copy: mutating it does not change the plugin', () => {
    (ZeroTrustChecks.RULES[0].controls as string[]).push('X');
    expect(ZeroTrustChecks.RULES[0].controls).toContain('X');
    expect(new ZeroTrustChecks().ruleIds).toEqual(RULE_IDS);
    (ZeroTrustChecks.RULES[0].controls as string[]).pop();
  });

  test('a violation carries the rule id, the resource, the problem and the fix, at severity error', () => {
    const result = synthWithChecks(stack => {
      baseline(stack).key.enableKeyRotation = false;
    });
    expectViolations(result, [['ZT-KMS-1', 'Key']]);
    const [v] = result.violations;
    expect(v.constructPaths).toEqual(['Test/Key']);
    expect(v.description).toBe('[ZT-KMS-1] Every symmetric customer-managed KMS key rotates automatically. Key: EnableKeyRotation is false on a symmetric key; '
      + 'it must be true.');
    expect(v.suggestedFix).toMatch(/enableKeyRotation: true/);
    expect(v.severity).toBe('error');
  });

  test('an acknowledgement with a reason (the cdk-nag 3 way) silences exactly that rule on that construct', () => {
    const result = synthWithChecks(stack => {
      const { key } = baseline(stack);
      key.enableKeyRotation = false;
      new kms.CfnKey(stack, 'Other', {});
      Validations.of(key).acknowledge({ id: 'ZeroTrustChecks::ZT-KMS-1', reason: 'imported material, rotated by hand' });
    });
    expectViolations(result, [['ZT-KMS-1', 'Other']]);
  });

  test('checks every stack of the app and reports each against its own stack', () => {
    const outdir = tempDir('zt-multi-');
    const app = new App({ outdir });
    const good = new Stack(app, 'Good');
    baseline(good);
    const bad = new Stack(app, 'Bad');
    baseline(bad).logGroup.retentionInDays = undefined;
    Validations.of(app).addPlugins(new ZeroTrustChecks());
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(() => app.synth()).toThrow(/ZT-LOG-1/);
    } finally {
      quiet.mockRestore();
    }
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const ours = report.pluginReports.find((p: { pluginName: string }) => p.pluginName === 'ZeroTrustChecks');
    const where = (v: any) => [v.ruleName, v.violatingConstructs[0].constructPath, v.violatingConstructs[0].cloudFormationResource.templatePath];
    expect(ours.violations.map(where))
      .toEqual([['ZT-LOG-1', 'Bad/ClusterLogs', 'Bad.template.json']]);
  });

  test('is read-only: templates are byte-identical after validation', () => {
    const outdir = tempDir('zt-ro-');
    const app = new App({ outdir });
    baseline(new Stack(app, 'S')).key.enableKeyRotation = false;
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const assembly = app.synth();
    quiet.mockRestore();
    const file = path.join(assembly.directory, 'S.template.json');
    const before = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    const report = new ZeroTrustChecks().validate({ templatePaths: [file], stackTemplates: [], appConstruct: app });
    expect(report.success).toBe(false);
    expect(report.violations.map(v => v.ruleName)).toEqual(['ZT-KMS-1']);
    expect(crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')).toBe(before);
  });

  test('a file that is not JSON is an error, not a silent pass', () => {
    const file = path.join(tempDir('zt-bad-'), 'x.template.json');
    fs.writeFileSync(file, 'Resources: {}');
    expect(() => new ZeroTrustChecks().validate({ templatePaths: [file], stackTemplates: [], appConstruct: new App() }))
      .toThrow(/is not a JSON template/);
  });
});
