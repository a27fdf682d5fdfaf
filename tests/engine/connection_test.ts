// One connection driven through a transport of the test's own, write by write: how a socket's end
// is reported, writes that fail or wait, reading paused and resumed, what happens to frames after
// an error, and the warnings the agent owes its operator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DataType } from "../../src/codec/typed_value.ts";
import { encodeFrame, FrameType } from "../../src/codec/frame.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import type { MessageInit } from "../../src/codec/message.ts";
import { Status } from "../../src/codec/status.ts";
import { Agent } from "../../src/engine/agent.ts";
import type { AgentOptions } from "../../src/engine/options.ts";
import type { TransportSink } from "../../src/engine/transport.ts";
import {
  assertDisconnect,
  deferred,
  delay,
  haproxyHello,
  RecordingLogger,
  TestTransport,
  tick,
} from "./_helpers.ts";

const HELLO = haproxyHello("pipelining,fragmentation");

function notify(streamId: number, ...messages: MessageInit[]): Uint8Array {
  return encodeFrame({ type: FrameType.Notify, streamId, frameId: 1, messages });
}

function haproxyDisconnect(status: number): Uint8Array {
  return encodeFrame({
    type: FrameType.HaproxyDisconnect,
    items: [
      new NamedValue("status-code", DataType.Uint32, status),
      new NamedValue("message", DataType.String, "bye"),
    ],
  });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of parts) out.set(part, (offset += part.length) - part.length);
  return out;
}

/** An agent with a recording logger and one connection over a TestTransport. */
function connect(options: AgentOptions = {}) {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger, ...options });
  const transport = new TestTransport();
  const sink = agent.accept(transport) as TransportSink & { inFlight: number; closing: boolean };
  assert.ok(sink !== undefined);
  return { agent, logger, transport, sink };
}

const ping: MessageInit = { name: "ping", args: [] };

test("a socket ended by a reset or a broken pipe is a normal end; another socket error is a warning", () => {
  for (
    const normal of [{ code: "ECONNRESET" }, { code: "EPIPE" }, { name: "ConnectionReset" }, {
      name: "BrokenPipe",
    }, undefined]
  ) {
    const { agent, logger, sink } = connect();
    sink.closed(normal);
    assert.deepEqual(logger.at("warn"), [], JSON.stringify(normal));
    assert.equal(agent.connectionCount, 0);
  }
  for (const failure of [new Error("connect EHOSTUNREACH"), { code: "ETIMEDOUT" }, null]) {
    const { agent, logger, sink } = connect();
    sink.closed(failure);
    const warnings = logger.at("warn");
    assert.equal(warnings.length, 1, String(failure));
    assert.match(warnings[0].message, /connection failed/);
    assert.equal(warnings[0].fields?.peer, "198.51.100.1:4000");
    assert.equal(agent.connectionCount, 0);
  }
});

test("a socket error after the agent began closing is no warning", () => {
  const { logger, transport, sink } = connect();
  sink.receive(HELLO);
  // An ACK from HAProxy is a protocol error: the agent says AGENT-DISCONNECT 4 and closes.
  sink.receive(encodeFrame({ type: FrameType.Ack, streamId: 1, frameId: 1, actions: [] }));
  assert.equal(sink.closing, true);
  sink.closed(new Error("write after end"));
  assert.deepEqual(logger.at("warn"), []);
  assert.equal(logger.at("error").length, 1, "the protocol error itself");
  assert.equal(transport.closes, 0, "the sink does not close what the adapter closed");
});

test("inFlight counts NOTIFYs from arrival until their ACK is taken by the socket", async () => {
  const gate = deferred();
  const { agent, transport, sink } = connect();
  agent.on("wait", async (_m, context) => {
    await gate.promise;
    context.setVar("txn", "done", true);
  });
  transport.mode = "held";
  sink.receive(HELLO);
  await tick();
  await transport.release();
  assert.equal(sink.inFlight, 0);
  assert.deepEqual([transport.pauses, transport.resumes], [0, 0], "reading never paused");
  sink.receive(notify(1, { name: "wait", args: [] }));
  assert.equal(sink.inFlight, 1, "its handler runs");
  gate.resolve();
  await tick();
  assert.equal(sink.inFlight, 1, "answered; the write of its ACK waits");
  await transport.release();
  assert.equal(sink.inFlight, 0);
  assert.equal(sink.closing, false);
  sink.closed();
});

