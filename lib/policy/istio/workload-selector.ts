/** Selects the workloads a namespaced Istio policy applies to (`spec.selector`). */
export interface WorkloadSelector {
  /** Labels the selected pods carry. Istio matches exact values only. */
  readonly matchLabels: { [key: string]: string };
}
