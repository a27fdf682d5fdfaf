// Backpressure: maxInFlight bounds the NOTIFYs being processed on a connection, reading pauses at
// the limit, and ACKs not yet written (HAProxy not reading) still count as in flight.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PeerDisconnectError } from "../../src/codec/errors.ts";
import { encodeFrame, FrameType } from "../../src/codec/frame.ts";
import { Status } from "../../src/codec/status.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { DataType } from "../../src/codec/typed_value.ts";
import { Agent } from "../../src/engine/agent.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { type AckResult, HaproxySimulator } from "../../src/testing/simulator.ts";
import { setVar } from "../../src/codec/action.ts";
import { concat, type Deferred, deferred, delay, shut, tap, tick } from "./_helpers.ts";

const FALLBACK = [setVar("txn", "fallback", true)];

test("maxInFlight: a NOTIFY past the limit of running handlers is answered at once with the fallback; reading goes on", async () => {
  const gates: Deferred<void>[] = [];
  const started: number[] = [];
  const agent = new Agent({ logger: silentLogger, maxInFlight: 3, fallbackActions: FALLBACK }).on(
    "work",
    async (message, context) => {
      const n = message.get("n") as number;
      started.push(n);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      context.setVar("txn", "n", n);
    },
  );
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  const pipe = haproxy.pipe!;
  try {
    await haproxy.hello();
    const acks: Array<Promise<AckResult>> = [];
    for (let n = 0; n < 5; n++) acks.push(haproxy.notify([{ name: "work", args: { n } }]));
    await tick();
    assert.deepEqual(started, [0, 1, 2], "maxInFlight handlers run");
    assert.equal(pipe.agentPaused, false, "reading goes on");
    // The two past the limit are answered at once, without running their handler.
    assert.deepEqual((await acks[3]).vars, { "txn.fallback": true });
    assert.deepEqual((await acks[4]).vars, { "txn.fallback": true });

    gates[1].resolve();
    assert.deepEqual((await acks[1]).vars, { "txn.n": 1 });
    // A slot is free again: the next NOTIFY runs its handler.
    const next = haproxy.notify([{ name: "work", args: { n: 5 } }]);
    await tick();
    assert.deepEqual(started, [0, 1, 2, 5]);
    for (const gate of gates) gate.resolve();
    assert.deepEqual((await next).vars, { "txn.n": 5 });
    assert.deepEqual((await acks[0]).vars, { "txn.n": 0 });
    assert.deepEqual((await acks[2]).vars, { "txn.n": 2 });
    assert.deepEqual(tapped.receivedWhilePaused, []);
  } finally {
    await shut(haproxy);
  }
});

test("maxInFlight: with HAProxy not reading, unwritten ACKs count as in flight and 10× maxInFlight NOTIFYs run at most maxInFlight handlers", async () => {
  const maxInFlight = 4;
  let calls = 0;
  const agent = new Agent({ logger: silentLogger, maxInFlight }).on("work", (message, context) => {
    calls++;
    context.setVar("txn", "n", message.get("n") as number);
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  const pipe = haproxy.pipe!;
  try {
    await haproxy.hello();
    pipe.setReading(false);
    const count = 10 * maxInFlight;
    const acks: Array<Promise<AckResult>> = [];
    for (let n = 0; n < count; n++) {
      acks.push(haproxy.notify([{ name: "work", args: { n } }]));
      if (n % 7 === 0) await tick();
    }
    await delay(20);
    assert.equal(
      calls,
      maxInFlight,
      "only maxInFlight handlers ran while nothing could be written",
    );
    assert.equal(pipe.agentPaused, true);
    assert.ok(pipe.blockedWrites >= 1, "the ACKs wait in the agent's write");
    assert.deepEqual(tapped.receivedWhilePaused, [], "no bytes reached the agent while paused");

    pipe.setReading(true);
    const all = await Promise.all(acks);
    all.forEach((ack, n) => assert.deepEqual(ack.vars, { "txn.n": n }));
    assert.equal(calls, count);
    await tick();
    assert.equal(pipe.agentPaused, false);
    assert.equal(pipe.blockedWrites, 0);
    assert.deepEqual(tapped.receivedWhilePaused, [], "no bytes reached the agent while paused");
  } finally {
    await shut(haproxy);
  }
});

test("maxInFlight: of NOTIFYs arriving in one chunk, those past the limit get the fallback; at most maxInFlight handlers run", async () => {
  const maxInFlight = 2;
  let running = 0;
  let peak = 0;
  const agent = new Agent({ logger: silentLogger, maxInFlight, fallbackActions: FALLBACK }).on(
    "work",
    async (message, context) => {
      running++;
      peak = Math.max(peak, running);
      await delay(2);
      running--;
      context.setVar("txn", "n", message.get("n") as number);
    },
  );
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const frames = [];
    for (let n = 0; n < 12; n++) {
      frames.push(encodeFrame({
        type: FrameType.Notify,
        streamId: 1 + 2 * n,
        frameId: 1,
        messages: [{ name: "work", args: [new NamedValue("n", DataType.Int64, n)] }],
      }));
    }
    haproxy.send(concat(...frames));
    const acks = await Promise.all(
      Array.from({ length: 12 }, (_, n) => haproxy.waitAck(1 + 2 * n, 1)),
    );
    acks.forEach((ack, n) =>
      assert.deepEqual(ack.vars, n < maxInFlight ? { "txn.n": n } : { "txn.fallback": true })
    );
    assert.equal(peak, maxInFlight);
  } finally {
    await shut(haproxy);
  }
});

test("At the in-flight limit, with no processing deadline and handlers that never settle, a HAPROXY-DISCONNECT is still seen", async () => {
  // Before, reading paused at the limit and hid the DISCONNECT: the connection never ended.
  const reasons: unknown[] = [];
  const agent = new Agent({ logger: silentLogger, maxInFlight: 2, processingTimeout: 0 })
    .on("stuck", (_message, context) => {
      context.signal.addEventListener("abort", () => reasons.push(context.signal.reason));
      return new Promise<undefined>(() => {});
    });
  const haproxy = HaproxySimulator.connect(agent, { timeout: 2000 });
  try {
    await haproxy.hello();
    for (let n = 0; n < 4; n++) haproxy.sendNotify([{ name: "stuck" }]);
    await tick();
    const goodbye = await haproxy.disconnect(Status.Timeout, "idle");
    assert.equal(goodbye.type, FrameType.AgentDisconnect);
    assert.equal(haproxy.isClosed, true);
    // The two running handlers learn why: HAProxy went away, with its status.
    assert.equal(reasons.length, 2);
    for (const reason of reasons) {
      assert.ok(reason instanceof PeerDisconnectError);
      assert.equal(reason.status, Status.Timeout);
      assert.equal(reason.peerMessage, "idle");
    }
  } finally {
    await shut(haproxy);
  }
});
