/**
 * The benchmark agent (bench/agent.ts) with the library's Prometheus metrics
 * recording every event, rendered once a second as a scraper would: compared
 * with bench/agent.ts by bench/compare.ts, it gives the cost of the metrics.
 *
 *   deno run -A bench/agent_metrics.ts [HOST:PORT]      (also bun, node)
 *
 * @module
 */

import { PrometheusMetrics } from "../src/metrics/mod.ts";
import { register } from "./agent.ts";
import { isMainModule, serve } from "./_serve.ts";

if (isMainModule(import.meta)) {
  await serve((agent) => {
    register(agent);
    const metrics = new PrometheusMetrics();
    metrics.instrument(agent);
    let rendered = 0;
    const scrape = setInterval(() => rendered += metrics.render().length, 1000);
    (scrape as { unref?(): void }).unref?.();
  });
}
