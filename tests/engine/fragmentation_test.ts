// Fragmented NOTIFYs, as HAProxy 2.6/3.0 send them (NOTES §11): reassembly, abort, interlacing,
// fragments without negotiated fragmentation, and the reassembly size limit.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameFlags, FrameType } from "../../src/codec/frame.ts";
import { Status } from "../../src/codec/status.ts";
import { Agent } from "../../src/engine/agent.ts";
import { HaproxySimulator } from "../../src/testing/simulator.ts";
import {
  assertDisconnect,
  closedWithin,
  item,
  messagesPayload,
  RecordingLogger,
  shut,
  tap,
  tick,
} from "./_helpers.ts";

const LONG = "0123456789abcdef".repeat(20);

function recordingAgent(options: ConstructorParameters<typeof Agent>[0] = {}) {
  const logger = new RecordingLogger();
  const calls: string[] = [];
  const agent = new Agent({ logger, ...options }).on("big", (message, context) => {
    calls.push(message.get("body") as string);
    context.setVar("txn", "length", (message.get("body") as string).length);
  });
  return { agent, logger, calls };
}

test("A NOTIFY sent in small fragments is reassembled and answered once", async () => {
  const { agent, calls } = recordingAgent();
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const sent = haproxy.sendFragmented(
      [{ name: "big", args: { body: LONG, n: 1 } }, { name: "other" }],
      { fragmentSize: 16, streamId: 3, frameId: 1 },
    );
    const ack = await haproxy.waitAck(sent.streamId, sent.frameId);
    assert.deepEqual(ack.vars, { "txn.length": LONG.length });
    assert.deepEqual(calls, [LONG]);
    await tick();
    assert.equal(tapped.acks(3, 1).length, 1);
    // The connection goes on.
    const next = await haproxy.notify([{ name: "big", args: { body: "x" } }]);
    assert.deepEqual(next.vars, { "txn.length": 1 });
  } finally {
    await shut(haproxy);
  }
});

test("A fragmented NOTIFY whose payload fits one fragment (NOTIFY without FIN, then an empty UNSET with FIN) is answered", async () => {
  const { agent, calls } = recordingAgent();
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const payload = messagesPayload([{ name: "big", args: { body: "short" } }]);
    haproxy.sendFrame({ type: FrameType.Notify, flags: 0, streamId: 2, frameId: 1, payload });
    haproxy.sendFrame({ type: FrameType.Unset, flags: FrameFlags.Fin, streamId: 2, frameId: 1 });
    const ack = await haproxy.waitAck(2, 1);
    assert.deepEqual(ack.vars, { "txn.length": 5 });
    assert.deepEqual(calls, ["short"]);
  } finally {
    await shut(haproxy);
  }
});

test("A fragmented NOTIFY ended by FIN|ABORT is dropped without an ACK; the next NOTIFY is answered", async () => {
  const { agent, calls } = recordingAgent();
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    haproxy.sendFragmented([{ name: "big", args: { body: LONG } }], {
      fragmentSize: 50,
      streamId: 7,
      frameId: 1,
      abort: true,
    });
    const ack = await haproxy.notify([{ name: "big", args: { body: "after" } }], {
      streamId: 8,
      frameId: 1,
    });
    assert.deepEqual(ack.vars, { "txn.length": 5 });
    await tick();
    assert.deepEqual(calls, ["after"], "the aborted NOTIFY never reached its handler");
    assert.equal(tapped.acks(7, 1).length, 0, "no ACK for the aborted NOTIFY");
    assert.equal(haproxy.isClosed, false);
  } finally {
    await shut(haproxy);
  }
});

test("A NOTIFY with other ids inside a fragmented NOTIFY → AGENT-DISCONNECT status 11", async () => {
  const { agent, logger, calls } = recordingAgent();
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const payload = messagesPayload([{ name: "big", args: { body: LONG } }]);
    haproxy.sendFrame({
      type: FrameType.Notify,
      flags: 0,
      streamId: 5,
      frameId: 1,
      payload: payload.subarray(0, 40),
    });
    haproxy.sendNotify([{ name: "big", args: { body: "x" } }], { streamId: 6, frameId: 1 });
    assertDisconnect(await haproxy.nextFrame(), Status.InterlacedFrames);
    await closedWithin(haproxy);
    assert.deepEqual(calls, []);
    assert.ok(logger.at("error").some((line) => line.message.includes("status 11")));
  } finally {
    await shut(haproxy);
  }
});

for (
  const [what, ids] of [
    ["another stream-id", { streamId: 6, frameId: 1 }],
    ["another frame-id", { streamId: 5, frameId: 2 }],
  ] as const
) {
  test(`An UNSET fragment with ${what} inside a fragmented NOTIFY → AGENT-DISCONNECT status 11`, async () => {
    const { agent, calls } = recordingAgent();
    const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
    try {
      await haproxy.hello();
      const payload = messagesPayload([{ name: "big", args: { body: LONG } }]);
      haproxy.sendFrame({
        type: FrameType.Notify,
        flags: 0,
        streamId: 5,
        frameId: 1,
        payload: payload.subarray(0, 40),
      });
      haproxy.sendFrame({
        type: FrameType.Unset,
        flags: FrameFlags.Fin,
        ...ids,
        payload: payload.subarray(40),
      });
      assertDisconnect(await haproxy.nextFrame(), Status.InterlacedFrames);
      await closedWithin(haproxy);
      assert.deepEqual(calls, []);
    } finally {
      await shut(haproxy);
    }
  });
}

