// Ends and failures (NOTES §8, §9): HAPROXY-DISCONNECT, protocol errors and their status codes,
// unknown frame types, failing handlers, oversized ACKs and bad variable names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ActionType, setVar, VarScope } from "../../src/codec/action.ts";
import { encodeFrame, FrameType } from "../../src/codec/frame.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { Status } from "../../src/codec/status.ts";
import { DataType, TypedValue } from "../../src/codec/typed_value.ts";
import { Agent } from "../../src/engine/agent.ts";
import type { NotifyContext as Ctx } from "../../src/engine/context.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { HaproxySimulator } from "../../src/testing/simulator.ts";
import {
  assertDisconnect,
  closedWithin,
  concat,
  framesOf,
  item,
  RecordingLogger,
  shut,
  tap,
  tick,
} from "./_helpers.ts";

const FALLBACK = [setVar("txn", "fallback", true)];

function echoAgent(options: ConstructorParameters<typeof Agent>[0] = {}): Agent {
  return new Agent({ logger: silentLogger, ...options }).on("echo", (message, context) => {
    context.setVar("txn", "echo", message.get("v") ?? null);
  });
}

test("HAPROXY-DISCONNECT → AGENT-DISCONNECT status 0, then close", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    assert.equal(agent.connectionCount, 1);
    const reply = await haproxy.disconnect();
    assertDisconnect(reply, Status.Normal);
    assert.equal(haproxy.isClosed, true);
    await tick();
    assert.equal(agent.connectionCount, 0);
    assert.deepEqual(logger.at("warn"), [], "a normal disconnect is no warning");
    assert.deepEqual(logger.at("error"), []);
  } finally {
    await shut(haproxy);
  }
});

test("HAPROXY-DISCONNECT with an error status is answered with status 0 and logged as a warning", async () => {
  const logger = new RecordingLogger();
  const haproxy = HaproxySimulator.connect(new Agent({ logger }), { flavor: "2.6" });
  try {
    await haproxy.hello();
    assertDisconnect(await haproxy.disconnect(3, "frame is too big"), Status.Normal);
    const warnings = logger.at("warn");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /status 3 \(frame is too big\)/);
  } finally {
    await shut(haproxy);
  }
});

