import { parse as parseYaml } from 'yaml';
import { duration, evaluateAlert, parse, query, Series } from './promql';
import { ANOMALY_BASELINE, anomalyExpression, prometheusRules, QUARANTINE_LABEL, RECORDING_RULES } from '../../lib/observability/prometheus-rules';

/**
 * MeshRequestRateAnomaly, the one rule whose alerts quarantine: its text, and its behaviour. The
 * behaviour is checked by evaluating the rule's own expression text (parsed from the rules file)
 * with a small PromQL evaluator (promql.ts: no Prometheus engine is available to the tests), over
 * the recorded series `zero_trust:istio_requests_by_source:rate5m` as the recording rule writes it
 * once a minute (the group's `interval`). Each series is built from a request rate per minute: the
 * recorded value at t is the mean rate over the 5 minutes to t, as rate(...[5m]) of a counter gives.
 * The recording rule itself (a sum by source of rate over istio_requests_total) is not evaluated.
 *
 * Each scenario is also evaluated with the rule this replaced (3x the one-day average, over a floor
 * of 1 rps, for 10 minutes), to show the false positive the new rule removes.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Day 0, 00:00 UTC; the scenarios are judged on day 2 (after two days of history). */
const DAY0 = Date.parse('2026-03-01T00:00:00Z');
const at = (day: number, hh: number, mm = 0) => DAY0 + day * DAY + hh * HOUR + mm * MIN;

const R = RECORDING_RULES.requests;
const OLD_RULE = `(${R} > 3 * avg_over_time(${R}[1d])) and (${R} > 1)`;

type RuleOptions = Partial<Parameters<typeof prometheusRules>[0]>;
interface AlertingRule {
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

function rulesOf(options: RuleOptions = {}) {
  return parseYaml(prometheusRules({ denialRateThreshold: 0, anomalyFactor: 2, anomalyMinimumRate: 1, ...options }));
}
function anomalyRule(options: RuleOptions = {}): AlertingRule {
  return rulesOf(options).groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === 'MeshRequestRateAnomaly');
}

/** The recorded series of one source: `rps(m)` requests per second in the minute from m, recorded each minute from `from` to `to`. */
function source(workload: string, rps: (t: number) => number, from = at(0, 0), to = at(3, 0)): Series {
  const samples: Array<[number, number]> = [];
  for (let t = from; t <= to; t += MIN) {
    // rps(m) is the rate during the minute that starts at m: the five minutes before t.
    let sum = 0;
    for (let k = 1; k <= 5; k++) {
      sum += t - k * MIN >= from ? rps(t - k * MIN) : 0;
    }
    samples.push([t, sum / 5]);
  }
  return {
    labels: { __name__: R, source_workload_namespace: 'shop', source_workload: workload, source_principal: `spiffe://cluster.local/ns/shop/sa/${workload}` },
    samples,
  };
}

/** When each source first fires between `from` and `to` (undefined: never), for a rule expression and `for`. */
function firstFiring(expr: string, forText: string, series: Series[], from: number, to: number): Record<string, number | undefined> {
  const states = evaluateAlert(expr, duration(forText), series, from, to);
  const result: Record<string, number | undefined> = Object.fromEntries(series.map(s => [s.labels.source_workload, undefined]));
  for (const state of states) {
    for (const f of state.firing) {
      result[f.source_workload] = result[f.source_workload] ?? state.t;
    }
  }
  return result;
}

const rule = anomalyRule();
const judge = (series: Series[], from: number, to: number) => firstFiring(rule.expr, rule.for, series, from, to);
const judgeOld = (series: Series[], from: number, to: number) => firstFiring(OLD_RULE, '10m', series, from, to);

