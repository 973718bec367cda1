/**
 * A small PromQL evaluator, enough to evaluate the alerting expressions of prometheus-rules.ts over
 * recorded series in a test. No Prometheus engine is in node_modules and no Prometheus or Go
 * toolchain is on the machine, so this is written from the Prometheus querying documentation
 * (https://prometheus.io/docs/prometheus/latest/querying/basics/, .../operators/, .../functions/)
 * for exactly the constructs the rules use, and it refuses everything else, so that an expression
 * that grows a construct this does not know fails the test instead of evaluating wrongly:
 *
 * - a metric name as an instant-vector selector (no label matchers): per series, the latest sample
 *   in the lookback window (t - 5m, t];
 * - a range-vector selector `name[d]` with an optional `offset o`, as the argument of
 *   `max_over_time`, `avg_over_time` or `count_over_time`: the samples in (t - o - d, t - o] (left
 *   open, as in Prometheus 3); a series with none is absent; the result drops the metric name;
 * - number literals; `*` of a number and a vector (drops the metric name); the comparisons
 *   `> < >= <=` between vectors (one-to-one on all labels but the metric name, keeping the left
 *   sample) or a vector and a number (a filter), never with `bool`;
 * - `and` (the left samples whose labels, but the metric name, are on the right); parentheses.
 *   Precedence, low to high: `and`; comparisons; `*`.
 * - durations `Ns`, `Nm`, `Nh`, `Nd`.
 *
 * The alerting part follows Prometheus' rule evaluation: at each evaluation, a series of the
 * result is pending from the first evaluation it appears in, firing once it has been present for
 * `for`, and gone (reset) at the first evaluation it is absent from.
 */

/** One series: labels (with `__name__`) and samples at epoch-millisecond times, ascending. */
export interface Series {
  readonly labels: Record<string, string>;
  readonly samples: ReadonlyArray<readonly [number, number]>;
}

/** One element of an instant vector. */
export interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

type Value = { kind: 'vector'; samples: Sample[] } | { kind: 'scalar'; value: number };

type Node =
  | { op: 'number'; value: number }
  | { op: 'selector'; name: string }
  | { op: 'function'; name: string; metric: string; range: number; offset: number }
  | { op: 'binary'; operator: string; left: Node; right: Node };

const LOOKBACK_MS = 5 * 60_000;
const FUNCTIONS = new Set(['max_over_time', 'avg_over_time', 'count_over_time']);
const COMPARISONS = new Set(['>', '<', '>=', '<=']);

/** Milliseconds of a PromQL duration of one unit (`30m`, `1d`). */
export function duration(text: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) {
    throw new Error(`promql: the duration '${text}' is not of the form <n>s|m|h|d known to this evaluator`);
  }
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

function tokenize(expr: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(>=|<=|[()[\]*><]|[A-Za-z_:][A-Za-z0-9_:]*|\d+(?:\.\d+)?[smhd]?|\S)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < expr.length && (m = re.exec(expr)) !== null) {
    tokens.push(m[1]);
    if (/^\s*$/.test(expr.slice(re.lastIndex))) {
      break;
    }
  }
  return tokens;
}

