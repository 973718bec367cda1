/** A Kubernetes LabelSelector (metav1.LabelSelector). */
export interface LabelSelector {
  readonly matchLabels?: Record<string, string>;
  readonly matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * Whether `labels` satisfy `selector`. matchLabels and every matchExpression are ANDed; an empty
 * selector matches everything (kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors).
 * An unknown operator matches nothing (the API server would have rejected the object).
 */
export function matchesSelector(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector || typeof selector !== 'object') {
    return true;
  }
  const matchLabels = selector.matchLabels;
  if (matchLabels && typeof matchLabels === 'object') {
    for (const key in matchLabels) {
      if (labels[key] !== matchLabels[key]) {
        return false;
      }
    }
  }
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  for (const expr of expressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const values = expr.values ?? [];
    switch (expr.operator) {
      // In: the label exists and its value is listed.
      case 'In': if (!has || !values.includes(labels[expr.key])) return false; break;
      // NotIn: the label is absent, or its value is not listed.
      case 'NotIn': if (has && values.includes(labels[expr.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** Istio's `selector.matchLabels`: exact matches only; absent selects every workload in scope. */
export function matchesIstioSelector(matchLabels: Record<string, string> | undefined, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}