test("HAPROXY-DISCONNECT before the handshake is answered with status 0", async () => {
  const haproxy = HaproxySimulator.connect(echoAgent());
  try {
    assertDisconnect(await haproxy.disconnect(), Status.Normal);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

const HELLO = encodeFrame({
  type: FrameType.HaproxyHello,
  items: [
    new NamedValue("supported-versions", DataType.String, "2.0"),
    new NamedValue("max-frame-size", DataType.Uint32, 1024),
    new NamedValue("capabilities", DataType.String, "pipelining"),
  ],
});

/** A NOTIFY frame (with its length) around a raw payload. */
function rawNotify(payload: number[]): Uint8Array {
  return encodeFrame({
    type: FrameType.Notify,
    streamId: 1,
    frameId: 1,
    payload: new Uint8Array(payload),
  });
}

const bytes = (...values: number[]) => new Uint8Array(values);

const PROTOCOL_ERRORS: ReadonlyArray<
  readonly [what: string, handshake: boolean, input: Uint8Array, status: number]
> = [
  [
    "an HTTP request instead of HAPROXY-HELLO",
    false,
    new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"),
    Status.FrameTooBig,
  ],
  ["a NOTIFY before HAPROXY-HELLO", false, rawNotify([]), Status.InvalidFrame],
  [
    "an ACK before HAPROXY-HELLO",
    false,
    encodeFrame({ type: FrameType.Ack, streamId: 1, frameId: 1 }),
    Status.InvalidFrame,
  ],
  [
    "a HAPROXY-HELLO with a truncated KV list",
    false,
    bytes(0, 0, 0, 9, 1, 0, 0, 0, 1, 0, 0, 5, 0x76),
    Status.InvalidFrame,
  ],
  ["a frame with length 3", true, bytes(0, 0, 0, 3, 3, 0, 0), Status.InvalidFrame],
  ["a frame with length 0", true, bytes(0, 0, 0, 0), Status.InvalidFrame],
  [
    "a frame longer than the negotiated max-frame-size (1024)",
    true,
    bytes(0, 0, 0x04, 0x01, 3, 0, 0, 0, 1),
    Status.FrameTooBig,
  ],
  ["a frame of 4 GiB", true, bytes(0xff, 0xff, 0xff, 0xff), Status.FrameTooBig],
  [
    "a frame whose stream-id varint runs past its end",
    true,
    bytes(0, 0, 0, 7, 3, 0, 0, 0, 1, 0xf0, 0x80),
    Status.InvalidFrame,
  ],
  // message "m", 1 argument "a" of reserved type 10
  [
    "a NOTIFY with an argument of reserved type 10",
    true,
    rawNotify([1, 0x6d, 1, 1, 0x61, 0x0a]),
    Status.InvalidFrame,
  ],
  // message "m", 1 argument "a", STRING of length 100 with 1 byte present
  [
    "a NOTIFY with a truncated STRING",
    true,
    rawNotify([1, 0x6d, 1, 1, 0x61, 0x08, 100, 0x78]),
    Status.InvalidFrame,
  ],
  // message "m" promising 3 arguments, 1 present
  [
    "a NOTIFY promising more arguments than it carries",
    true,
    rawNotify([1, 0x6d, 3, 1, 0x61, 0x11]),
    Status.InvalidFrame,
  ],
  [
    "an AGENT-HELLO from HAProxy",
    true,
    encodeFrame({ type: FrameType.AgentHello, items: [] }),
    Status.InvalidFrame,
  ],
  [
    "an AGENT-DISCONNECT from HAProxy",
    true,
    encodeFrame({ type: FrameType.AgentDisconnect, items: [] }),
    Status.InvalidFrame,
  ],
  [
    "an ACK from HAProxy",
    true,
    encodeFrame({ type: FrameType.Ack, streamId: 1, frameId: 1 }),
    Status.InvalidFrame,
  ],
  ["a second HAPROXY-HELLO", true, HELLO, Status.InvalidFrame],
];

for (const [what, handshake, input, status] of PROTOCOL_ERRORS) {
  test(`Agent answers ${what} with AGENT-DISCONNECT status ${status}, closes, and keeps serving other connections`, async () => {
    const logger = new RecordingLogger();
    const agent = new Agent({ logger }).on("echo", (message, context) => {
      context.setVar("txn", "echo", message.get("v") ?? null);
    });
    const broken = HaproxySimulator.connect(agent);
    const healthy = HaproxySimulator.connect(agent);
    try {
      assert.equal(agent.connectionCount, 2);
      if (handshake) {
        broken.send(HELLO);
        assert.equal((await broken.nextFrame()).type, FrameType.AgentHello);
      }
      broken.send(input);
      const reply = await broken.nextFrame();
      assertDisconnect(reply, status);
      await closedWithin(broken);
      const errors = logger.at("error");
      assert.equal(errors.length, 1, "the protocol error is logged once");
      assert.match(errors[0].message, new RegExp(`status ${status}\\b`));
      assert.ok(errors[0].message.includes(item(reply, "message") as string));
      await tick();
      assert.equal(agent.connectionCount, 1);

      await healthy.hello();
      const ack = await healthy.notify([{ name: "echo", args: { v: "still here" } }]);
      assert.deepEqual(ack.vars, { "txn.echo": "still here" });
    } finally {
      await shut(broken, healthy);
    }
  });
}

test("A protocol error answers the ACKs already decided before the AGENT-DISCONNECT", async () => {
  const tapped = tap(echoAgent());
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    const notify = encodeFrame({
      type: FrameType.Notify,
      streamId: 1,
      frameId: 1,
      messages: [{ name: "echo", args: [new NamedValue("v", DataType.String, "ok")] }],
    });
    haproxy.send(concat(notify, bytes(0, 0, 0, 2)));
    const ack = await haproxy.waitAck(1, 1);
    assert.deepEqual(ack.vars, { "txn.echo": "ok" });
    assertDisconnect(await haproxy.nextFrame(), Status.InvalidFrame);
    await closedWithin(haproxy);
    const types = tapped.frames().map((frame) => frame.type);
    assert.deepEqual(types, [FrameType.AgentHello, FrameType.Ack, FrameType.AgentDisconnect]);
  } finally {
    await shut(haproxy);
  }
});

test("A frame of unknown type 42 after the handshake is skipped", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger }).on("echo", (message, context) => {
    context.setVar("txn", "echo", message.get("v") ?? null);
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    haproxy.sendFrame({ type: 42, streamId: 1, frameId: 1, payload: bytes(1, 2, 3, 0xff) });
    haproxy.sendFrame({ type: 42, streamId: 0, frameId: 0 });
    const ack = await haproxy.notify([{ name: "echo", args: { v: 1 } }]);
    assert.deepEqual(ack.vars, { "txn.echo": 1 });
    await tick();
    assert.equal(haproxy.isClosed, false);
    assert.deepEqual(logger.at("error"), []);
    assert.deepEqual(
      tapped.frames().map((frame) => frame.type),
      [FrameType.AgentHello, FrameType.Ack],
      "nothing is sent for the unknown frames",
    );
  } finally {
    await shut(haproxy);
  }
});

