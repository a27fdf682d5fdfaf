/**
 * Prometheus metrics for agents, with no dependency: {@linkcode PrometheusMetrics}
 * records an agent's `spoa_*` metrics from its events and renders them, with
 * any metrics of your own, in the text exposition format for a `/metrics`
 * endpoint served by your runtime's HTTP server.
 *
 * @example
 * ```ts
 * import { Agent } from "@spoa/agent";
 * import { PrometheusMetrics } from "@spoa/agent/metrics";
 *
 * const agent = new Agent();
 * const metrics = new PrometheusMetrics();
 * metrics.instrument(agent);
 * const lookups = metrics.counter({
 *   name: "myagent_lookups_total",
 *   help: "Lookups by result.",
 *   labels: ["result"],
 * });
 * lookups.inc({ result: "hit" });
 * console.log(metrics.render().includes('myagent_lookups_total{result="hit"} 1')); // true
 * ```
 *
 * @module
 */

export { PrometheusMetrics } from "./agent_metrics.ts";
export {
  Counter,
  type CounterSeries,
  Gauge,
  Histogram,
  type HistogramOptions,
  type HistogramSeries,
  type Labels,
  type MetricOptions,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
} from "./registry.ts";
