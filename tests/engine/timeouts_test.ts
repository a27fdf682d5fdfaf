// Timeouts: the processing deadline of a NOTIFY, the hello, idle and frame timeouts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setVar } from "../../src/codec/action.ts";
import { SpopError } from "../../src/codec/errors.ts";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { encodeFrame, FrameFlags, FrameType, writeFrame } from "../../src/codec/frame.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { DataType } from "../../src/codec/typed_value.ts";
import { Status } from "../../src/codec/status.ts";
import { writeHaproxyDisconnect } from "../../src/codec/disconnect_frames.ts";
import { Agent } from "../../src/engine/agent.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { HaproxySimulator } from "../../src/testing/simulator.ts";
import {
  assertDisconnect,
  closedWithin,
  concat,
  deferred,
  delay,
  haproxyHello,
  item,
  messagesPayload,
  RecordingLogger,
  shut,
  tap,
  TestTransport,
  tick,
} from "./_helpers.ts";

const FALLBACK = [setVar("txn", "fallback", true)];

test("processingTimeout: a handler that never resolves gets the fallback ACK at the deadline, its signal aborts, and its late result sends nothing", async () => {
  const logger = new RecordingLogger();
  const gate = deferred();
  let signal: AbortSignal | undefined;
  let abortedAt = 0;
  const agent = new Agent({ logger, processingTimeout: 60, fallbackActions: FALLBACK })
    .on("slow", async (_message, context) => {
      signal = context.signal;
      signal.addEventListener("abort", () => abortedAt = Date.now());
      context.setVar("txn", "early", 1);
      await gate.promise;
      context.setVar("txn", "late", 1);
    });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    const started = Date.now();
    const ack = await haproxy.notify([{ name: "slow" }], { streamId: 3, frameId: 1 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 50, `the ACK waited for the deadline (${elapsed} ms)`);
    assert.ok(elapsed < 1000, `the ACK came at the deadline (${elapsed} ms)`);
    assert.deepEqual(ack.vars, { "txn.fallback": true });
    assert.equal(signal?.aborted, true);
    assert.ok(abortedAt > 0 && abortedAt - started < 1000);
    assert.ok(signal?.reason instanceof SpopError);
    assert.equal((signal?.reason as SpopError).status, Status.Timeout);
    const warnings = logger.at("warn");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /NOTIFY 3\/1 \(\w+\) missed the 60 ms processing deadline/);

    // The handler finishes late: nothing more goes out.
    const framesBefore = tapped.frames().length;
    gate.resolve();
    await delay(10);
    assert.equal(tapped.frames().length, framesBefore);
    assert.equal(tapped.acks(3, 1).length, 1);
    assert.equal(haproxy.isClosed, false);
    // And the connection still works.
    agent.on("fast", (_message, context) => context.setVar("txn", "fast", 1));
    assert.deepEqual((await haproxy.notify([{ name: "fast" }])).vars, { "txn.fast": 1 });
  } finally {
    await shut(haproxy);
  }
});

test("processingTimeout: a handler that first reads context.signal after the deadline sees it aborted", async () => {
  const gate = deferred();
  let abortedWhenRead: boolean | undefined;
  const agent = new Agent({ logger: silentLogger, processingTimeout: 30 })
    .on("slow", async (_message, context) => {
      await gate.promise;
      abortedWhenRead = context.signal.aborted;
    });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "slow" }]);
    assert.deepEqual(ack.actions, []);
    gate.resolve();
    await tick();
    assert.equal(abortedWhenRead, true);
  } finally {
    await shut(haproxy);
  }
});