test("A frame of unknown type before the handshake → AGENT-DISCONNECT status 4", async () => {
  const haproxy = HaproxySimulator.connect(echoAgent());
  try {
    haproxy.sendFrame({ type: 42, streamId: 0, frameId: 0 });
    assertDisconnect(await haproxy.nextFrame(), Status.InvalidFrame);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

for (const fallback of [undefined, FALLBACK] as const) {
  const name = fallback ? "the fallback actions" : "no actions";
  test(`A handler that throws → ACK at once with ${name}, and the error is logged`, async () => {
    const logger = new RecordingLogger();
    const failure = new Error("boom");
    const agent = new Agent({ logger, fallbackActions: fallback }).on("fail", (_m, context) => {
      context.setVar("txn", "partial", 1);
      throw failure;
    });
    const haproxy = HaproxySimulator.connect(agent, { timeout: 1000 });
    try {
      await haproxy.hello();
      const ack = await haproxy.notify([{ name: "fail" }], { streamId: 11, frameId: 2 });
      assert.equal(ack.streamId, 11);
      assert.equal(ack.frameId, 2);
      assert.deepEqual(ack.vars, fallback ? { "txn.fallback": true } : {});
      const errors = logger.at("error");
      assert.equal(errors.length, 1);
      assert.match(errors[0].message, /handler failed for NOTIFY 11\/2 \(fail\)/);
      assert.equal(errors[0].fields?.error, failure);
      assert.equal(haproxy.isClosed, false);
    } finally {
      await shut(haproxy);
    }
  });

  test(`A handler that rejects → ACK at once (not at the processing deadline) with ${name}, and the error is logged`, async () => {
    const logger = new RecordingLogger();
    const failure = new TypeError("async boom");
    const later = new Agent({ logger, fallbackActions: fallback, processingTimeout: 10000 })
      .on("ok", (_m, context) => context.setVar("txn", "ok", 1))
      .onNotify(async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw failure;
      });
    // The simulator gives up after 1 s: far below the 10 s processing deadline.
    const haproxy = HaproxySimulator.connect(later, { timeout: 1000 });
    try {
      await haproxy.hello();
      const started = Date.now();
      const ack = await haproxy.notify([{ name: "ok" }]);
      assert.ok(Date.now() - started < 1000);
      assert.deepEqual(ack.vars, fallback ? { "txn.fallback": true } : {});
      const errors = logger.at("error");
      assert.equal(errors.length, 1);
      assert.equal(errors[0].fields?.error, failure);
    } finally {
      await shut(haproxy);
    }
  });
}

test("A handler that throws a non-Error value still gets the fallback ACK, and the value is logged", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger, fallbackActions: FALLBACK }).on("fail", () => {
    throw "plain string";
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "fail" }]);
    assert.deepEqual(ack.vars, { "txn.fallback": true });
    assert.equal(logger.at("error")[0].fields?.error, "plain string");
  } finally {
    await shut(haproxy);
  }
});

