/**
 * cdk-nag (AwsSolutions, NIST 800-53 R5) and ZeroTrustChecks over a stack with a ZeroTrustCluster and
 * ZeroTrustObservability (everything on, GuardDuty detector created): the observability
 * constructs add no unacknowledged finding, and their own acknowledgements carry reasons.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { observedStack, ObservedStack } from './support';
import { ZeroTrustChecks } from '../../lib';

interface Violation { ruleName: string; violatingConstructs: Array<{ constructPath: string }> }
interface Report { pluginReports: Array<{ pluginName: string; violations: Violation[] }> }

let built: ObservedStack;
/** How many times each plugin ran, to prove a clean report is not an empty one. */
const runs: Record<string, number> = {};
let report: Report | undefined;
let synthError: string | undefined;

beforeAll(() => {
  built = observedStack({}, app => [new AwsSolutionsChecks(app), new NIST80053R5Checks(app), new ZeroTrustChecks()].map(plugin => {
    const original = plugin.validate.bind(plugin);
    plugin.validate = context => {
      runs[plugin.name] = (runs[plugin.name] ?? 0) + 1;
      return original(context);
    };
    return plugin;
  }));
  const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    built.app.synth();
  } catch (e) {
    synthError = (e as Error).message;
  } finally {
    quiet.mockRestore();
  }
  const file = path.join(built.outdir, 'validation-report.json');
  report = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : undefined;
});

afterAll(() => fs.rmSync(built.outdir, { recursive: true, force: true }));

test('no cdk-nag (AwsSolutions, NIST 800-53 R5) or ZeroTrustChecks finding on any resource', () => {
  const findings = (report?.pluginReports ?? []).flatMap(r => r.violations.flatMap(v => v.violatingConstructs
    .map(c => `${r.pluginName} ${v.ruleName} ${c.constructPath}`)));
  expect(findings.filter(f => f.includes('/Observability/'))).toEqual([]);
  // The whole stack is clean too (the cluster's own findings are acknowledged by ZeroTrustCluster).
  expect(findings).toEqual([]);
  expect(synthError).toBeUndefined();
  expect(runs).toEqual({ 'AwsSolutions': 1, 'NIST.800.53.R5': 1, 'ZeroTrustChecks': 1 });
});

test('every acknowledgement under Observability has a reason', () => {
  const acks = built.app.node.findAll().filter(c => c.node.path.includes('/Observability/')).flatMap(c => c.node.metadata
    .filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap(m => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))));
  for (const a of acks) {
    expect(a.reason.length).toBeGreaterThan(30);
  }
});
