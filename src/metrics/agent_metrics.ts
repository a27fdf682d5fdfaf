/**
 * The agent's Prometheus metrics, recorded from its events: connections,
 * frames by type, NOTIFYs in flight and answered, durations, fallbacks by
 * reason, DISCONNECTs by side and status, protocol errors. Message names are
 * label values only when the agent has a handler for them, so a peer cannot
 * grow the series without bound.
 *
 * @module
 */

import { frameTypeName } from "../codec/frame.ts";
import type { Agent } from "../engine/agent.ts";
import type { AgentObserver, NotifyEvent } from "../engine/events.ts";
import { type Counter, type CounterSeries, MetricsRegistry } from "./registry.ts";

/** Buckets of `spoa_notify_duration_seconds`: 100 µs to 10 s. */
const DURATION_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** The label value of a frame type: `notify`, `agent_hello`... or `unknown`. */
function frameLabel(type: number): string {
  const name = frameTypeName(type);
  return name.startsWith("UNKNOWN") ? "unknown" : name.toLowerCase().replace("-", "_");
}

/** A counter's series per frame type, created on first use. */
class FrameCounter {
  #counter: Counter<"type">;
  #series: Array<CounterSeries | undefined> = [];

  constructor(counter: Counter<"type">) {
    this.#counter = counter;
  }

  inc(type: number): void {
    const index = type < 128 ? type : 127;
    let series = this.#series[index];
    if (series === undefined) {
      series = this.#series[index] = this.#counter.child({ type: frameLabel(type) });
    }
    series.inc();
  }
}

/**
 * Prometheus metrics of one or more agents, plus any metrics of your own
 * (`counter()`, `gauge()`, `histogram()`), rendered together by `render()`.
 *
 * @example Serve /metrics
 * ```ts ignore
 * import { Agent } from "@spoa/agent";
 * import { PROMETHEUS_CONTENT_TYPE, PrometheusMetrics } from "@spoa/agent/metrics";
 *
 * const agent = new Agent();
 * const metrics = new PrometheusMetrics();
 * metrics.instrument(agent);
 * Deno.serve({ port: 9100 }, () =>
 *   new Response(metrics.render(), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE } }));
 * ```
 */
export class PrometheusMetrics extends MetricsRegistry {
  #agents = new Set<Agent>();
  #accepted;
  #refused;
  #closed;
  #framesIn;
  #framesOut;
  #handshakes;
  #notifies;
  #outcomes = new Map<string, CounterSeries>();
  #messages;
  #messageSeries = new Map<string, CounterSeries>();
  #known = new Set<string>();
  #other: CounterSeries | undefined;
  #duration;
  #fallbacks;
  #disconnects;
  #protocolErrors;

  /** Creates the registry with the agent metrics (`spoa_*`), empty until an agent is instrumented. */
  constructor() {
    super();
    this.gauge(
      { name: "spoa_connections_open", help: "Connections being served." },
      () => this.#sum((agent) => agent.connectionCount),
    );
    this.#accepted = this.counter({
      name: "spoa_connections_accepted_total",
      help: "Connections accepted.",
    });
    this.#refused = this.counter({
      name: "spoa_connections_refused_total",
      help: "Connections refused, by reason (max-connections, closing).",
      labels: ["reason"],
    });
    this.#closed = this.counter({
      name: "spoa_connections_closed_total",
      help: "Connections ended, by reason.",
      labels: ["reason"],
    });
    this.#handshakes = this.counter({
      name: "spoa_handshakes_total",
      help: "Handshakes answered, by kind (agent, healthcheck).",
      labels: ["kind"],
    });
    this.#framesIn = new FrameCounter(this.counter({
      name: "spoa_frames_received_total",
      help: "Frames received from HAProxy, by type.",
      labels: ["type"],
    }));
    this.#framesOut = new FrameCounter(this.counter({
      name: "spoa_frames_sent_total",
      help: "Frames sent to HAProxy, by type.",
      labels: ["type"],
    }));
    this.gauge(
      { name: "spoa_notifies_in_flight", help: "NOTIFYs received and not yet answered." },
      () => this.#sum((agent) => agent.inFlight),
    );
    this.#notifies = this.counter({
      name: "spoa_notifies_total",
      help: "NOTIFYs answered, by outcome (ok, error, deadline, too-big, overload, shutdown).",
      labels: ["outcome"],
    });
    this.#messages = this.counter({
      name: "spoa_messages_total",
      help: "Messages answered, by name (names without a handler count as other).",
      labels: ["message"],
    });
    this.#duration = this.histogram({
      name: "spoa_notify_duration_seconds",
      help: "Time from a NOTIFY's dispatch to its answer.",
      buckets: DURATION_BUCKETS,
    }).child();
    this.#fallbacks = this.counter({
      name: "spoa_fallbacks_total",
      help: "NOTIFYs answered with the fallback actions, by reason.",
      labels: ["reason"],
    });
    this.#disconnects = this.counter({
      name: "spoa_disconnects_total",
      help: "DISCONNECT frames, by side (agent, haproxy) and status code.",
      labels: ["side", "status"],
    });
    this.#protocolErrors = this.counter({
      name: "spoa_protocol_errors_total",
      help: "Protocol errors found, by the status code sent to HAProxy.",
      labels: ["status"],
    });
  }

  /**
   * Records the metrics of an agent (several agents add up).
   *
   * @param agent The agent.
   * @returns A function that stops recording it.
   */
  instrument(agent: Agent): () => void {
    this.#agents.add(agent);
    const observer: AgentObserver = {
      connectionOpened: () => this.#accepted.inc(),
      connectionRefused: (event) => this.#refused.inc({ reason: event.reason }),
      connectionClosed: (event) => this.#closed.inc({ reason: event.reason }),
      handshake: (event) =>
        this.#handshakes.inc({ kind: event.healthcheck ? "healthcheck" : "agent" }),
      notify: (event) => this.#notify(agent, event),
      disconnect: (event) =>
        this.#disconnects.inc({ side: event.side, status: String(event.status) }),
      protocolError: (event) => this.#protocolErrors.inc({ status: String(event.status) }),
      frame: (event) =>
        event.direction === "in" ? this.#framesIn.inc(event.type) : this.#framesOut.inc(event.type),
    };
    const stop = agent.observe(observer);
    return () => {
      stop();
      this.#agents.delete(agent);
    };
  }

  #notify(agent: Agent, event: NotifyEvent): void {
    const outcome = event.outcome;
    let series = this.#outcomes.get(outcome);
    if (series === undefined) {
      series = this.#notifies.child({ outcome });
      this.#outcomes.set(outcome, series);
    }
    series.inc();
    if (outcome !== "ok") this.#fallbacks.inc({ reason: outcome });
    this.#duration.observe(event.durationMs / 1000);
    const messages = event.messages;
    for (let i = 0; i < messages.length; i++) this.#message(agent, messages[i].name).inc();
  }

  #message(agent: Agent, name: string): CounterSeries {
    let series = this.#messageSeries.get(name);
    if (series !== undefined) return series;
    if (!this.#known.has(name)) {
      // Handlers may be registered after instrument(): look again before calling it "other".
      for (const known of agent.messageNames) this.#known.add(known);
      if (!this.#known.has(name)) return this.#other ??= this.#messages.child({ message: "other" });
    }
    series = this.#messages.child({ message: name });
    this.#messageSeries.set(name, series);
    return series;
  }

  #sum(value: (agent: Agent) => number): number {
    let total = 0;
    for (const agent of this.#agents) total += value(agent);
    return total;
  }
}
