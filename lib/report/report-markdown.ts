import type { ZeroTrustReport } from './zero-trust-report';

const esc = (s: string) => s.replace(/\|/g, '\\|');

/** Renders a report as GitHub-flavoured Markdown, deterministically. */
export function renderMarkdown(report: ZeroTrustReport, svgFile?: string): string {
  const lines: string[] = [`# ${report.title}`, ''];
  const allowed = report.flows.filter(f => f.allowed);
  const oneLayer = report.flows.filter(f => !f.allowed);
  const must = report.findings.filter(f => f.severity === 'must').length;
  lines.push(`${allowed.length} allowed flow(s) between ${report.workloads.filter(w => !w.id.startsWith('platform/')).length} workload(s); `
    + `${report.findings.length} finding(s) (${must} must, ${report.findings.length - must} should).`, '');

  lines.push('## Service graph', '', '```mermaid', report.toMermaid(), '```', '');
  if (svgFile) {
    lines.push(`![service graph](${svgFile})`, '');
  }

  lines.push('## Allowed flows', '');
  if (allowed.length === 0) {
    lines.push('No flow is allowed.', '');
  } else {
    lines.push('| source | destination | port | requests (L7) | mTLS | decided by |', '|---|---|---|---|---|---|');
    for (const f of allowed) {
      const requests = f.mesh.enforced ? f.mesh.requests.join(' or ') : 'not enforced (no sidecar)';
      lines.push(`| ${esc(f.source)} | ${esc(f.destination)} | ${f.port}/${f.protocol} | ${esc(requests === '*' ? 'any' : requests)} | ${f.mtlsMode} | ${esc([...f.network.policies, ...f.mesh.policies].join(', ') || 'no policy')} |`);
    }
    lines.push('');
  }

  lines.push('## Closed, that you might expect open', '');
  const closed: string[] = [];
  for (const w of report.workloads.filter(x => x.ports.length > 0 && !x.id.startsWith('platform/'))) {
    const inbound = allowed.filter(f => f.destination === w.id);
    if (inbound.length === 0) {
      closed.push(`- **${w.id}** exposes ${w.ports.map(p => p.port).join(', ')} but nobody may call it.`);
      continue;
    }
    for (const p of w.ports.filter(x => !inbound.some(f => f.port === x.port))) {
      closed.push(`- port ${p.port} of **${w.id}** is closed to every caller.`);
    }
    for (const f of inbound.filter(x => x.mesh.requests.length > 0 && !x.mesh.requests.includes('*'))) {
      closed.push(`- ${f.source} may call **${w.id}**:${f.port} only with ${f.mesh.requests.join(' or ')}; every other request is denied.`);
    }
  }
  for (const f of oneLayer) {
    const open = f.network.allowed ? 'NetworkPolicy' : 'Istio';
    closed.push(`- ${f.source} -> **${f.destination}**:${f.port} is open at the ${open} layer only, so connections fail (${f.network.allowed ? `Istio: ${f.mesh.policies.join(', ') || 'mTLS'}` : `NetworkPolicy: ${f.network.policies.join(', ')}`}).`);
  }
  const quarantineBroken = report.findings.filter(f => f.control === 'IR-02' || f.control === 'IR-03');
  closed.push(quarantineBroken.length === 0
    ? '- A pod labelled for quarantine loses every flow, in and out, while its neighbours keep theirs.'
    : `- Quarantine is **not** wired: a labelled pod would keep flows (see the ${[...new Set(quarantineBroken.map(f => f.control))].join(' and ')} findings).`);
  lines.push(...closed, '');

  lines.push('## Findings', '');
  if (report.findings.length === 0) {
    lines.push('None: every control that Kubernetes objects can show is met.', '');
  } else {
    lines.push('| control | severity | subject | finding | fix |', '|---|---|---|---|---|');
    for (const f of report.findings) {
      lines.push(`| ${f.control} | ${f.severity} | ${esc(f.subject)} | ${esc(f.message)} | ${esc(f.fix)} |`);
    }
    lines.push('');
  }
  lines.push('Control ids refer to the project\'s security-control checklist (controls.md).', '');
  return lines.join('\n');
}
