// An agent's spoa_* metrics, recorded from its events through the simulator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setVar } from "../../src/codec/action.ts";
import { FrameType } from "../../src/codec/frame.ts";
import { Agent } from "../../src/engine/agent.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { PrometheusMetrics } from "../../src/metrics/agent_metrics.ts";
import { HaproxySimulator } from "../../src/testing/simulator.ts";
import { delay } from "../_timing.ts";

/** The value of one sample line of the rendered text (`name{labels}`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("PrometheusMetrics counts connections, frames, NOTIFYs by outcome and message, fallbacks and DISCONNECTs", async () => {
  const agent = new Agent({
    logger: silentLogger,
    processingTimeout: 20,
    fallbackActions: [setVar("txn", "fb", true)],
  })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true))
    .on("fail", () => {
      throw new Error("x");
    })
    .on("slow", () => new Promise<undefined>(() => {}));
  const metrics = new PrometheusMetrics();
  metrics.instrument(agent);
  const haproxy = HaproxySimulator.connect(agent);
  const check = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    await check.healthcheck();
    await haproxy.notify([{ name: "ping" }, { name: "unregistered-1" }]);
    await haproxy.notify([{ name: "ping" }, { name: "unregistered-2" }]);
    await haproxy.notify([{ name: "fail" }]);
    const slow = haproxy.notify([{ name: "slow" }]);
    await delay(1);
    assert.equal(sample(metrics.render(), "spoa_notifies_in_flight"), 1);
    await slow;
    await haproxy.disconnect(3, "too big");
    await delay(1);
    const text = metrics.render();
    const expected: Record<string, number> = {
      "spoa_connections_open": 0,
      "spoa_connections_accepted_total": 2,
      'spoa_connections_closed_total{reason="healthcheck"}': 1,
      'spoa_connections_closed_total{reason="peer-disconnect"}': 1,
      'spoa_handshakes_total{kind="agent"}': 1,
      'spoa_handshakes_total{kind="healthcheck"}': 1,
      'spoa_frames_received_total{type="haproxy_hello"}': 2,
      'spoa_frames_received_total{type="notify"}': 4,
      'spoa_frames_received_total{type="haproxy_disconnect"}': 1,
      'spoa_frames_sent_total{type="agent_hello"}': 2,
      'spoa_frames_sent_total{type="ack"}': 4,
      'spoa_frames_sent_total{type="agent_disconnect"}': 1,
      "spoa_notifies_in_flight": 0,
      'spoa_notifies_total{outcome="ok"}': 2,
      'spoa_notifies_total{outcome="error"}': 1,
      'spoa_notifies_total{outcome="deadline"}': 1,
      'spoa_messages_total{message="ping"}': 2,
      'spoa_messages_total{message="other"}': 2,
      'spoa_messages_total{message="fail"}': 1,
      'spoa_fallbacks_total{reason="error"}': 1,
      'spoa_fallbacks_total{reason="deadline"}': 1,
      'spoa_disconnects_total{side="haproxy",status="3"}': 1,
      'spoa_disconnects_total{side="agent",status="0"}': 1,
      "spoa_notify_duration_seconds_count": 4,
    };
    for (const [series, value] of Object.entries(expected)) {
      assert.equal(sample(text, series), value, series);
    }
    // A peer cannot make series out of message names the agent does not handle.
    assert.ok(!text.includes("unregistered"));
    assert.ok(sample(text, 'spoa_notify_duration_seconds_bucket{le="+Inf"}') === 4);
  } finally {
    haproxy.close();
    check.close();
  }
});

test("PrometheusMetrics counts protocol errors and refusals, adds up agents, and stops when told", async () => {
  const first = new Agent({ logger: silentLogger, maxConnections: 1 });
  const second = new Agent({ logger: silentLogger });
  const metrics = new PrometheusMetrics();
  metrics.instrument(first);
  const stop = metrics.instrument(second);
  const a = HaproxySimulator.connect(first);
  const refused = HaproxySimulator.connect(first);
  const b = HaproxySimulator.connect(second);
  try {
    await a.hello();
    await b.hello();
    assert.equal(sample(metrics.render(), "spoa_connections_open"), 2);
    a.sendFrame({ type: FrameType.Ack, streamId: 1, frameId: 1, actions: [] });
    await a.nextFrame();
    stop();
    await b.disconnect();
    await delay(1);
    const text = metrics.render();
    assert.equal(sample(text, 'spoa_protocol_errors_total{status="4"}'), 1);
    assert.equal(sample(text, 'spoa_connections_refused_total{reason="max-connections"}'), 1);
    assert.equal(sample(text, 'spoa_disconnects_total{side="haproxy",status="0"}'), undefined);
    assert.equal(sample(text, "spoa_connections_open"), 0);
  } finally {
    a.close();
    refused.close();
    b.close();
  }
});
