import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Where the quarantine responder's Lambda code is: the esbuild bundle of handler/main.ts that
 * `npx projen bundle` writes (the test, compile and synth tasks run it first). The path is relative
 * to this file, so it resolves from lib/response/ (ts-node, jest) and build/response/ (the published
 * package) to the same assets/ folder at the package root. Internal: not exported from the library.
 */
export const RESPONDER_BUNDLE_DIR = path.join(__dirname, '..', '..', 'assets', 'quarantine-responder');

/** The GuardDuty resource type of Kubernetes audit-log and EKS runtime findings. */
export const GUARDDUTY_EKS_RESOURCE_TYPES = ['EKSCluster'];

/** The bundle as Lambda code; a clear error naming the command when it was not built. */
export function responderCode(where: string, dir: string = RESPONDER_BUNDLE_DIR): lambda.Code {
  const entry = path.join(dir, 'index.js');
  if (!fs.existsSync(entry)) {
    throw new Error(`QuarantineResponder '${where}': the Lambda bundle ${entry} is missing: run \`npx projen bundle\` `
      + '(the test, compile and synth tasks run it first).');
  }
  return lambda.Code.fromAsset(dir);
}