test("a write that fails closes the socket and ends the connection, with a warning", async () => {
  const { agent, logger, transport, sink } = connect();
  agent.on("ping", (_m, context) => context.setVar("txn", "pong", true));
  transport.mode = "fail";
  sink.receive(HELLO);
  await tick();
  assert.equal(transport.closes, 1);
  assert.equal(agent.connectionCount, 0);
  assert.equal(logger.at("warn").length, 1);
  assert.match(logger.at("warn")[0].message, /failed: Error: write EIO/);
});

test("helloTimeout 0 waits for the HELLO as long as it takes", async () => {
  const { agent, transport } = connect({ helloTimeout: 0 });
  await delay(30);
  assert.deepEqual(transport.writes, []);
  assert.equal(agent.connectionCount, 1);
});

test("once the socket is closed, nothing more is written, not even what was ready", async () => {
  const { agent, transport, sink } = connect();
  agent.on("ping", (_m, context) => context.setVar("txn", "pong", true));
  // The AGENT-HELLO and the ACK are encoded in this turn, written at its end: too late.
  sink.receive(concat(HELLO, notify(1, ping)));
  sink.closed();
  await tick();
  assert.deepEqual(transport.writes, []);
});

test("a handler in flight sees its signal fire with status 1 when the socket closes", async () => {
  let signal: AbortSignal | undefined;
  const { agent, transport, sink } = connect();
  agent.on("wait", (_m, context) => {
    signal = context.signal;
    return new Promise<undefined>(() => {});
  });
  sink.receive(concat(HELLO, notify(1, { name: "wait", args: [] })));
  await tick();
  sink.closed();
  assert.equal(signal?.aborted, true);
  const reason = signal?.reason as { status?: number; message?: string };
  assert.equal(reason.status, Status.IoError);
  assert.equal(reason.message, "the connection closed");
  assert.equal(transport.frames().filter((frame) => frame.type === FrameType.Ack).length, 0);
});

test("before the HELLO, a frame over 2048 bytes is refused with status 3", async () => {
  const { transport, sink } = connect();
  const big = encodeFrame({
    type: FrameType.HaproxyHello,
    items: [
      new NamedValue("supported-versions", DataType.String, "2.0"),
      new NamedValue("max-frame-size", DataType.Uint32, 16380),
      new NamedValue("capabilities", DataType.String, "pipelining"),
      new NamedValue("engine-id", DataType.String, "e".repeat(2100)),
    ],
  });
  sink.receive(big);
  await tick();
  const frames = transport.frames();
  assert.equal(frames.length, 1);
  assertDisconnect(frames[0], Status.FrameTooBig);
});

test("frames that follow HAProxy's DISCONNECT in the same chunk are not handled", async () => {
  let calls = 0;
  const { agent, transport, sink } = connect();
  agent.on("ping", () => void calls++);
  sink.receive(HELLO);
  sink.receive(concat(haproxyDisconnect(0), notify(3, ping)));
  await tick();
  assert.equal(calls, 0);
  const types = transport.frames().map((frame) => frame.type);
  assert.deepEqual(types, [FrameType.AgentHello, FrameType.AgentDisconnect]);
});

test("frames that follow a protocol error in the same chunk are not handled", async () => {
  let calls = 0;
  const { agent, transport, sink } = connect();
  agent.on("ping", () => void calls++);
  sink.receive(HELLO);
  sink.receive(concat(
    encodeFrame({ type: FrameType.Ack, streamId: 1, frameId: 1, actions: [] }),
    notify(3, ping),
    notify(5, ping),
  ));
  await tick();
  assert.equal(calls, 0);
  const types = transport.frames().map((frame) => frame.type);
  assert.deepEqual(types, [FrameType.AgentHello, FrameType.AgentDisconnect]);
  assertDisconnect(transport.frames()[1], Status.InvalidFrame);
});