/** Parses an expression; throws on any construct outside the subset above. */
export function parse(expr: string): Node {
  const tokens = tokenize(expr);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const consume = (t: string) => {
    if (next() !== t) {
      throw new Error(`promql: expected '${t}' at token ${i - 1} ('${tokens[i - 1]}') of: ${expr}`);
    }
  };
  const and = (): Node => {
    let left = comparison();
    while (peek() === 'and') {
      next();
      left = { op: 'binary', operator: 'and', left, right: comparison() };
    }
    return left;
  };
  const comparison = (): Node => {
    const left = product();
    if (COMPARISONS.has(peek())) {
      const operator = next();
      if (peek() === 'bool') {
        throw new Error('promql: the bool modifier is not known to this evaluator');
      }
      return { op: 'binary', operator, left, right: product() };
    }
    return left;
  };
  const product = (): Node => {
    let left = primary();
    while (peek() === '*') {
      next();
      left = { op: 'binary', operator: '*', left, right: primary() };
    }
    return left;
  };
  const primary = (): Node => {
    const t = next();
    if (t === undefined) {
      throw new Error(`promql: unexpected end of: ${expr}`);
    }
    if (t === '(') {
      const inner = and();
      consume(')');
      return inner;
    }
    if (/^\d+(\.\d+)?$/.test(t)) {
      return { op: 'number', value: Number(t) };
    }
    if (/^[A-Za-z_:][A-Za-z0-9_:]*$/.test(t) && !['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'offset', 'bool'].includes(t)) {
      if (peek() === '(') {
        if (!FUNCTIONS.has(t)) {
          throw new Error(`promql: the function ${t} is not known to this evaluator`);
        }
        next();
        const metric = next();
        consume('[');
        const range = duration(next());
        consume(']');
        let offset = 0;
        if (peek() === 'offset') {
          next();
          offset = duration(next());
        }
        consume(')');
        return { op: 'function', name: t, metric, range, offset };
      }
      if (peek() === '{' || peek() === '[') {
        throw new Error(`promql: label matchers and bare range selectors (after ${t}) are not known to this evaluator`);
      }
      return { op: 'selector', name: t };
    }
    throw new Error(`promql: the token '${t}' is not known to this evaluator (in: ${expr})`);
  };
  const tree = and();
  if (i !== tokens.length) {
    throw new Error(`promql: unparsed tokens from '${tokens[i]}' in: ${expr}`);
  }
  return tree;
}

const withoutName = (labels: Record<string, string>): Record<string, string> => {
  const { __name__: _name, ...rest } = labels;
  return rest;
};
const signature = (labels: Record<string, string>): string => JSON.stringify(Object.entries(withoutName(labels)).sort());

/** The value of a parsed expression at time `t` (epoch ms) over `series`. */
export function evaluate(node: Node, series: readonly Series[], t: number): Value {
  switch (node.op) {
    case 'number':
      return { kind: 'scalar', value: node.value };
    case 'selector': {
      const samples: Sample[] = [];
      for (const s of series.filter(x => x.labels.__name__ === node.name)) {
        const inWindow = s.samples.filter(([ts]) => ts > t - LOOKBACK_MS && ts <= t);
        if (inWindow.length > 0) {
          samples.push({ labels: s.labels, value: inWindow[inWindow.length - 1][1] });
        }
      }
      return { kind: 'vector', samples };
    }
    case 'function': {
      const end = t - node.offset;
      const samples: Sample[] = [];
      for (const s of series.filter(x => x.labels.__name__ === node.metric)) {
        const values = s.samples.filter(([ts]) => ts > end - node.range && ts <= end).map(([, v]) => v);
        if (values.length === 0) {
          continue;
        }
        const value = node.name === 'max_over_time' ? Math.max(...values)
          : node.name === 'avg_over_time' ? values.reduce((a, b) => a + b, 0) / values.length
            : values.length;
        samples.push({ labels: withoutName(s.labels), value });
      }
      return { kind: 'vector', samples };
    }
    case 'binary': {
      const left = evaluate(node.left, series, t);
      const right = evaluate(node.right, series, t);
      if (node.operator === '*') {
        if (left.kind === 'scalar' && right.kind === 'vector') {
          return { kind: 'vector', samples: right.samples.map(s => ({ labels: withoutName(s.labels), value: left.value * s.value })) };
        }
        throw new Error('promql: only number * vector is known to this evaluator');
      }
      if (left.kind !== 'vector') {
        throw new Error(`promql: '${node.operator}' needs a vector on its left in this evaluator`);
      }
      if (node.operator === 'and') {
        if (right.kind !== 'vector') {
          throw new Error("promql: 'and' needs vectors");
        }
        const on = new Set(right.samples.map(s => signature(s.labels)));
        return { kind: 'vector', samples: left.samples.filter(s => on.has(signature(s.labels))) };
      }
      const holds = (a: number, b: number) => (node.operator === '>' ? a > b : node.operator === '<' ? a < b : node.operator === '>=' ? a >= b : a <= b);
      if (right.kind === 'scalar') {
        return { kind: 'vector', samples: left.samples.filter(s => holds(s.value, right.value)) };
      }
      const bySignature = new Map<string, Sample>();
      for (const s of right.samples) {
        const key = signature(s.labels);
        if (bySignature.has(key)) {
          throw new Error('promql: many-to-one matching is not known to this evaluator (duplicate series on the right)');
        }
        bySignature.set(key, s);
      }
      const matched = left.samples.filter(s => {
        const other = bySignature.get(signature(s.labels));
        return other !== undefined && holds(s.value, other.value);
      });
      return { kind: 'vector', samples: matched };
    }
  }
}

/** The instant vector of an expression at `t`. */
export function query(expr: string, series: readonly Series[], t: number): Sample[] {
  const v = evaluate(parse(expr), series, t);
  if (v.kind !== 'vector') {
    throw new Error('promql: the expression is a number, not a vector');
  }
  return v.samples;
}

/** One evaluation of an alerting rule: the series that are pending and firing. */
export interface AlertState {
  readonly t: number;
  readonly pending: Record<string, string>[];
  readonly firing: Record<string, string>[];
}

/**
 * Evaluates an alerting rule at `from`, `from + every`, ..., `to`, as Prometheus' rule manager does
 * (a series is active from the first evaluation it is in the result of; firing once active for
 * `forMs`; reset at the first evaluation it is not in the result of).
 */
export function evaluateAlert(expr: string, forMs: number, series: readonly Series[], from: number, to: number, every = 60_000): AlertState[] {
  const tree = parse(expr);
  const activeAt = new Map<string, { since: number; labels: Record<string, string> }>();
  const states: AlertState[] = [];
  for (let t = from; t <= to; t += every) {
    const v = evaluate(tree, series, t);
    if (v.kind !== 'vector') {
      throw new Error('promql: the alert expression is a number, not a vector');
    }
    const now = new Map(v.samples.map(s => [signature(s.labels), withoutName(s.labels)]));
    for (const key of [...activeAt.keys()]) {
      if (!now.has(key)) {
        activeAt.delete(key);
      }
    }
    for (const [key, labels] of now) {
      if (!activeAt.has(key)) {
        activeAt.set(key, { since: t, labels });
      }
    }
    const entries = [...activeAt.values()];
    states.push({
      t,
      pending: entries.filter(e => t - e.since < forMs).map(e => e.labels),
      firing: entries.filter(e => t - e.since >= forMs).map(e => e.labels),
    });
  }
  return states;
}
