// The frame builders of both sides (hello_frames.ts, disconnect_frames.ts, notify_frames.ts):
// byte-exact against frames captured from real HAProxy, and the 255-byte DISCONNECT rule.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setVar, unsetVar } from "../../src/codec/action.ts";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import {
  decodeDisconnect,
  MAX_DISCONNECT_MESSAGE_BYTES,
  readDisconnect,
  truncateUtf8,
  writeAgentDisconnect,
  writeHaproxyDisconnect,
} from "../../src/codec/disconnect_frames.ts";
import { decodeFrame, FrameFlags, FrameType, readFrameHeader } from "../../src/codec/frame.ts";
import { writeAgentHello, writeHaproxyHello } from "../../src/codec/hello_frames.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { writeAck, writeNotify } from "../../src/codec/notify_frames.ts";
import { DataType } from "../../src/codec/typed_value.ts";
import { GOLDEN, toHex } from "./_golden.ts";

function built(write: (writer: ByteWriter) => number): Uint8Array {
  const writer = new ByteWriter(64);
  const length = write(writer);
  const bytes = writer.take();
  assert.equal(length, bytes.length - 4, "the returned length is the frame's, without the prefix");
  return bytes;
}

test("writeHaproxyHello() builds the health-check HELLO byte for byte as every HAProxy version sends it", () => {
  const bytes = built((w) =>
    writeHaproxyHello(w, {
      supportedVersions: "2.0",
      maxFrameSize: 16380,
      capabilities: "",
      healthcheck: true,
    })
  );
  const captured = [...GOLDEN.values()].flat().filter((frame) =>
    frame.kind === "healthcheck-hello"
  );
  assert.equal(captured.length, 4);
  for (const frame of captured) assert.equal(toHex(bytes), frame.hex, frame.version);
});

test("writeHaproxyHello() leaves out undefined items, keeping HAProxy's order", () => {
  const bytes = built((w) => writeHaproxyHello(w, { capabilities: "pipelining", engineId: "e" }));
  const frame = decodeFrame(bytes.subarray(4));
  assert.equal(frame.type, FrameType.HaproxyHello);
  assert.deepEqual(frame.items?.map((item) => item.name), ["capabilities", "engine-id"]);
});

test("writeAgentHello() writes version, max-frame-size (UINT32) and capabilities, with FIN and ids 0", () => {
  const bytes = built((w) =>
    writeAgentHello(w, {
      version: "2.0",
      maxFrameSize: 16380,
      capabilities: ["pipelining", "fragmentation"],
    })
  );
  const frame = decodeFrame(bytes.subarray(4));
  assert.equal(frame.type, FrameType.AgentHello);
  assert.equal(frame.flags, FrameFlags.Fin);
  assert.equal(frame.streamId, 0);
  assert.equal(frame.frameId, 0);
  assert.deepEqual(
    frame.items?.map((item) => [item.name, item.type, item.value]),
    [
      ["version", DataType.String, "2.0"],
      ["max-frame-size", DataType.Uint32, 16380],
      ["capabilities", DataType.String, "pipelining,fragmentation"],
    ],
  );
});

test("writeAgentDisconnect() cuts the message to 255 bytes on a character boundary; HAProxy's side is kept whole", () => {
  for (const message of ["x".repeat(1000), "é".repeat(200), "😀".repeat(100), "short"]) {
    const bytes = built((w) => writeAgentDisconnect(w, 4, message));
    const frame = decodeFrame(bytes.subarray(4));
    const said = readDisconnect(frame.items ?? []);
    assert.equal(said.status, 4);
    const length = new TextEncoder().encode(said.message).length;
    assert.ok(length <= MAX_DISCONNECT_MESSAGE_BYTES, `${length} bytes`);
    assert.ok(message.startsWith(said.message));
    assert.ok(length > MAX_DISCONNECT_MESSAGE_BYTES - 4 || said.message === message);
  }
  const long = "y".repeat(400);
  const haproxy = built((w) => writeHaproxyDisconnect(w, 2, long));
  const header = readFrameHeader(haproxy.subarray(4), {
    type: 0,
    flags: 0,
    streamId: 0,
    frameId: 0,
    payloadOffset: 0,
  });
  assert.equal(header.type, FrameType.HaproxyDisconnect);
  assert.deepEqual(decodeDisconnect(haproxy.subarray(4), header.payloadOffset), {
    status: 2,
    message: long,
  });
});