test("reading stops each time maxInFlight ACKs wait for the socket, and resumes each time they go", async () => {
  const { agent, transport, sink } = connect({ maxInFlight: 1 });
  agent.on("ping", (_m, context) => context.setVar("txn", "pong", true));
  transport.mode = "held";
  sink.receive(HELLO);
  sink.receive(concat(notify(1, ping), notify(3, ping), notify(5, ping)));
  assert.equal(sink.inFlight, 1, "the first ACK waits; the others are not read yet");
  assert.equal(transport.pauses, 1);
  // A chunk the socket still delivers while paused does not pause it twice.
  sink.receive(notify(7, ping));
  assert.equal(transport.pauses, 1);
  await tick();
  await transport.release();
  assert.equal(transport.pauses, 4, "paused again for each of the next ACKs");
  assert.equal(transport.resumes, 4);
  assert.equal(sink.inFlight, 0);
  const acks = transport.frames().filter((frame) => frame.type === FrameType.Ack);
  assert.deepEqual(acks.map((frame) => frame.streamId), [1, 3, 5, 7]);
  assert.deepEqual(transport.writes.map((bytes) => bytes.length > 0), [true, true, true, true]);
});

test("a held write that fails after the socket closed is not reported again", async () => {
  const { agent, logger, transport, sink } = connect();
  agent.on("ping", (_m, context) => context.setVar("txn", "pong", true));
  transport.mode = "held";
  sink.receive(concat(HELLO, notify(1, ping)));
  await tick();
  assert.equal(transport.held.length, 1);
  sink.closed();
  transport.held[0].reject(new Error("write EPIPE"));
  await tick();
  assert.equal(transport.closes, 0, "the socket is not closed a second time");
  assert.deepEqual(logger.at("warn"), []);
});

test("each NOTIFY shed past maxInFlight gets the fallback at once and one warning", async () => {
  const { agent, logger, transport, sink } = connect({ maxInFlight: 1, logRepeatInterval: 0 });
  agent.on("wait", () => new Promise<undefined>(() => {}));
  sink.receive(HELLO);
  sink.receive(concat(
    notify(1, { name: "wait", args: [] }),
    notify(3, { name: "wait", args: [] }),
    notify(5, { name: "wait", args: [] }),
  ));
  await tick();
  const acks = transport.frames().filter((frame) => frame.type === FrameType.Ack);
  assert.deepEqual(acks.map((frame) => frame.streamId), [3, 5]);
  const warnings = logger.at("warn").map((line) => line.message);
  assert.equal(warnings.length, 2);
  for (const [i, streamId] of [3, 5].entries()) {
    assert.match(warnings[i], new RegExp(`NOTIFY ${streamId}/1 .*maxInFlight \\(1\\)`));
  }
  sink.closed();
});

test("HAProxy's DISCONNECT for a normal close or an idle timeout is no warning; another status is", () => {
  for (const [status, warned] of [[0, 0], [2, 0], [4, 1], [99, 1]]) {
    const { logger, transport, sink } = connect();
    sink.receive(HELLO);
    sink.receive(haproxyDisconnect(status));
    assert.equal(logger.at("warn").length, warned, `status ${status}`);
    assert.equal(sink.closing, true);
    void transport;
  }
});

test("a fragmented NOTIFY without negotiated fragmentation is refused with status 10", async () => {
  const { transport, sink } = connect({ fragmentation: false });
  sink.receive(HELLO);
  sink.receive(encodeFrame({
    type: FrameType.Notify,
    flags: 0,
    streamId: 1,
    frameId: 1,
    messages: [ping],
  }));
  await tick();
  const frames = transport.frames();
  assert.equal(frames.length, 2);
  assertDisconnect(frames[1], Status.FragmentationNotSupported);
});
