import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { ReferenceClusterStack } from '../bin/reference-cluster';
import { ZeroTrustChecks } from '../lib';

const CONTEXT = { '@aws-cdk/aws-eks:useNativeOidcProvider': true, '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true };

describe('ZeroTrustChecks over the reference cluster', () => {
  test('every rule passes on the reference app', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ztc-'));
    const app = new App({ outdir, builtinCloudFormationValidation: false, context: CONTEXT });
    new ReferenceClusterStack(app, 'ZeroTrustReference');
    const checks = new ZeroTrustChecks();
    const validate = jest.spyOn(checks, 'validate');
    Validations.of(app).addPlugins(checks);
    app.synth();
    // The plugin really ran over the template, and reported nothing.
    expect(validate).toHaveBeenCalledTimes(1);
    const report = path.join(outdir, 'validation-report.json');
    const violations = fs.existsSync(report)
      ? (JSON.parse(fs.readFileSync(report, 'utf8')).pluginReports as { pluginName: string; violations?: unknown[] }[])
        .filter(r => r.pluginName === 'ZeroTrustChecks').flatMap(r => r.violations ?? [])
      : [];
    expect(violations).toEqual([]);
  });
});
