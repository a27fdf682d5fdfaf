// agent.observe(): the events of a connection's life, in order, with their facts; observers that
// come, go and throw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setVar } from "../../src/codec/action.ts";
import { FrameType } from "../../src/codec/frame.ts";
import { Status } from "../../src/codec/status.ts";
import { Agent } from "../../src/engine/agent.ts";
import type { AgentObserver, NotifyEvent } from "../../src/engine/events.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { HaproxySimulator } from "../../src/testing/simulator.ts";
import { closedWithin, delay, shut, tick } from "./_helpers.ts";

/** An observer that records every event as [name, event]. */
function recorder(): { observer: AgentObserver; events: Array<[string, Record<string, unknown>]> } {
  const events: Array<[string, Record<string, unknown>]> = [];
  const record = (name: string) => (event: unknown) =>
    events.push([name, event as Record<string, unknown>]);
  const observer: AgentObserver = {
    connectionOpened: record("connectionOpened"),
    connectionRefused: record("connectionRefused"),
    connectionClosed: record("connectionClosed"),
    handshake: record("handshake"),
    notify: record("notify"),
    disconnect: record("disconnect"),
    protocolError: record("protocolError"),
  };
  return { observer, events };
}

test("observe(): a connection's life, from open to close, with its id, peer and engine-id", async () => {
  const agent = new Agent({ logger: silentLogger })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true));
  const { observer, events } = recorder();
  agent.observe(observer);
  const haproxy = HaproxySimulator.connect(agent, { remoteAddress: "10.0.0.1:4000" });
  try {
    await haproxy.hello({ engineId: "engine-1" });
    await haproxy.notify([{ name: "ping" }], { streamId: 5, frameId: 1 });
    await haproxy.disconnect(Status.Normal, "bye");
    await tick();
    assert.deepEqual(events.map(([name]) => name), [
      "connectionOpened",
      "handshake",
      "notify",
      "disconnect",
      "disconnect",
      "connectionClosed",
    ]);
    const connection = events[0][1].connection as Record<string, unknown>;
    assert.equal(typeof connection.id, "number");
    assert.equal(connection.peer, "10.0.0.1:4000");
    assert.equal(connection.engineId, "engine-1", "the handshake filled the engine-id in");
    assert.equal(events[1][1].maxFrameSize, 16380);
    assert.equal(events[1][1].healthcheck, false);
    const notify = events[2][1] as unknown as NotifyEvent;
    assert.equal(notify.outcome, "ok");
    assert.equal(notify.streamId, 5);
    assert.deepEqual(notify.messages.map((message) => message.name), ["ping"]);
    assert.ok(notify.durationMs >= 0 && notify.durationMs < 1000);
    assert.deepEqual([events[3][1].side, events[3][1].status, events[3][1].message], [
      "haproxy",
      0,
      "bye",
    ]);
    assert.deepEqual([events[4][1].side, events[4][1].status], ["agent", 0]);
    assert.equal(events[5][1].reason, "peer-disconnect");
  } finally {
    await shut(haproxy);
  }
});

test("observe(): each outcome of a NOTIFY, and the error behind a failure", async () => {
  const boom = new Error("boom");
  const agent = new Agent({
    logger: silentLogger,
    processingTimeout: 30,
    maxInFlight: 1,
    fallbackActions: [setVar("txn", "fb", true)],
  })
    .on("fail", () => {
      throw boom;
    })
    .on("slow", () => new Promise<undefined>(() => {}))
    .on("big", (_message, context) => context.setVar("txn", "big", "x".repeat(20000)));
  const outcomes: NotifyEvent[] = [];
  agent.observe({ notify: (event) => outcomes.push(event) });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    await haproxy.notify([{ name: "fail" }]);
    await haproxy.notify([{ name: "big" }]);
    const slow = haproxy.notify([{ name: "slow" }]);
    await haproxy.notify([{ name: "fail" }]); // shed: the slow one holds the only slot
    await slow;
    assert.deepEqual(outcomes.map((event) => event.outcome), [
      "error",
      "too-big",
      "overload",
      "deadline",
    ]);
    assert.equal(outcomes[0].error, boom);
    assert.ok(outcomes[3].durationMs >= 25, `${outcomes[3].durationMs} ms`);
  } finally {
    await shut(haproxy);
  }
});

test("observe(): protocol errors, health checks, refusals, and frames in and out", async () => {
  const agent = new Agent({ logger: silentLogger, maxConnections: 1 });
  const { observer, events } = recorder();
  const frames: string[] = [];
  agent.observe({
    ...observer,
    frame: (event) => frames.push(`${event.direction}:${event.type}`),
  });
  const check = HaproxySimulator.connect(agent);
  try {
    await check.healthcheck();
    await closedWithin(check);
    const broken = HaproxySimulator.connect(agent);
    const refused = HaproxySimulator.connect(agent);
    await broken.hello();
    broken.sendFrame({ type: FrameType.Ack, streamId: 1, frameId: 1, actions: [] });
    await broken.nextFrame();
    await closedWithin(broken);
    await closedWithin(refused);
    const names = events.map(([name, event]) =>
      name === "connectionClosed" ? `closed:${event.reason}` : name
    );
    assert.deepEqual(names, [
      "connectionOpened",
      "handshake",
      "closed:healthcheck",
      "connectionOpened",
      "connectionRefused",
      "handshake",
      "protocolError",
      "disconnect",
      "closed:protocol-error",
    ]);
    const error = events.find(([name]) => name === "protocolError")![1];
    assert.equal(error.status, Status.InvalidFrame);
    assert.equal(events[4][1].reason, "max-connections");
    assert.deepEqual(frames, [
      `in:${FrameType.HaproxyHello}`,
      `out:${FrameType.AgentHello}`,
      `in:${FrameType.HaproxyHello}`,
      `out:${FrameType.AgentHello}`,
      `in:${FrameType.Ack}`,
      `out:${FrameType.AgentDisconnect}`,
    ]);
  } finally {
    await shut(check);
  }
});

test("observe(): an observer can be removed; one that throws does not break the agent or the others", async () => {
  const agent = new Agent({ logger: silentLogger })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true));
  let counted = 0;
  const remove = agent.observe({ notify: () => void counted++ });
  agent.observe({
    notify: () => {
      throw new Error("observer bug");
    },
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    assert.deepEqual((await haproxy.notify([{ name: "ping" }])).vars, { "txn.pong": true });
    remove();
    assert.deepEqual((await haproxy.notify([{ name: "ping" }])).vars, { "txn.pong": true });
    await delay(5);
    assert.equal(counted, 1);
  } finally {
    await shut(haproxy);
  }
});
