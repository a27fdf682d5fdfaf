// Pipelining (NOTES §10): many NOTIFYs in flight on one connection, ACKs out of order as each
// completes, no cross-talk, ACKs of one turn batched into one write, frames never split.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, FrameType } from "../../src/codec/frame.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { DataType } from "../../src/codec/typed_value.ts";
import { Agent } from "../../src/engine/agent.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { type AckResult, HaproxySimulator } from "../../src/testing/simulator.ts";
import { concat, type Deferred, deferred, framesOf, shut, tap, tick } from "./_helpers.ts";

test("20 pipelined NOTIFYs resolved in reverse order are each ACKed as soon as they complete, with their own ids and values", async () => {
  const gates = new Map<number, Deferred<void>>();
  const agent = new Agent({ logger: silentLogger }).on("work", async (message, context) => {
    const n = message.get("n") as number;
    const gate = deferred();
    gates.set(n, gate);
    await gate.promise;
    context.setVar("txn", "n", n);
    context.setVar("txn", "echo", `value-${n}`);
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const count = 20;
    const arrived: number[] = [];
    const results: Array<Promise<AckResult>> = [];
    const ids: Array<{ streamId: number; frameId: number }> = [];
    for (let n = 0; n < count; n++) {
      // Distinct stream-ids and frame-ids, so any mix-up shows.
      const sent = haproxy.sendNotify([{ name: "work", args: { n } }], {
        streamId: 101 + 2 * n,
        frameId: 1 + (n % 3),
      });
      ids.push(sent);
      results.push(
        haproxy.waitAck(sent.streamId, sent.frameId).then((ack) => {
          arrived.push(n);
          return ack;
        }),
      );
    }
    await tick();
    assert.equal(gates.size, count, "all 20 handlers run at once");
    for (let n = count - 1; n >= 0; n--) {
      gates.get(n)!.resolve();
      await tick();
      assert.deepEqual(
        arrived,
        Array.from({ length: count - n }, (_, i) => count - 1 - i),
        `the ACK of #${n} arrived as soon as its handler finished, and no other`,
      );
    }
    const acks = await Promise.all(results);
    for (let n = 0; n < count; n++) {
      assert.equal(acks[n].streamId, ids[n].streamId);
      assert.equal(acks[n].frameId, ids[n].frameId);
      assert.deepEqual(acks[n].vars, { "txn.n": n, "txn.echo": `value-${n}` });
    }
  } finally {
    await shut(haproxy);
  }
});

test("ACKs that complete in the same turn go out in one agent write holding whole frames", async () => {
  const gate = deferred();
  const agent = new Agent({ logger: silentLogger }).on("work", async (message, context) => {
    await gate.promise;
    context.setVar("txn", "n", message.get("n") as number);
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    await tick();
    const before = tapped.writes.length;
    const results = [];
    for (let n = 0; n < 10; n++) results.push(haproxy.notify([{ name: "work", args: { n } }]));
    await tick();
    assert.equal(tapped.writes.length, before, "nothing written while the handlers wait");
    gate.resolve();
    const acks = await Promise.all(results);
    assert.deepEqual(acks.map((ack) => ack.vars["txn.n"]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const ackWrites = tapped.writes.slice(before);
    assert.equal(ackWrites.length, 1, "the 10 ACKs went out in one write");
    const frames = framesOf(ackWrites[0]);
    assert.equal(frames.length, 10);
    assert.ok(frames.every((frame) => frame.type === FrameType.Ack));
  } finally {
    await shut(haproxy);
  }
});

test("NOTIFYs arriving in one chunk with sync handlers are answered in one write, every write holding whole frames", async () => {
  const agent = new Agent({ logger: silentLogger }).on("work", (message, context) => {
    context.setVar("txn", "n", message.get("n") as number);
    context.setVar("txn", "pad", "x".repeat(100));
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    await tick();
    const before = tapped.writes.length;
    const frames = [];
    for (let n = 0; n < 30; n++) {
      frames.push(encodeFrame({
        type: FrameType.Notify,
        streamId: 1 + 2 * n,
        frameId: 1,
        messages: [{ name: "work", args: [new NamedValue("n", DataType.Int64, n)] }],
      }));
    }
    haproxy.send(concat(...frames));
    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, n) => haproxy.waitAck(1 + 2 * n, 1)),
    );
    acks.forEach((ack, n) => assert.equal(ack.vars["txn.n"], n));
    const writes = tapped.writes.slice(before);
    assert.equal(writes.length, 1);
    assert.equal(framesOf(writes[0]).length, 30);
    // Every write of the connection, the AGENT-HELLO included, ends on a frame boundary.
    for (const write of tapped.writes) framesOf(write);
  } finally {
    await shut(haproxy);
  }
});

test("A NOTIFY split into 1-byte chunks is reassembled and answered", async () => {
  const agent = new Agent({ logger: silentLogger }).on("work", (message, context) => {
    context.setVar("txn", "n", message.get("n") as number);
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const bytes = encodeFrame({
      type: FrameType.Notify,
      streamId: 9,
      frameId: 2,
      messages: [{ name: "work", args: [new NamedValue("n", DataType.Int64, 77)] }],
    });
    for (let i = 0; i < bytes.length; i++) haproxy.send(bytes.subarray(i, i + 1));
    const ack = await haproxy.waitAck(9, 2);
    assert.deepEqual(ack.vars, { "txn.n": 77 });
  } finally {
    await shut(haproxy);
  }
});