test("truncateUtf8() never splits a character and keeps text that fits", () => {
  assert.equal(truncateUtf8("héllo", 2), "h");
  assert.equal(truncateUtf8("héllo", 3), "hé");
  assert.equal(truncateUtf8("😀😀", 5), "😀");
  assert.equal(truncateUtf8("abc", 3), "abc");
  assert.equal(truncateUtf8("", 0), "");
});

test("readDisconnect() reads the status from any integer type, and misses nothing else", () => {
  for (const type of [DataType.Int32, DataType.Uint32, DataType.Int64, DataType.Uint64]) {
    assert.equal(readDisconnect([new NamedValue("status-code", type, 9)]).status, 9);
  }
  assert.deepEqual(readDisconnect([new NamedValue("status-code", DataType.String, "9")]), {
    status: undefined,
    message: "",
  });
});

test("readDisconnect() takes only a status-code that is an integer and a message that is a string", () => {
  const items = (...list: NamedValue[]) => readDisconnect(list);
  // A UINT64 past 2^53 is no status code a peer means.
  assert.equal(items(new NamedValue("status-code", DataType.Uint64, 2n ** 60n)).status, undefined);
  // Hand-made items whose type and value disagree are not read either.
  assert.equal(items(new NamedValue("status-code", DataType.Null, 3 as never)).status, undefined);
  assert.equal(items(new NamedValue("status-code", DataType.Binary, 3 as never)).status, undefined);
  // Other numeric items, and a message that is not a string, change nothing.
  assert.deepEqual(
    items(
      new NamedValue("status-code", DataType.Uint32, 2),
      new NamedValue("other", DataType.Uint32, 7),
      new NamedValue("message", DataType.Uint32, 5),
    ),
    { status: 2, message: "" },
  );
  assert.deepEqual(items(new NamedValue("message", DataType.String, "bye")), {
    status: undefined,
    message: "bye",
  });
});

test("writeAck() with maxLength writes every action of an ACK that fits exactly", () => {
  const actions = [setVar("txn", "a", 1), unsetVar("txn", "b")];
  const whole = built((w) => writeAck(w, 1, 1, actions)).length - 4;
  for (const before of [0, 10]) {
    const writer = new ByteWriter(16);
    writer.bytes(new Uint8Array(before));
    const length = writeAck(writer, 1, 1, actions, whole);
    assert.equal(length, whole, `returned length, ${before} bytes before the frame`);
    const frame = decodeFrame(writer.take().subarray(before + 4));
    assert.deepEqual(frame.actions?.map((action) => action.name), ["a", "b"]);
  }
  // One byte less and the ACK says it does not fit (the caller then drops its actions).
  assert.ok(writeAck(new ByteWriter(16), 1, 1, actions, whole - 1) > whole - 1);
});

test("writeHaproxyHello() without capabilities sends no capabilities item", () => {
  const bytes = built((w) => writeHaproxyHello(w, { supportedVersions: "2.0", maxFrameSize: 256 }));
  const frame = decodeFrame(bytes.subarray(4));
  assert.deepEqual(frame.items?.map((item) => item.name), ["supported-versions", "max-frame-size"]);
});

test("writeNotify() and writeAck() match HAProxy's captured NOTIFY layout and an ACK the agent sends", () => {
  const notify = built((w) =>
    writeNotify(w, 5, 1, [{
      name: "check",
      args: [new NamedValue("ip", DataType.String, "x")],
    }])
  );
  const frame = decodeFrame(notify.subarray(4));
  assert.equal(frame.type, FrameType.Notify);
  assert.equal(frame.flags, FrameFlags.Fin);
  assert.equal(frame.messages?.[0].get("ip"), "x");
  const fragment = built((w) => writeNotify(w, 5, 1, [], 0));
  assert.equal(decodeFrame(fragment.subarray(4)).flags, 0);

  const ack = built((w) => writeAck(w, 5, 1, [setVar("sess", "score", 7)]));
  // length 18, ACK, FIN, sid 5, fid 1, set-var sess "score" INT64 7.
  assert.equal(
    toHex(ack),
    "00000012" + "67" + "00000001" + "0501" + "010301" + "0573636f7265" + "0407",
  );
});