test("processingTimeout: a late rejection after the deadline logs no handler error", async () => {
  const logger = new RecordingLogger();
  const gate = deferred();
  const agent = new Agent({ logger, processingTimeout: 30 }).on("slow", async () => {
    await gate.promise;
    throw new Error("too late to matter");
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    await haproxy.notify([{ name: "slow" }]);
    gate.resolve();
    await tick();
    assert.deepEqual(logger.at("error"), []);
    assert.equal(logger.at("warn").length, 1);
  } finally {
    await shut(haproxy);
  }
});

test("processingTimeout: each NOTIFY gets its own deadline, counted from its own arrival", async () => {
  const agent = new Agent({ logger: silentLogger, processingTimeout: 100 })
    .on("slow", () => new Promise<undefined>(() => {}));
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const sentAt: number[] = [];
    const answeredAt: Array<Promise<number>> = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await delay(40);
      sentAt.push(Date.now());
      const ids = haproxy.sendNotify([{ name: "slow" }]);
      answeredAt.push(haproxy.waitAck(ids.streamId, ids.frameId).then(() => Date.now()));
    }
    const times = await Promise.all(answeredAt);
    for (let i = 0; i < 3; i++) {
      const waited = times[i] - sentAt[i];
      assert.ok(waited >= 90, `NOTIFY #${i} answered after ${waited} ms, before its deadline`);
      assert.ok(waited < 1000, `NOTIFY #${i} answered after ${waited} ms`);
    }
    // (Had the deadlines been counted from the first NOTIFY, the third, sent about 80 ms later,
    // would have been answered about 20 ms after it was sent: the lower bound above catches it.
    // How far apart the answers land depends on timer jitter under load, so it is not asserted.)
  } finally {
    await shut(haproxy);
  }
});

test("processingTimeout: a handler finishing in time gets its own ACK and no warning", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger, processingTimeout: 200, fallbackActions: FALLBACK })
    .on("ok", async (_message, context) => {
      await delay(20);
      context.setVar("txn", "ok", !context.signal.aborted);
    });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    assert.deepEqual((await haproxy.notify([{ name: "ok" }])).vars, { "txn.ok": true });
    await delay(250);
    assert.deepEqual(logger.at("warn"), []);
  } finally {
    await shut(haproxy);
  }
});

test("A handler's signal aborts when the connection closes under it", async () => {
  let signal: AbortSignal | undefined;
  const agent = new Agent({ logger: silentLogger }).on("slow", (_message, context) => {
    signal = context.signal;
    return new Promise<undefined>(() => {});
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    haproxy.sendNotify([{ name: "slow" }]);
    await tick();
    assert.equal(signal?.aborted, false);
    haproxy.close();
    await tick();
    assert.equal(signal?.aborted, true);
    assert.equal(agent.connectionCount, 0);
  } finally {
    await shut(haproxy);
  }
});

test("helloTimeout: no HAPROXY-HELLO in time → AGENT-DISCONNECT status 2, then close", async () => {
  const logger = new RecordingLogger();
  const haproxy = HaproxySimulator.connect(new Agent({ logger, helloTimeout: 50 }));
  try {
    const started = Date.now();
    const frame = await haproxy.nextFrame();
    assert.ok(Date.now() - started >= 40);
    assertDisconnect(frame, Status.Timeout);
    await closedWithin(haproxy);
    // A connection that never says HELLO is not a protocol error: an info line, no error.
    assert.deepEqual(logger.at("error"), []);
    assert.ok(logger.at("info").some((line) => line.message.includes("timeout")));
  } finally {
    await shut(haproxy);
  }
});

test("helloTimeout no longer applies once the handshake is done", async () => {
  const agent = new Agent({ logger: silentLogger, helloTimeout: 30 });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    assert.equal((await haproxy.hello()).type, FrameType.AgentHello);
    await delay(80);
    assert.equal(haproxy.isClosed, false);
    assert.deepEqual((await haproxy.notify([{ name: "x" }])).actions, []);
  } finally {
    await shut(haproxy);
  }
});

