import { FlowDecision } from '../analysis/effective-access';
import { Workload } from '../analysis/workload';
import { addTo } from '../util/multimap';

/** A flow drawn as an edge. */
interface Edge {
  readonly source: string;
  readonly destination: string;
  readonly label: string;
}

/** Edges of the allowed flows, one per (source, destination), labelled with ports and requests. */
export function edgesOf(flows: readonly FlowDecision[]): Edge[] {
  const byPair = new Map<string, { source: string; destination: string; labels: string[] }>();
  for (const f of flows.filter(x => x.allowed)) {
    const key = `${f.source}\u0000${f.destination}`;
    const entry = byPair.get(key) ?? { source: f.source, destination: f.destination, labels: [] };
    const requests = f.mesh.requests.join(' | ');
    entry.labels.push(`${f.port}${f.protocol === 'TCP' ? '' : '/' + f.protocol}${requests === '*' || requests === '' ? '' : ' ' + requests.replace(/methods=|paths=/g, '')}`);
    byPair.set(key, entry);
  }
  return [...byPair.values()].map(e => ({ source: e.source, destination: e.destination, label: e.labels.join(', ') }));
}

function nodeIds(nodes: readonly string[]): Map<string, string> {
  return new Map(nodes.map((n, i) => [n, `n${i}`]));
}

function grouped(workloads: readonly Workload[], used: Set<string>): Map<string, Workload[]> {
  const byNs = new Map<string, Workload[]>();
  for (const w of workloads.filter(x => used.has(x.id) || x.ports.length > 0)) {
    addTo(byNs, w.namespace, w);
  }
  return new Map([...byNs].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function shortName(w: Workload): string {
  return w.id.split('/').slice(-1)[0];
}

/** A Mermaid flowchart: namespaces as subgraphs, allowed flows as labelled edges. */
export function toMermaid(workloads: readonly Workload[], flows: readonly FlowDecision[]): string {
  const edges = edgesOf(flows);
  const used = new Set(edges.flatMap(e => [e.source, e.destination]));
  const ids = nodeIds(['external', ...workloads.map(w => w.id)]);
  const lines = ['flowchart LR'];
  if (used.has('external')) {
    lines.push(`  ${ids.get('external')}(("outside world"))`);
  }
  for (const [ns, list] of grouped(workloads, used)) {
    lines.push(`  subgraph ns_${ids.get(list[0].id)}["namespace ${ns}"]`);
    for (const w of list) {
      lines.push(`    ${ids.get(w.id)}["${shortName(w)}"]`);
    }
    lines.push('  end');
  }
  for (const e of edges) {
    lines.push(`  ${ids.get(e.source)} -->|"${e.label.replace(/"/g, "'")}"| ${ids.get(e.destination)}`);
  }
  return lines.join('\n');
}

/** The same graph in Graphviz DOT, for the SVG. */
export function toDot(workloads: readonly Workload[], flows: readonly FlowDecision[]): string {
  const edges = edgesOf(flows);
  const used = new Set(edges.flatMap(e => [e.source, e.destination]));
  const ids = nodeIds(['external', ...workloads.map(w => w.id)]);
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = ['digraph zero_trust {', '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fillcolor="#eef5ff", fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  if (used.has('external')) {
    lines.push(`  ${ids.get('external')} [label="outside world", shape=ellipse, fillcolor="#fff3e0"];`);
  }
  let i = 0;
  for (const [ns, list] of grouped(workloads, used)) {
    lines.push(`  subgraph cluster_${i++} {`, `    label=${q(`namespace ${ns}`)};`, '    style=dashed;');
    for (const w of list) {
      lines.push(`    ${ids.get(w.id)} [label=${q(shortName(w))}];`);
    }
    lines.push('  }');
  }
  for (const e of edges) {
    lines.push(`  ${ids.get(e.source)} -> ${ids.get(e.destination)} [label=${q(e.label)}];`);
  }
  lines.push('}');
  return lines.join('\n');
}
