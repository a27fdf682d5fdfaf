// The Prometheus registry: names and labels checked, and the text exposition format exactly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MetricsRegistry } from "../../src/metrics/registry.ts";

test("MetricsRegistry renders counters, gauges and histograms in the text exposition format", () => {
  const registry = new MetricsRegistry();
  const plain = registry.counter({ name: "x_total", help: "Plain." });
  const labelled = registry.counter({ name: "y_total", help: "By a.", labels: ["a"] });
  registry.gauge({ name: "g", help: "Read when rendered." }, () => 2.5);
  const set = registry.gauge({ name: "h", help: "Set.", labels: ["k"] });
  const histogram = registry.histogram({
    name: "d_seconds",
    help: "Durations.",
    buckets: [0.1, 1],
  });
  plain.inc();
  plain.inc(undefined, 2);
  labelled.inc({ a: 'q"uo\\te\nnl' });
  labelled.child({ a: "b" }).inc(5);
  set.set({ k: "v" }, -1);
  for (const value of [0.05, 0.1, 0.5, 3]) histogram.observe(value);
  assert.equal(
    registry.render(),
    [
      "# HELP x_total Plain.",
      "# TYPE x_total counter",
      "x_total 3",
      "# HELP y_total By a.",
      "# TYPE y_total counter",
      'y_total{a="q\\"uo\\\\te\\nnl"} 1',
      'y_total{a="b"} 5',
      "# HELP g Read when rendered.",
      "# TYPE g gauge",
      "g 2.5",
      "# HELP h Set.",
      "# TYPE h gauge",
      'h{k="v"} -1',
      "# HELP d_seconds Durations.",
      "# TYPE d_seconds histogram",
      'd_seconds_bucket{le="0.1"} 2',
      'd_seconds_bucket{le="1"} 3',
      'd_seconds_bucket{le="+Inf"} 4',
      "d_seconds_sum 3.65",
      "d_seconds_count 4",
      "",
    ].join("\n"),
  );
  assert.equal(plain.get(), 3);
});

test("MetricsRegistry refuses bad names, taken names, missing labels and negative increments", () => {
  const registry = new MetricsRegistry();
  assert.throws(() => registry.counter({ name: "1bad", help: "" }), TypeError);
  assert.throws(() => registry.counter({ name: "ok_total", help: "", labels: ["__x"] }), TypeError);
  assert.throws(() => registry.counter({ name: "ok_total", help: "", labels: ["le"] }), TypeError);
  const counter = registry.counter({ name: "ok_total", help: "", labels: ["a"] });
  assert.throws(() => registry.gauge({ name: "ok_total", help: "" }), TypeError);
  assert.throws(() => counter.inc({}), TypeError);
  assert.throws(() => counter.inc({ a: "x" }, -1), RangeError);
  assert.throws(() => registry.histogram({ name: "h", help: "", buckets: [1, 1] }), RangeError);
});

test("Histogram.child() is rendered at zero from its creation and counts like observe()", () => {
  const registry = new MetricsRegistry();
  const histogram = registry.histogram({
    name: "t_seconds",
    help: "By k.",
    labels: ["k"],
    buckets: [1],
  });
  const series = histogram.child({ k: "a" });
  const zero = [
    "# HELP t_seconds By k.",
    "# TYPE t_seconds histogram",
    't_seconds_bucket{k="a",le="1"} 0',
    't_seconds_bucket{k="a",le="+Inf"} 0',
    't_seconds_sum{k="a"} 0',
    't_seconds_count{k="a"} 0',
    "",
  ];
  assert.equal(registry.render(), zero.join("\n"));
  series.observe(0.5);
  histogram.observe(2, { k: "a" });
  series.observe(1);
  assert.equal(
    registry.render(),
    zero.join("\n")
      .replace('le="1"} 0', 'le="1"} 2')
      .replace('le="+Inf"} 0', 'le="+Inf"} 3')
      .replace('sum{k="a"} 0', 'sum{k="a"} 3.5')
      .replace('count{k="a"} 0', 'count{k="a"} 3'),
  );
  assert.throws(() => histogram.child({}), TypeError);
});