test("idleTimeout: a silent connection is closed with AGENT-DISCONNECT status 2", async () => {
  const haproxy = HaproxySimulator.connect(new Agent({ logger: silentLogger, idleTimeout: 50 }));
  try {
    await haproxy.hello();
    const quietSince = Date.now();
    const frame = await haproxy.nextFrame();
    const waited = Date.now() - quietSince;
    assertDisconnect(frame, Status.Timeout);
    assert.ok(waited >= 40, `closed after ${waited} ms of silence`);
    assert.ok(waited < 1000, `closed after ${waited} ms of silence`);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

test("idleTimeout: a busy connection is not closed; it is once it falls silent", async () => {
  const agent = new Agent({ logger: silentLogger, idleTimeout: 60 })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true));
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const until = Date.now() + 300;
    let answered = 0;
    while (Date.now() < until) {
      const ack = await haproxy.notify([{ name: "ping" }]);
      assert.deepEqual(ack.vars, { "txn.pong": true });
      answered++;
      await delay(20);
    }
    assert.ok(answered >= 5);
    assert.equal(haproxy.isClosed, false, "traffic kept the connection open past 5 idle timeouts");
    assertDisconnect(await haproxy.nextFrame(), Status.Timeout);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

test("idleTimeout: a connection with a NOTIFY in flight is not idle", async () => {
  const agent = new Agent({ logger: silentLogger, idleTimeout: 30 })
    .on("slow", async (_message, context) => {
      await delay(200);
      context.setVar("txn", "done", true);
    });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "slow" }]);
    assert.deepEqual(ack.vars, { "txn.done": true });
  } finally {
    await shut(haproxy);
  }
});

test("idleTimeout 0 (the default) keeps a silent connection open", async () => {
  const agent = new Agent({ logger: silentLogger });
  assert.equal(agent.options.idleTimeout, 0);
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    await delay(100);
    assert.equal(haproxy.isClosed, false);
    assert.deepEqual((await haproxy.notify([{ name: "x" }])).actions, []);
  } finally {
    await shut(haproxy);
  }
});

test("frameTimeout: a frame begun after the handshake and never finished → AGENT-DISCONNECT status 2, even with an idle timeout", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger, frameTimeout: 60, idleTimeout: 20 });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    // The first 10 bytes of a 40-byte frame, then nothing: a partial frame is not idle, so only
    // the frame timeout can end this.
    haproxy.send(new Uint8Array([0, 0, 0, 40, 3, 0, 0, 0, 1, 1]));
    const started = Date.now();
    const frame = await haproxy.nextFrame();
    const waited = Date.now() - started;
    assertDisconnect(frame, Status.Timeout);
    assert.ok(waited >= 50 && waited < 1000, `closed after ${waited} ms`);
    await closedWithin(haproxy);
    assert.ok(
      logger.at("error").some((line) => /frame not complete within 60 ms/.test(line.message)),
    );
    assert.equal(agent.connectionCount, 0);
  } finally {
    await shut(haproxy);
  }
});

test("frameTimeout: a fragmented NOTIFY whose fragments trickle in past the limit → AGENT-DISCONNECT status 2", async () => {
  const agent = new Agent({ logger: silentLogger, frameTimeout: 100 });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const payload = messagesPayload([{ name: "big", args: { body: "x".repeat(200) } }]);
    haproxy.sendFrame({
      type: FrameType.Notify,
      flags: 0,
      streamId: 1,
      frameId: 1,
      payload: payload.subarray(0, 20),
    });
    const started = Date.now();
    // Every frame arrives whole, 30 ms apart: the NOTIFY as a whole is what runs out of time.
    for (let offset = 20; offset < payload.length && !haproxy.isClosed; offset += 20) {
      await delay(30);
      if (haproxy.isClosed) break;
      haproxy.sendFrame({
        type: FrameType.Unset,
        flags: offset + 20 >= payload.length ? FrameFlags.Fin : 0,
        streamId: 1,
        frameId: 1,
        payload: payload.subarray(offset, offset + 20),
      });
    }
    const frame = await haproxy.nextFrame();
    const waited = Date.now() - started;
    assertDisconnect(frame, Status.Timeout);
    assert.ok(waited >= 90 && waited < 1000, `closed after ${waited} ms`);
    assert.match(String(item(frame, "message")), /fragmented NOTIFY not complete within 100 ms/);
  } finally {
    await shut(haproxy);
  }
});