describe('the rule text', () => {
  test('the expression: the 5m rate over twice the same source\'s highest of the previous day (the last 30 minutes left out), over the floor, with a day of history', () => {
    expect(rule.expr).toBe(
      `(${R} > 2 * max_over_time(${R}[1d] offset 30m)) `
      + `and (${R} > 1) `
      + `and (count_over_time(${R}[1d] offset 30m) >= 1296)`);
    expect(rule.expr).toBe(anomalyExpression({ anomalyFactor: 2, anomalyMinimumRate: 1 }));
    expect(rule.for).toBe('10m');
    expect(rule.labels).toEqual({ severity: 'warning', [QUARANTINE_LABEL.name]: QUARANTINE_LABEL.value });
    expect(rule.annotations.summary).toBe('{{ $labels.source_workload_namespace }}/{{ $labels.source_workload }} sends more than 2x its highest request rate of the previous day');
  });

  test('the factor and the floor are the options; the recording rules keep their names; the recording group runs every minute (1440 samples a day)', () => {
    expect(anomalyRule({ anomalyFactor: 4, anomalyMinimumRate: 0.5 }).expr).toBe(
      `(${R} > 4 * max_over_time(${R}[1d] offset 30m)) and (${R} > 0.5) and (count_over_time(${R}[1d] offset 30m) >= 1296)`);
    const groups = rulesOf().groups;
    expect(groups[0]).toMatchObject({ name: 'zero-trust-recording', interval: '1m' });
    expect(groups[0].rules.map((r: any) => r.record)).toEqual(['zero_trust:istio_requests_denied:rate5m', 'zero_trust:istio_requests_by_source:rate5m']);
    expect(groups[1].interval).toBeUndefined();
    // 90% of a day of one-minute samples; the offset covers the 5-minute rate window and the 10 minutes of `for`, with margin.
    expect(ANOMALY_BASELINE.minimumSamples).toBe(Math.round(0.9 * duration(ANOMALY_BASELINE.range) / duration(ANOMALY_BASELINE.interval)));
    expect(duration(ANOMALY_BASELINE.offset)).toBeGreaterThan(duration(ANOMALY_BASELINE.for) + 5 * MIN);
  });

  test('the evaluator refuses what it does not know, rather than evaluating it wrongly', () => {
    expect(() => parse(`rate(${R}[5m])`)).toThrow(/function rate/);
    expect(() => parse(`${R}{source_workload="x"}`)).toThrow(/label matchers/);
    expect(() => parse(`${R} > bool 1`)).toThrow(/bool/);
    expect(() => parse(`${R} or ${R}`)).toThrow(/unparsed/);
  });
});

