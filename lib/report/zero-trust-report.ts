import * as fs from 'fs';
import * as path from 'path';
import { toDot, toMermaid } from './diagram';
import { Finding } from './finding';
import { parseManifests, readManifestFiles } from './manifest-files';
import { postureFindings } from './posture-checks';
import { renderMarkdown } from './report-markdown';
import { PLATFORM_IDS } from '../analysis/declared-access';
import { EffectiveAccess, FlowDecision } from '../analysis/effective-access';
import { KubeObject } from '../analysis/manifest';
import { namespacesOf, Workload, workloadsOf } from '../analysis/workload';
import type { ZeroTrustPolicyChart } from '../policy/zero-trust-policy-chart';

/** The part of @viz-js/viz (Graphviz in WebAssembly) used here; its CommonJS build is loaded. */
interface Viz {
  instance(): Promise<{ renderString(dot: string, options: { format: string }): string }>;
}

/** Options of a report built from manifests. */
export interface ZeroTrustReportOptions {
  /**
   * The mesh root namespace.
   * @default 'istio-system'
   */
  readonly rootNamespace?: string;
  /**
   * The mesh trust domain.
   * @default 'cluster.local'
   */
  readonly trustDomain?: string;
  /**
   * The quarantine label key whose wiring is checked.
   * @default 'zero-trust.cdk.io/quarantine'
   */
  readonly quarantineLabel?: string;
  /**
   * A title for the report.
   * @default 'Zero-trust posture report'
   */
  readonly title?: string;
}

/** Everything a report is built from. */
interface ReportInput {
  readonly objects: readonly KubeObject[];
  readonly workloads: Workload[];
  readonly rootNamespace: string;
  readonly trustDomain: string;
  readonly quarantineLabel: string;
  readonly gatewayLabels: Readonly<Record<string, string>>;
  readonly title: string;
}

/**
 * A zero-trust posture report: who can talk to whom (each layer's decision and mTLS), what is
 * closed, findings against the controls that Kubernetes objects show, and a diagram of the
 * service graph (Mermaid in the Markdown, SVG rendered offline by Graphviz in WebAssembly).
 */
export class ZeroTrustReport {
  /** From a chart: its synthesized objects and its declared workloads. */
  public static fromChart(chart: ZeroTrustPolicyChart): ZeroTrustReport {
    const context = chart._analysisContext();
    return new ZeroTrustReport({ ...context, objects: chart.toJson() as KubeObject[], title: `Zero-trust posture report: chart '${chart.node.id}'` });
  }

  /** From YAML or JSON text (any number of documents); workloads come from its Pods and controllers. */
  public static fromYaml(text: string, options: ZeroTrustReportOptions = {}): ZeroTrustReport {
    return ZeroTrustReport.fromObjects(parseManifests(text), options);
  }

  /** From manifest files and directories (read recursively: .yaml, .yml, .json). */
  public static fromFiles(paths: string[], options: ZeroTrustReportOptions = {}): ZeroTrustReport {
    return ZeroTrustReport.fromObjects(readManifestFiles(paths), options);
  }

  private static fromObjects(objects: KubeObject[], options: ZeroTrustReportOptions): ZeroTrustReport {
    const rootNamespace = options.rootNamespace ?? 'istio-system';
    const found = workloadsOf(objects, namespacesOf(objects));
    // DNS and istiod stand in for the platform when the manifests do not hold them, so that
    // blocked platform traffic is found.
    const platform: Workload[] = [
      { id: PLATFORM_IDS.dns, namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, serviceAccountName: 'coredns', ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], meshed: false },
      { id: PLATFORM_IDS.istiod, namespace: rootNamespace, labels: { app: 'istiod', istio: 'pilot' }, serviceAccountName: 'istiod', ports: [{ port: 15012, protocol: 'TCP' }], meshed: false },
    ];
    return new ZeroTrustReport({
      objects,
      workloads: [...found, ...platform],
      rootNamespace,
      trustDomain: options.trustDomain ?? 'cluster.local',
      quarantineLabel: options.quarantineLabel ?? 'zero-trust.cdk.io/quarantine',
      gatewayLabels: { istio: 'ingressgateway' },
      title: options.title ?? 'Zero-trust posture report',
    });
  }

  /** The report's title. */
  public readonly title: string;
  /** Every flow open at either layer, with each layer's decision. */
  public readonly flows: FlowDecision[];
  /** Findings against the controls, most important first. */
  public readonly findings: Finding[];
  /** The workloads analyzed (platform stand-ins included). */
  public readonly workloads: Workload[];

  private constructor(input: ReportInput) {
    const access = EffectiveAccess._fromObjects(input.objects, {
      rootNamespace: input.rootNamespace, trustDomain: input.trustDomain, workloads: input.workloads,
    });
    this.title = input.title;
    this.workloads = input.workloads;
    const platform = new Set<string>([PLATFORM_IDS.dns, PLATFORM_IDS.istiod]);
    this.flows = access.flows().filter(f => !platform.has(f.destination));
    this.findings = postureFindings(input.objects, access, {
      rootNamespace: input.rootNamespace,
      quarantineLabel: input.quarantineLabel,
      platformIds: PLATFORM_IDS,
      gatewayLabels: input.gatewayLabels,
    }).sort((a, b) => (a.severity === b.severity ? (a.control + a.subject < b.control + b.subject ? -1 : 1) : a.severity === 'must' ? -1 : 1));
  }

  /** The service graph as a Mermaid flowchart. */
  public toMermaid(): string {
    return toMermaid(this.workloads.filter(w => !w.id.startsWith('platform/cluster-dns') && !w.id.startsWith('platform/istiod')), this.flows);
  }

  /** The service graph in Graphviz DOT. */
  public toDot(): string {
    return toDot(this.workloads.filter(w => !w.id.startsWith('platform/cluster-dns') && !w.id.startsWith('platform/istiod')), this.flows);
  }

  /** The service graph as SVG, rendered offline by Graphviz compiled to WebAssembly. */
  public async renderSvg(): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const viz = (require('@viz-js/viz') as Viz);
    return (await viz.instance()).renderString(this.toDot(), { format: 'svg' });
  }

  /** The report as Markdown; `svgFile` is linked when given. */
  public toMarkdown(svgFile?: string): string {
    return renderMarkdown(this, svgFile);
  }

  /** The report for machines: flows and findings as JSON. */
  public toJsonString(): string {
    return JSON.stringify({ title: this.title, flows: this.flows, findings: this.findings }, undefined, 2);
  }

  /** Writes zero-trust-report.md and zero-trust-report.svg into `outdir`; returns the paths written. */
  public async writeTo(outdir: string): Promise<string[]> {
    fs.mkdirSync(outdir, { recursive: true });
    const svgPath = path.join(outdir, 'zero-trust-report.svg');
    const mdPath = path.join(outdir, 'zero-trust-report.md');
    fs.writeFileSync(svgPath, await this.renderSvg());
    fs.writeFileSync(mdPath, this.toMarkdown('zero-trust-report.svg'));
    return [mdPath, svgPath];
  }
}