test("frameTimeout: a peer whose chunks all end inside a frame is not cut while frames keep completing", async () => {
  const agent = new Agent({ logger: silentLogger, frameTimeout: 60 })
    .on("ping", (message, context) => context.setVar("txn", "n", message.get("n") as number));
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    const frames: Uint8Array[] = [];
    for (let n = 0; n < 30; n++) {
      const writer = new ByteWriter(64);
      writeFrame(writer, {
        type: FrameType.Notify,
        streamId: 2 * n + 1,
        frameId: 1,
        messages: [{ name: "ping", args: [new NamedValue("n", DataType.Int32, n)] }],
      });
      frames.push(writer.take());
    }
    const stream = concat(...frames);
    // Chunks of 1.5 frames, 20 ms apart: the agent always holds part of a frame, for 600 ms in all.
    const step = Math.floor(frames[0].length * 1.5);
    for (let offset = 0; offset < stream.length; offset += step) {
      haproxy.send(stream.subarray(offset, offset + step));
      await delay(20);
    }
    await delay(20);
    assert.equal(haproxy.isClosed, false);
    for (let n = 0; n < 30; n++) assert.equal(tapped.acks(2 * n + 1, 1).length, 1, `ACK ${n}`);
  } finally {
    await shut(haproxy);
  }
});

test("frameTimeout: frames the agent holds back while HAProxy does not read are not timed", async () => {
  const agent = new Agent({ logger: silentLogger, frameTimeout: 40, maxInFlight: 2 })
    .on("ping", () => {});
  const haproxy = HaproxySimulator.connect(agent);
  const pipe = haproxy.pipe!;
  try {
    await haproxy.hello();
    pipe.setReading(false);
    const frames: Uint8Array[] = [];
    for (let n = 0; n < 10; n++) {
      frames.push(encodeFrame({
        type: FrameType.Notify,
        streamId: 2 * n + 1,
        frameId: 1,
        messages: [{ name: "ping", args: [] }],
      }));
    }
    // One chunk: the agent reads 2 NOTIFYs, then stops and keeps the other 8 unread.
    haproxy.send(concat(...frames));
    await delay(150);
    assert.equal(pipe.agentPaused, true);
    assert.equal(haproxy.isClosed, false);
    pipe.setReading(true);
    for (let n = 0; n < 10; n++) await haproxy.waitAck(2 * n + 1, 1);
    assert.equal(haproxy.isClosed, false);
  } finally {
    await shut(haproxy);
  }
});

test("frameTimeout defaults to 10 s; 0 disables it", async () => {
  assert.equal(new Agent().options.frameTimeout, 10_000);
  assert.throws(() => new Agent({ frameTimeout: -1 }), RangeError);
  const haproxy = HaproxySimulator.connect(new Agent({ logger: silentLogger, frameTimeout: 0 }));
  try {
    await haproxy.hello();
    haproxy.send(new Uint8Array([0, 0, 0, 40, 3]));
    await delay(60);
    assert.equal(haproxy.isClosed, false);
  } finally {
    await shut(haproxy);
  }
});

/** A simulated HAProxy on an agent with this writeTimeout that answers "ping" with txn.pong. */
function writeTimeoutAgent(
  pong: string | boolean,
  writeTimeout = 100,
): { haproxy: HaproxySimulator; reasons: string[] } {
  const reasons: string[] = [];
  const agent = new Agent({ logger: silentLogger, writeTimeout })
    .on("ping", (_message, context) => context.setVar("txn", "pong", pong));
  agent.observe({ connectionClosed: (event) => void reasons.push(event.reason) });
  return { haproxy: HaproxySimulator.connect(agent, { timeout: 3000 }), reasons };
}

