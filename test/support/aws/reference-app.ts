import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, IPolicyValidationPlugin, Validations } from 'aws-cdk-lib';
import { CfnTemplate } from './cfn';
import { ReferenceClusterStack } from '../../../bin/reference-cluster';

/** The context of cdk.json: every app in these tests uses it. */
export const CDK_JSON_CONTEXT = {
  '@aws-cdk/aws-eks:useNativeOidcProvider': true,
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
} as const;

/** What building the reference app once produced. */
export interface BuiltReference {
  readonly app: App;
  readonly stack: ReferenceClusterStack;
  /** The template as written to the cloud assembly. */
  readonly template: CfnTemplate;
  /** Its size in bytes, as CloudFormation receives it. */
  readonly templateBytes: number;
  /** The cloud assembly directory (a fresh temporary directory). */
  readonly outdir: string;
  /** Whether app.synth() threw, and its message. */
  readonly synthError?: string;
  /** validation-report.json of the assembly, when synthesis wrote one. */
  readonly validationReport?: ValidationReport;
  /** Removes the assembly directory (~60 MB: the kubectl layer and CLI assets). */
  dispose(): void;
}

/** validation-report.json, as far as these tests read it. */
export interface ValidationReport {
  readonly pluginReports: Array<{
    readonly pluginName: string;
    readonly conclusion: string;
    readonly violations: ReportedViolation[];
    readonly suppressedViolations?: Array<ReportedViolation & { acknowledgedId?: string; reason?: string; acknowledgedAt?: string }>;
  }>;
}

/** One violation of a plugin report. */
export interface ReportedViolation {
  readonly ruleName: string;
  readonly description: string;
  readonly severity: string;
  readonly violatingConstructs: Array<{ constructPath: string; cloudFormationResource?: { logicalId: string } }>;
}

/** Options of `buildReference`. */
export interface BuildOptions {
  /** Turn aws-cdk-lib's built-in CloudFormation schema validation on (~3-7 s more). */
  readonly builtinCloudFormationValidation?: boolean;
  /** Context on top of cdk.json's. */
  readonly context?: Record<string, unknown>;
  /** Policy-validation plugins to register on the app before synthesis. */
  readonly plugins?: (app: App) => IPolicyValidationPlugin[];
}

/** Builds and synthesizes `new ReferenceClusterStack(app, 'ZeroTrustReference')` into a fresh directory. */
export function buildReference(options: BuildOptions = {}): BuiltReference {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zt-reference-'));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: options.builtinCloudFormationValidation ?? false,
    context: { ...CDK_JSON_CONTEXT, ...options.context },
  });
  const stack = new ReferenceClusterStack(app, 'ZeroTrustReference');
  if (options.plugins) {
    Validations.of(app).addPlugins(...options.plugins(app));
  }
  let synthError: string | undefined;
  // Validation reports are printed on stderr as well as written to the assembly; the tests read the file.
  const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    app.synth();
  } catch (e) {
    synthError = (e as Error).message;
  } finally {
    quiet.mockRestore();
  }
  const templateFile = path.join(outdir, `${stack.artifactId}.template.json`);
  const reportFile = path.join(outdir, 'validation-report.json');
  return {
    app,
    stack,
    template: fs.existsSync(templateFile) ? JSON.parse(fs.readFileSync(templateFile, 'utf8')) : { Resources: {} },
    templateBytes: fs.existsSync(templateFile) ? fs.statSync(templateFile).size : 0,
    outdir,
    synthError,
    validationReport: fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : undefined,
    dispose: () => fs.rmSync(outdir, { recursive: true, force: true }),
  };
}
