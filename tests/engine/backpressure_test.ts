// Backpressure: maxInFlight bounds the NOTIFYs being processed on a connection, reading pauses at
// the limit, and ACKs not yet written (HAProxy not reading) still count as in flight.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, FrameType } from "../../src/codec/frame.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { DataType } from "../../src/codec/typed_value.ts";
import { Agent } from "../../src/engine/agent.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { type AckResult, HaproxySimulator } from "../../src/testing/simulator.ts";
import { concat, type Deferred, deferred, delay, shut, tap, tick } from "./_helpers.ts";

test("maxInFlight: after N blocked NOTIFYs the agent pauses reading and dispatches no more until one completes", async () => {
  const gates: Deferred<void>[] = [];
  const started: number[] = [];
  const agent = new Agent({ logger: silentLogger, maxInFlight: 3 }).on(
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
    assert.equal(pipe.agentPaused, false);
    const acks: Array<Promise<AckResult>> = [];
    for (let n = 0; n < 3; n++) acks.push(haproxy.notify([{ name: "work", args: { n } }]));
    await tick();
    assert.deepEqual(started, [0, 1, 2]);
    assert.equal(pipe.agentPaused, true, "reading paused at maxInFlight");
    for (let n = 3; n < 6; n++) acks.push(haproxy.notify([{ name: "work", args: { n } }]));
    await delay(10);
    assert.deepEqual(started, [0, 1, 2], "NOTIFYs past maxInFlight wait");

    gates[1].resolve();
    assert.deepEqual((await acks[1]).vars, { "txn.n": 1 });
    await tick();
    assert.deepEqual(started, [0, 1, 2, 3], "one answered, one more dispatched");
    assert.equal(pipe.agentPaused, true);

    gates[0].resolve();
    gates[2].resolve();
    await Promise.all([acks[0], acks[2]]);
    await tick();
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
    for (const gate of gates.slice(3)) gate.resolve();
    const all = await Promise.all(acks);
    all.forEach((ack, n) => assert.deepEqual(ack.vars, { "txn.n": n }));
    await tick();
    assert.equal(pipe.agentPaused, false, "reading resumes once below maxInFlight");
    assert.deepEqual(tapped.receivedWhilePaused, [], "no bytes reached the agent while paused");
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

test("maxInFlight: NOTIFYs arriving in one chunk beyond the limit are dispatched as earlier ones complete", async () => {
  const maxInFlight = 2;
  let running = 0;
  let peak = 0;
  const agent = new Agent({ logger: silentLogger, maxInFlight }).on(
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
    acks.forEach((ack, n) => assert.deepEqual(ack.vars, { "txn.n": n }));
    assert.equal(peak, maxInFlight);
  } finally {
    await shut(haproxy);
  }
});