/** Stops reading, sends a NOTIFY, and checks the write timeout closes the connection in time. */
async function assertClosedByWriteTimeout(haproxy: HaproxySimulator, reasons: string[]) {
  haproxy.pipe!.setReading(false);
  const started = Date.now();
  haproxy.sendNotify([{ name: "ping" }]);
  await closedWithin(haproxy, 2000);
  const waited = Date.now() - started;
  assert.ok(waited >= 90, `closed ${waited} ms after the write began, before the write timeout`);
  assert.deepEqual(reasons, ["timeout"]);
}

test("writeTimeout: a HAProxy that stops reading the answers has its connection closed (reason timeout)", async () => {
  const { haproxy, reasons } = writeTimeoutAgent("x".repeat(1000));
  try {
    await haproxy.hello();
    await assertClosedByWriteTimeout(haproxy, reasons);
  } finally {
    await shut(haproxy);
  }
});

test("writeTimeout times each write on its own: writes that each finish in time keep the connection open past the timeout", async () => {
  const { haproxy, reasons } = writeTimeoutAgent(true, 200);
  try {
    await haproxy.hello();
    // Six writes, each held 60 ms by a HAProxy that stops reading (140 ms under the timeout, room
    // for a slow timer): 360 ms of writing in all, one under way whenever a check could fall.
    for (let i = 0; i < 6; i++) {
      haproxy.pipe!.setReading(false);
      const ack = haproxy.notify([{ name: "ping" }]);
      await delay(60);
      haproxy.pipe!.setReading(true);
      assert.deepEqual((await ack).vars, { "txn.pong": true });
    }
    assert.equal(haproxy.isClosed, false);
    assert.deepEqual(reasons, []);
  } finally {
    await shut(haproxy);
  }
});

test("writeTimeout: a write that stalls after others finished is timed from its own start", async () => {
  const { haproxy, reasons } = writeTimeoutAgent("x".repeat(1000));
  try {
    await haproxy.hello();
    haproxy.pipe!.setReading(false);
    const first = haproxy.notify([{ name: "ping" }]);
    await delay(40);
    haproxy.pipe!.setReading(true);
    await first;
    await delay(40);
    await assertClosedByWriteTimeout(haproxy, reasons);
  } finally {
    await shut(haproxy);
  }
});

test("writeTimeout also times the last write of a closing connection: the connection is over at the timeout, not when the socket's grace ends", async () => {
  const reasons: string[] = [];
  const agent = new Agent({ logger: silentLogger, writeTimeout: 100 });
  agent.observe({ connectionClosed: (event) => void reasons.push(event.reason) });
  // A socket whose close() sends what is queued and lingers (its grace is the adapter's), here
  // without end: only the write timeout can end the connection.
  const socket = new TestTransport();
  const sink = agent.accept(socket)!;
  sink.receive(haproxyHello());
  await tick();
  socket.mode = "held";
  const disconnect = new ByteWriter(64);
  writeHaproxyDisconnect(disconnect, 0, "bye");
  sink.receive(disconnect.take());
  await delay(50);
  assert.ok(socket.closes >= 1, "the agent closes after its AGENT-DISCONNECT");
  assert.deepEqual(reasons, [], "still writing, within the timeout");
  await delay(300);
  assert.deepEqual(reasons, ["timeout"]);
});

test("writeTimeout 0 waits for HAProxy to read, however long", async () => {
  const agent = new Agent({ logger: silentLogger, writeTimeout: 0 })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true));
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    haproxy.pipe!.setReading(false);
    const ack = haproxy.notify([{ name: "ping" }]);
    await delay(300);
    assert.equal(haproxy.isClosed, false);
    haproxy.pipe!.setReading(true);
    assert.deepEqual((await ack).vars, { "txn.pong": true });
  } finally {
    await shut(haproxy);
  }
});