test("A failing handler stops the later handlers of the same NOTIFY", async () => {
  const ran: string[] = [];
  const agent = new Agent({ logger: silentLogger })
    .on("a", () => {
      ran.push("a");
      throw new Error("a failed");
    })
    .on("b", () => {
      ran.push("b");
    })
    .onNotify(() => {
      ran.push("notify");
    });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "a" }, { name: "b" }]);
    assert.deepEqual(ack.actions, []);
    assert.deepEqual(ran, ["a"]);
    // The next NOTIFY runs normally.
    ran.length = 0;
    await haproxy.notify([{ name: "b" }]);
    assert.deepEqual(ran, ["b", "notify"]);
  } finally {
    await shut(haproxy);
  }
});

test("An ACK over max-frame-size is never sent: the fallback ACK goes out instead, with a warning", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger, fallbackActions: FALLBACK }).on("big", (_m, context) => {
    context.setVar("txn", "big", "x".repeat(1000));
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    const hello = await haproxy.hello({ maxFrameSize: 256 });
    assert.equal(item(hello, "max-frame-size"), 256);
    const ack = await haproxy.notify([{ name: "big" }], { streamId: 3, frameId: 1 });
    assert.deepEqual(ack.vars, { "txn.fallback": true });
    await tick();
    const acks = tapped.acks(3, 1);
    assert.equal(acks.length, 1);
    for (const write of tapped.writes) {
      // Each frame in the write is at most 256 bytes long.
      let at = 0;
      while (at < write.length) {
        const length = new DataView(write.buffer, write.byteOffset + at).getUint32(0);
        assert.ok(length <= 256, `frame of ${length} bytes`);
        at += 4 + length;
      }
    }
    const warnings = logger.at("warn");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /ACK for NOTIFY 3\/1 \(big\) would exceed max-frame-size/);
    assert.equal(haproxy.isClosed, false);
  } finally {
    await shut(haproxy);
  }
});

test("An ACK over max-frame-size whose fallback actions are too big too goes out empty", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({
    logger,
    fallbackActions: [setVar("txn", "fallback", "f".repeat(500))],
  }).on("big", (_m, context) => {
    context.setVar("txn", "big", "x".repeat(1000));
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello({ maxFrameSize: 256 });
    const ack = await haproxy.notify([{ name: "big" }]);
    assert.deepEqual(ack.actions, []);
    assert.equal(logger.at("warn").length, 1, "the oversized answer is reported");
    // Small answers still go out whole.
    agent.on("small", (_m, context) => context.setVar("txn", "small", 1));
    assert.deepEqual((await haproxy.notify([{ name: "small" }])).vars, { "txn.small": 1 });
  } finally {
    await shut(haproxy);
  }
});

test("Returned actions that cannot be encoded → the fallback ACK goes out whole, with a logged error", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger, fallbackActions: FALLBACK })
    .on("bad", (_m, context) => {
      context.setVar("txn", "before", "x".repeat(50));
      // A BOOL that holds a string: only the encoder can notice.
      return [{
        type: ActionType.SetVar,
        scope: VarScope.Transaction,
        name: "bad",
        value: new TypedValue(DataType.Boolean, "yes"),
      }];
    })
    .on("good", (_m, context) => context.setVar("txn", "good", 1));
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    const ack = await haproxy.notify([{ name: "bad" }]);
    assert.deepEqual(ack.vars, { "txn.fallback": true });
    const errors = logger.at("error");
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /handler failed for NOTIFY 1\/1 \(bad\)/);
    assert.ok(errors[0].fields?.error instanceof TypeError);
    assert.deepEqual((await haproxy.notify([{ name: "good" }])).vars, { "txn.good": 1 });
    await tick();
    for (const write of tapped.writes) framesOf(write);
  } finally {
    await shut(haproxy);
  }
});