test("An UNSET fragment with no fragmented NOTIFY under way → AGENT-DISCONNECT status 12", async () => {
  const { agent } = recordingAgent();
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    haproxy.sendFrame({
      type: FrameType.Unset,
      flags: FrameFlags.Fin,
      streamId: 5,
      frameId: 1,
      payload: messagesPayload([{ name: "big" }]),
    });
    assertDisconnect(await haproxy.nextFrame(), Status.FrameIdNotFound);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

test("A fragmented NOTIFY when fragmentation was not negotiated → AGENT-DISCONNECT status 10", async () => {
  const { agent, calls } = recordingAgent({ fragmentation: false });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    const hello = await haproxy.hello();
    assert.equal(item(hello, "capabilities"), "pipelining");
    haproxy.sendFragmented([{ name: "big", args: { body: LONG } }], { fragmentSize: 64 });
    assertDisconnect(await haproxy.nextFrame(), Status.FragmentationNotSupported);
    await closedWithin(haproxy);
    assert.deepEqual(calls, []);
  } finally {
    await shut(haproxy);
  }
});

test("An UNSET fragment when fragmentation was not negotiated → AGENT-DISCONNECT status 10", async () => {
  const { agent } = recordingAgent({ fragmentation: false });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    haproxy.sendFrame({
      type: FrameType.Unset,
      flags: FrameFlags.Fin,
      streamId: 1,
      frameId: 1,
      payload: messagesPayload([{ name: "big" }]),
    });
    assertDisconnect(await haproxy.nextFrame(), Status.FragmentationNotSupported);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

test("A NOTIFY reassembled past maxFragmentedSize → AGENT-DISCONNECT status 3", async () => {
  const { agent, calls } = recordingAgent({ maxFragmentedSize: 256 });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    haproxy.sendFragmented([{ name: "big", args: { body: "y".repeat(1000) } }], {
      fragmentSize: 100,
    });
    assertDisconnect(await haproxy.nextFrame(), Status.FrameTooBig);
    await closedWithin(haproxy);
    assert.deepEqual(calls, []);
  } finally {
    await shut(haproxy);
  }
});

test("A NOTIFY reassembled to exactly maxFragmentedSize is accepted", async () => {
  const body = "z".repeat(256 - messagesPayload([{ name: "big", args: { body: "" } }]).length - 1);
  const payload = messagesPayload([{ name: "big", args: { body } }]);
  assert.equal(payload.length, 256);
  const { agent, calls } = recordingAgent({ maxFragmentedSize: 256 });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const sent = haproxy.sendFragmented([{ name: "big", args: { body } }], { fragmentSize: 100 });
    const ack = await haproxy.waitAck(sent.streamId, sent.frameId);
    assert.equal(ack.vars["txn.length"], body.length);
    assert.equal(calls.length, 1);
  } finally {
    await shut(haproxy);
  }
});

test("Empty fragments past maxFragments close the connection with status 3: a peer cannot grow the agent with them", async () => {
  const { agent } = recordingAgent();
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6", timeout: 3000 });
  try {
    await haproxy.hello();
    const payload = messagesPayload([{ name: "big", args: { body: "x" } }]);
    haproxy.sendFrame({ type: FrameType.Notify, flags: 0, streamId: 2, frameId: 1, payload });
    // 1.5 million of these grew the agent by hundreds of MiB before fragments were counted.
    for (let i = 0; i < 5000 && !haproxy.isClosed; i++) {
      haproxy.sendFrame({ type: FrameType.Unset, flags: 0, streamId: 2, frameId: 1 });
    }
    assertDisconnect(await haproxy.nextFrame(), Status.FrameTooBig);
    await closedWithin(haproxy);
  } finally {
    await shut(haproxy);
  }
});

test("maxFragments counts the first frame: N frames are reassembled, N + 1 close the connection", async () => {
  const body = "y".repeat(100);
  const payload = messagesPayload([{ name: "big", args: { body } }]);
  for (const frames of [4, 5]) {
    const { agent } = recordingAgent({ maxFragments: 4 });
    const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6", timeout: 3000 });
    try {
      await haproxy.hello();
      const size = Math.ceil(payload.length / frames);
      for (let i = 0; i < frames; i++) {
        haproxy.sendFrame({
          type: i === 0 ? FrameType.Notify : FrameType.Unset,
          flags: i === frames - 1 ? FrameFlags.Fin : 0,
          streamId: 4,
          frameId: 1,
          payload: payload.subarray(i * size, (i + 1) * size),
        });
      }
      if (frames === 4) {
        assert.deepEqual((await haproxy.waitAck(4, 1)).vars, { "txn.length": body.length });
      } else {
        assertDisconnect(await haproxy.nextFrame(), Status.FrameTooBig);
        await closedWithin(haproxy);
      }
    } finally {
      await shut(haproxy);
    }
  }
});

test("A NOTIFY with ABORT and no FIN is ignored, not taken as the start of a fragmented NOTIFY", async () => {
  const { agent, calls } = recordingAgent();
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const payload = messagesPayload([{ name: "big", args: { body: "aborted" } }]);
    haproxy.sendFrame({
      type: FrameType.Notify,
      flags: FrameFlags.Abort,
      streamId: 6,
      frameId: 1,
      payload,
    });
    // Had it started a reassembly, this whole NOTIFY would be interlaced (status 11).
    const ack = await haproxy.notify([{ name: "big", args: { body: "next" } }]);
    assert.deepEqual(ack.vars, { "txn.length": 4 });
    // ...and this fragment would continue it instead of being a fragment of nothing (status 12).
    haproxy.sendFrame({ type: FrameType.Unset, flags: FrameFlags.Fin, streamId: 6, frameId: 1 });
    assertDisconnect(await haproxy.nextFrame(), Status.FrameIdNotFound);
    assert.deepEqual(calls, ["next"]);
  } finally {
    await shut(haproxy);
  }
});
