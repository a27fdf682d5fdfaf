// The HAProxy simulator itself: ACK matching when HAProxy reuses ids, and the checks that make it
// as strict as real HAProxy about what the agent sends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { writeAgentDisconnect, writeHaproxyDisconnect } from "../../src/codec/disconnect_frames.ts";
import { FrameType, writeFrame } from "../../src/codec/frame.ts";
import { writeAgentHello } from "../../src/codec/hello_frames.ts";
import { writeAck } from "../../src/codec/notify_frames.ts";
import { Agent } from "../../src/engine/agent.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import type { Transport, TransportSink } from "../../src/engine/transport.ts";
import { HaproxySimulator, ProtocolViolationError } from "../../src/testing/simulator.ts";
import { delay } from "../_timing.ts";

test("waitAck(): waiters of a reused (stream-id, frame-id) pair get its ACKs in arrival order", async () => {
  const agent = new Agent({ logger: silentLogger }).on("echo", (message, context) => {
    context.setVar("txn", "v", message.get("v") as number);
  });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6", timeout: 1000 });
  try {
    await haproxy.hello();
    // HAProxy 2.6/3.0 resend a pair after a timeout: both NOTIFYs carry 4/1.
    haproxy.sendNotify([{ name: "echo", args: { v: 1 } }], { streamId: 4, frameId: 1 });
    const first = haproxy.waitAck(4, 1);
    haproxy.sendNotify([{ name: "echo", args: { v: 2 } }], { streamId: 4, frameId: 1 });
    const second = haproxy.waitAck(4, 1);
    assert.deepEqual((await first).vars, { "txn.v": 1 });
    assert.deepEqual((await second).vars, { "txn.v": 2 });
  } finally {
    haproxy.close();
  }
});

/** An agent stand-in that answers with whatever bytes the test gives, to break the protocol. */
function scripted(reply: (writer: ByteWriter, received: number) => void): Agent {
  let transport: Transport | undefined;
  let received = 0;
  const sink: TransportSink = {
    receive() {
      const writer = new ByteWriter(64);
      reply(writer, received++);
      if (writer.length > 0) transport?.write(writer.take());
    },
    closed() {},
  };
  return {
    accept(t: Transport) {
      transport = t;
      return sink;
    },
  } as unknown as Agent;
}

const hello = (writer: ByteWriter, maxFrameSize = 16380) =>
  writeAgentHello(writer, { version: "2.0", maxFrameSize, capabilities: ["pipelining"] });

for (
  const [what, reply, expected] of [
    [
      "an ACK without FIN",
      (w: ByteWriter, n: number) =>
        n === 0
          ? hello(w)
          : writeFrame(w, { type: FrameType.Ack, flags: 0, streamId: 1, frameId: 1 }),
      /ACK with flags 0x0/,
    ],
    [
      "an ACK for a NOTIFY never sent",
      (w: ByteWriter, n: number) => n === 0 ? hello(w) : writeAck(w, 7, 1, []),
      /ACK 7\/1 for no NOTIFY/,
    ],
    [
      "a frame over the negotiated max-frame-size",
      (w: ByteWriter, n: number) =>
        n === 0 ? hello(w, 256) : writeFrame(w, {
          type: FrameType.Ack,
          streamId: 1,
          frameId: 1,
          payload: new Uint8Array(250),
        }),
      /over max-frame-size 256/,
    ],
    [
      "an AGENT-HELLO above HAProxy's max-frame-size",
      (w: ByteWriter) => hello(w, 20000),
      /max-frame-size 20000 outside 256 to 16380/,
    ],
    [
      "an AGENT-DISCONNECT message of 300 bytes",
      (w: ByteWriter) =>
        writeFrame(w, {
          type: FrameType.AgentDisconnect,
          items: [
            { name: "status-code", type: 3, value: 4 },
            { name: "message", type: 8, value: "x".repeat(300) },
          ],
        }),
      /message of 300 bytes/,
    ],
    [
      "an ACK before AGENT-HELLO",
      (w: ByteWriter) => writeAck(w, 1, 1, []),
      /ACK before AGENT-HELLO/,
    ],
    [
      "a frame after AGENT-DISCONNECT",
      (w: ByteWriter) => {
        writeAgentDisconnect(w, 0, "bye");
        hello(w);
      },
      /AGENT-HELLO after AGENT-DISCONNECT/,
    ],
    [
      "a HAPROXY-DISCONNECT (a frame type only HAProxy sends)",
      (w: ByteWriter, n: number) => n === 0 ? hello(w) : writeHaproxyDisconnect(w, 0, ""),
      /a frame of type HAPROXY-DISCONNECT/,
    ],
  ] as const
) {
  test(`The simulator rejects ${what}, as HAProxy would`, async () => {
    const haproxy = HaproxySimulator.connect(scripted(reply), { timeout: 1000 });
    try {
      haproxy.hello().catch(() => {});
      await delay(5);
      haproxy.sendNotify([{ name: "x" }], { streamId: 1, frameId: 1 });
      await delay(5);
      assert.equal(haproxy.violations.length, 1, String(haproxy.violations));
      assert.match(haproxy.violations[0], expected);
      // Whoever waits on the simulator from now on learns of it.
      await assert.rejects(haproxy.nextFrame(), ProtocolViolationError);
    } finally {
      haproxy.close();
    }
  });
}

test("The simulator rejects a write of the agent that ends inside a frame", async () => {
  const agent = scripted((writer) => {
    hello(writer);
    writer.truncate(writer.length - 1);
  });
  const haproxy = HaproxySimulator.connect(agent, { timeout: 500 });
  try {
    await assert.rejects(haproxy.hello(), /ends inside a frame/);
  } finally {
    haproxy.close();
  }
});