test("An ACK of exactly max-frame-size is sent as is", async () => {
  // ACK frame: type(1) + flags(4) + sid(1) + fid(1) + set-var header(3) + name + typed string.
  // With name "v" (2 bytes) and a STRING of n bytes (type 1 + length varint 2 + n): 15 + n.
  const n = 256 - 15;
  const agent = new Agent({ logger: silentLogger }).on("fit", (_m, context) => {
    context.setVar("txn", "v", "x".repeat(n));
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello({ maxFrameSize: 256 });
    const ack = await haproxy.notify([{ name: "fit" }], { streamId: 1, frameId: 1 });
    assert.equal((ack.vars["txn.v"] as string).length, n);
    await tick();
    const last = tapped.writes[tapped.writes.length - 1];
    assert.equal(new DataView(last.buffer, last.byteOffset).getUint32(0), 256);
  } finally {
    await shut(haproxy);
  }
});

for (
  const [what, call] of [
    ["setVar with a '-' in the name", (c: Ctx) => c.setVar("txn", "bad-name", 1)],
    ["setVar with a space in the name", (c: Ctx) => c.setVar("txn", "bad name", 1)],
    ["setVar with an empty name", (c: Ctx) => c.setVar("txn", "", 1)],
    ["setVar with a 57-character name", (c: Ctx) => c.setVar("txn", "a".repeat(57), 1)],
    ["unsetVar with a bad name", (c: Ctx) => c.unsetVar("sess", "é")],
    ["setVar with a bad scope", (c: Ctx) => c.setVar("global" as "txn", "ok", 1)],
    ["setVar with a fractional number", (c: Ctx) => c.setVar("txn", "ok", 1.5)],
  ] as const
) {
  test(`${what} throws a TypeError from the handler → fallback ACK and a logged error`, async () => {
    const logger = new RecordingLogger();
    let thrown: unknown;
    const agent = new Agent({ logger, fallbackActions: FALLBACK }).on("vars", (_m, context) => {
      context.setVar("txn", "good", 1);
      try {
        call(context);
      } catch (error) {
        thrown = error;
        throw error;
      }
    });
    const haproxy = HaproxySimulator.connect(agent);
    try {
      await haproxy.hello();
      const ack = await haproxy.notify([{ name: "vars" }]);
      assert.ok(thrown instanceof TypeError, `expected a TypeError, got ${thrown}`);
      assert.deepEqual(ack.vars, { "txn.fallback": true });
      const errors = logger.at("error");
      assert.equal(errors.length, 1);
      assert.equal(errors[0].fields?.error, thrown);
    } finally {
      await shut(haproxy);
    }
  });
}

test("A 56-character variable name with every allowed character class is accepted", async () => {
  const name = "Az09_.".repeat(9) + "ab";
  assert.equal(name.length, 56);
  const agent = new Agent({ logger: silentLogger }).on("vars", (_m, context) => {
    context.setVar("txn", name, 1);
  });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    assert.deepEqual((await haproxy.notify([{ name: "vars" }])).vars, { [`txn.${name}`]: 1 });
  } finally {
    await shut(haproxy);
  }
});

test("A handler that returns something other than an array of actions gets the fallback ACK", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger, fallbackActions: FALLBACK, logRepeatInterval: 0 })
    // deno-lint-ignore no-explicit-any
    .on("sync", () => ({ not: "actions" }) as any)
    // deno-lint-ignore no-explicit-any
    .on("async", async () => await Promise.resolve("nope") as any)
    .on("ok", (_message, context) => context.setVar("txn", "ok", true));
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    assert.deepEqual((await haproxy.notify([{ name: "sync" }])).vars, { "txn.fallback": true });
    assert.deepEqual((await haproxy.notify([{ name: "async" }])).vars, { "txn.fallback": true });
    // The connection is still up and serving.
    assert.deepEqual((await haproxy.notify([{ name: "ok" }])).vars, { "txn.ok": true });
    const errors = logger.at("error");
    assert.equal(errors.length, 2);
    for (const line of errors) assert.match(String(line.fields?.error), /array of actions/);
  } finally {
    await shut(haproxy);
  }
});

test("A STRING argument that is not UTF-8 is read with U+FFFD and the connection keeps serving", async () => {
  const agent = echoAgent();
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    // NOTIFY sid 1 fid 1, message "echo", arg v = STRING 63 61 66 e9 (Latin-1 "café").
    haproxy.send(
      Uint8Array.from([0, 0, 0, 21, 3, 0, 0, 0, 1, 1, 1, 4, 101, 99, 104, 111, 1, 1, 118, 8, 4]
        .concat([0x63, 0x61, 0x66, 0xe9])),
    );
    assert.deepEqual((await haproxy.waitAck(1, 1)).vars, { "txn.echo": "caf\uFFFD" });
    assert.deepEqual((await haproxy.notify([{ name: "echo", args: { v: "ok" } }])).vars, {
      "txn.echo": "ok",
    });
  } finally {
    await shut(haproxy);
  }
});