describe('the rule at work (its own expression, evaluated every minute)', () => {
  test('a source that jumps from a steady 5 rps to 50 rps and stays there fires after 10 minutes; a steady neighbour does not', () => {
    const spike = at(2, 12);
    const series = [source('user', t => (t >= spike ? 50 : 5)), source('order', () => 5)];
    const fired = judge(series, spike - 30 * MIN, spike + 40 * MIN);
    expect(fired.order).toBeUndefined();
    expect(fired.user).toBeDefined();
    // The recorded 5m rate passes 2 x 5 rps one minute in; 10 minutes of `for` later it fires.
    expect((fired.user! - spike) / MIN).toBe(11);
    // What the alert's labels are: the source series' labels (the rule manager drops the metric name), which name the sender.
    expect(query(rule.expr, series, fired.user!).map(({ labels: { __name__: _n, ...labels } }) => labels)).toEqual([{ source_workload_namespace: 'shop', source_workload: 'user', source_principal: 'spiffe://cluster.local/ns/shop/sa/user' }]);
  });

  test('the current window must be left out of the baseline: with no offset, or one shorter than `for` plus the rate window, the same anomaly never fires', () => {
    const spike = at(2, 12);
    const series = [source('user', t => (t >= spike ? 50 : 5))];
    for (const variant of [rule.expr.split(' offset 30m').join(''), rule.expr.split('offset 30m').join('offset 5m')]) {
      expect(firstFiring(variant, rule.for, series, spike - 30 * MIN, spike + 40 * MIN).user).toBeUndefined();
    }
    // With the offset, the anomaly stays firing until it enters its own baseline (about 30 minutes on): then it resolves,
    // which the responder records and ignores (a resolved alert releases nothing).
    const states = evaluateAlert(rule.expr, duration(rule.for), series, spike, spike + 60 * MIN);
    const firingMinutes = states.filter(s => s.firing.length > 0).map(s => (s.t - spike) / MIN);
    expect(firingMinutes[0]).toBe(11);
    expect(firingMinutes[firingMinutes.length - 1]).toBeGreaterThanOrEqual(30);
    expect(firingMinutes[firingMinutes.length - 1]).toBeLessThan(40);
  });

  test('a daily peak a little above yesterday\'s does not fire (the old rule did)', () => {
    // 2 rps, and 20 rps from 12:00 to 13:00 every day; on day 2 the peak is 25 rps.
    const peak = (t: number) => {
      const hour = ((t - DAY0) % DAY) / HOUR;
      if (hour < 12 || hour >= 13) {
        return 2;
      }
      return t >= at(2, 0) ? 25 : 20;
    };
    const series = [source('user', peak)];
    expect(judge(series, at(2, 11), at(2, 14)).user).toBeUndefined();
    expect(judgeOld(series, at(2, 11), at(2, 14)).user).toBeDefined();
  });

  test('a batch caller (0.1 rps, 30 rps for 15 minutes every 6 hours) does not fire (the old rule did)', () => {
    const batch = (t: number) => ((((t - DAY0) % (6 * HOUR)) < 15 * MIN) ? 30 : 0.1);
    const series = [source('reports', batch)];
    expect(judge(series, at(2, 11, 30), at(2, 13)).reports).toBeUndefined();
    expect(judgeOld(series, at(2, 11, 30), at(2, 13)).reports).toBeDefined();
  });

  test('a brand-new series is not judged until it has about a day of history (the old rule fired on its first jump)', () => {
    // Starts at 3 rps and jumps to 40 rps two hours later.
    const newSeries = (startedHoursAgo: number, jump: number) => source('new', t => (t >= jump ? 40 : 3), jump - startedHoursAgo * HOUR, jump + HOUR);
    const jump = at(2, 10);
    expect(judge([newSeries(2, jump)], jump, jump + HOUR).new).toBeUndefined();
    expect(judgeOld([newSeries(2, jump)], jump, jump + HOUR).new).toBeDefined();
    // 21 hours of history (20.5 in the offset window, one sample a minute: 1231 < 1296): still not judged; 23 hours (1351): judged.
    expect(query(`count_over_time(${R}[1d] offset 30m)`, [newSeries(21, jump)], jump)[0].value).toBe(1231);
    expect(query(`count_over_time(${R}[1d] offset 30m)`, [newSeries(23, jump)], jump)[0].value).toBe(1351);
    expect(judge([newSeries(21, jump)], jump, jump + HOUR).new).toBeUndefined();
    expect(judge([newSeries(23, jump)], jump, jump + HOUR).new).toBe(jump + 11 * MIN);
  });

  test('below the rps floor nothing fires; a lower anomalyMinimumRate lets the same jump fire', () => {
    const spike = at(2, 12);
    const series = [source('quiet', t => (t >= spike ? 0.5 : 0.01))];
    expect(judge(series, spike, spike + 40 * MIN).quiet).toBeUndefined();
    const lower = anomalyRule({ anomalyMinimumRate: 0.1 });
    expect(firstFiring(lower.expr, lower.for, series, spike, spike + 40 * MIN).quiet).toBeDefined();
  });

  test('a burst shorter than 10 minutes does not fire', () => {
    const burst = at(2, 12);
    const series = [source('user', t => (t >= burst && t < burst + 6 * MIN ? 50 : 5))];
    expect(judge(series, burst - 10 * MIN, burst + 40 * MIN).user).toBeUndefined();
  });
});
