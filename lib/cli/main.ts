#!/usr/bin/env node
import { runCli } from './run-cli';

runCli(process.argv.slice(2), { out: s => process.stdout.write(s), err: s => process.stderr.write(s) })
  .then(code => {
    process.exitCode = code;
  })
  .catch((e: Error) => {
    process.stderr.write(`cdk-zero-trust-eks: ${e.message}\n`);
    process.exitCode = 2;
  });