test("Agent options reject durations setTimeout cannot hold and fractional sizes", () => {
  assert.throws(() => new Agent({ idleTimeout: 2 ** 31 }), RangeError);
  assert.throws(() => new Agent({ helloTimeout: -1 }), RangeError);
  assert.throws(() => new Agent({ processingTimeout: Infinity }), RangeError);
  assert.throws(() => new Agent({ maxFrameSize: 16000.5 }), RangeError);
  assert.throws(() => new Agent({ maxFrameSize: 255 }), RangeError);
  assert.throws(() => new Agent({ maxInFlight: 0 }), RangeError);
  assert.equal(new Agent({ idleTimeout: 2 ** 31 - 1 }).options.idleTimeout, 2 ** 31 - 1);
});

test("An ACK one byte over max-frame-size is not sent: the fallback goes out", async () => {
  // As in the exactly-max test above, with one more byte of value.
  const n = 256 - 15 + 1;
  const agent = new Agent({ logger: silentLogger, fallbackActions: FALLBACK })
    .on("over", (_m, context) => context.setVar("txn", "v", "x".repeat(n)));
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello({ maxFrameSize: 256 });
    assert.deepEqual((await haproxy.notify([{ name: "over" }])).vars, { "txn.fallback": true });
  } finally {
    await shut(haproxy);
  }
});

test("A 900-byte protocol error message reaches HAProxy cut to 255 bytes, on a character boundary", async () => {
  const haproxy = HaproxySimulator.connect(new Agent({ logger: silentLogger }));
  try {
    // A HELLO whose supported-versions is 300 × "é," makes the "no common version" message long.
    await haproxy.hello({ supportedVersions: "é,".repeat(300) }).then((reply) => {
      assertDisconnect(reply, Status.BadVersion);
      const message = item(reply, "message") as string;
      const bytes = new TextEncoder().encode(message).length;
      assert.ok(bytes <= 255 && bytes >= 253, `${bytes} bytes`);
      assert.ok(!message.includes("\ufffd"), "no character is cut in half");
    });
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

test("maxFrameSize is at most 16 MiB: a larger option is a RangeError", () => {
  assert.doesNotThrow(() => new Agent({ maxFrameSize: 16 * 1024 * 1024 }));
  assert.throws(() => new Agent({ maxFrameSize: 16 * 1024 * 1024 + 1 }), RangeError);
  assert.throws(() => new Agent({ maxFrameSize: 2 ** 31 }), RangeError);
  assert.throws(() => new Agent({ maxFragments: 0 }), RangeError);
});

test("Before the handshake a frame longer than 2048 bytes closes the connection at once with status 3", async () => {
  const haproxy = HaproxySimulator.connect(new Agent({ logger: silentLogger }), { timeout: 2000 });
  try {
    // Only the length and a few bytes: the agent must not wait for (or buffer) the rest.
    haproxy.send(new Uint8Array([0, 0, 0xea, 0x60, 1, 0, 0, 0, 1]));
    assertDisconnect(await haproxy.nextFrame(), Status.FrameTooBig);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

test("Peer text in log lines is escaped: a DISCONNECT message or message name cannot forge lines", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger }).on("evil\nname\u001b[31m", () => {
    throw new Error("boom");
  });
  const first = HaproxySimulator.connect(agent);
  const second = HaproxySimulator.connect(agent);
  try {
    await first.hello();
    await first.notify([{ name: "evil\nname\u001b[31m" }]);
    await second.hello();
    await second.disconnect(Status.InvalidFrame, "bye\nERROR forged line\r\u001b[0m\u2028");
    const lines = logger.lines.map((line) => line.message);
    // deno-lint-ignore no-control-regex
    const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
    for (const line of lines) assert.doesNotMatch(line, control, JSON.stringify(line));
    assert.ok(lines.some((line) => line.includes("evil\\nname\\u001b[31m")));
    assert.ok(lines.some((line) => line.includes("bye\\nERROR forged line\\r\\u001b[0m\\u2028")));
  } finally {
    await shut(first, second);
  }
});
