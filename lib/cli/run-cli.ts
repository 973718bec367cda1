import { parseArgs } from 'util';
import { ZeroTrustReport } from '../report/zero-trust-report';

/** Where the command writes. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

const USAGE = `usage:
  cdk-zero-trust-eks audit <file-or-dir>... [--json] [--root-namespace NS] [--trust-domain TD] [--quarantine-label KEY]
  cdk-zero-trust-eks report <file-or-dir>... [--out DIR] [--json] [...same options]

audit   prints the findings against the zero-trust controls and the open flows.
report  writes zero-trust-report.md and zero-trust-report.svg (the service graph) to --out (default: .).
Both read YAML or JSON manifests (directories recursively) and exit 1 when there are findings,
0 when there are none, 2 on bad usage or unreadable input.
`;

/** Runs the command line; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== 'audit' && command !== 'report') {
    io.err(`unknown command '${command}'\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        'json': { type: 'boolean', default: false },
        'out': { type: 'string', default: '.' },
        'root-namespace': { type: 'string' },
        'trust-domain': { type: 'string' },
        'quarantine-label': { type: 'string' },
      },
    });
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.positionals.length === 0) {
    io.err(`${command}: name at least one manifest file or directory\n${USAGE}`);
    return 2;
  }
  const report = ZeroTrustReport.fromFiles(parsed.positionals, {
    rootNamespace: parsed.values['root-namespace'],
    trustDomain: parsed.values['trust-domain'],
    quarantineLabel: parsed.values['quarantine-label'],
    title: `Zero-trust posture report: ${parsed.positionals.join(', ')}`,
  });
  if (parsed.values.json) {
    io.out(report.toJsonString() + '\n');
  } else if (command === 'audit') {
    io.out(auditText(report));
  }
  if (command === 'report') {
    const written = await report.writeTo(parsed.values.out ?? '.');
    io.err(`wrote ${written.join(', ')}\n`);
  }
  return report.findings.length > 0 ? 1 : 0;
}

function auditText(report: ZeroTrustReport): string {
  const lines: string[] = [];
  const allowed = report.flows.filter(f => f.allowed);
  lines.push(`${report.findings.length} finding(s); ${allowed.length} open flow(s).`);
  for (const f of report.findings) {
    lines.push(`[${f.control} ${f.severity}] ${f.subject}: ${f.message}. Fix: ${f.fix}.`);
  }
  if (allowed.length > 0) {
    lines.push('', 'open flows:');
    for (const f of allowed) {
      lines.push(`  ${f.source} -> ${f.destination}:${f.port}/${f.protocol} (${f.mtlsMode}${f.mesh.requests.includes('*') ? '' : ', ' + f.mesh.requests.join(' or ')})`);
    }
  }
  return lines.join('\n') + '\n';
}
