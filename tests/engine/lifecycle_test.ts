// Connection limits and graceful shutdown: maxConnections, agent.drain() and shutdownTimeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setVar } from "../../src/codec/action.ts";
import { encodeFrame, FrameFlags, FrameType } from "../../src/codec/frame.ts";
import { Status } from "../../src/codec/status.ts";
import { Agent } from "../../src/engine/agent.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { type AckResult, HaproxySimulator } from "../../src/testing/simulator.ts";
import {
  assertDisconnect,
  closedWithin,
  type Deferred,
  deferred,
  delay,
  messagesPayload,
  RecordingLogger,
  shut,
  tap,
  tick,
  within,
} from "./_helpers.ts";

const FALLBACK = [setVar("txn", "fallback", true)];

test("maxConnections: connections past the limit are refused at once; a freed slot is reused", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger, maxConnections: 2 })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true));
  const first = HaproxySimulator.connect(agent);
  const second = HaproxySimulator.connect(agent);
  const third = HaproxySimulator.connect(agent);
  let fourth: HaproxySimulator | undefined;
  try {
    assert.equal(agent.connectionCount, 2);
    assert.equal(third.isClosed, true, "the third connection is closed immediately");
    await within(third.closed, 100, "the refused connection to close");
    await assert.rejects(third.hello(), /closed the connection/);
    const warnings = logger.at("warn");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0].message, /maxConnections 2 reached/);

    for (const haproxy of [first, second]) {
      await haproxy.hello();
      assert.deepEqual((await haproxy.notify([{ name: "ping" }])).vars, { "txn.pong": true });
    }

    await first.disconnect();
    await tick();
    assert.equal(agent.connectionCount, 1);
    fourth = HaproxySimulator.connect(agent);
    assert.equal(fourth.isClosed, false);
    await fourth.hello();
    assert.deepEqual((await fourth.notify([{ name: "ping" }])).vars, { "txn.pong": true });
    assert.equal(agent.connectionCount, 2);
  } finally {
    await shut(first, second, third, ...(fourth ? [fourth] : []));
  }
});

test("drain(): NOTIFYs in flight are all answered, then AGENT-DISCONNECT status 0 and close", async () => {
  const gates: Deferred<void>[] = [];
  const agent = new Agent({ logger: silentLogger, shutdownTimeout: 5000 }).on(
    "work",
    async (message, context) => {
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      context.setVar("txn", "n", message.get("n") as number);
    },
  );
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  const other = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    await other.hello();
    const acks: Array<Promise<AckResult>> = [];
    for (let n = 0; n < 3; n++) acks.push(haproxy.notify([{ name: "work", args: { n } }]));
    await tick();
    assert.equal(gates.length, 3);

    let drained = false;
    const draining = agent.drain().then(() => drained = true);
    await delay(20);
    assert.equal(haproxy.isClosed, false, "a connection with work in flight stays open");
    // A NOTIFY that arrives while draining is still answered.
    acks.push(haproxy.notify([{ name: "work", args: { n: 3 } }]));
    await tick();
    for (const gate of gates) gate.resolve();
    const answered = await Promise.all(acks);
    answered.forEach((ack, n) => assert.deepEqual(ack.vars, { "txn.n": n }));
    assert.equal(drained, false);

    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    assertDisconnect(await other.nextFrame(), Status.Normal);
    await closedWithin(haproxy);
    await closedWithin(other);
    await within(draining, 2000, "drain() to settle");
    assert.equal(drained, true);
    assert.equal(agent.connectionCount, 0);

    // On the busy connection, every ACK went out before the AGENT-DISCONNECT.
    const types = tapped.frames().map((frame) => frame.type);
    const lastAck = types.lastIndexOf(FrameType.Ack);
    const disconnects = types.flatMap((type, i) => type === FrameType.AgentDisconnect ? [i] : []);
    assert.equal(disconnects.length, 2);
    assert.equal(types.filter((type) => type === FrameType.Ack).length, 4);
    assert.ok(lastAck < Math.max(...disconnects));
  } finally {
    await shut(haproxy, other);
  }
});

test("drain(): a never-resolving handler gets the fallback ACK after shutdownTimeout, then AGENT-DISCONNECT status 0", async () => {
  let signal: AbortSignal | undefined;
  const agent = new Agent({
    logger: silentLogger,
    shutdownTimeout: 80,
    processingTimeout: 0,
    fallbackActions: FALLBACK,
  }).on("stuck", (_message, context) => {
    signal = context.signal;
    return new Promise<undefined>(() => {});
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    const ack = haproxy.notify([{ name: "stuck" }], { streamId: 5, frameId: 1 });
    await tick();
    const started = Date.now();
    const draining = agent.drain();
    assert.deepEqual((await ack).vars, { "txn.fallback": true });
    const waited = Date.now() - started;
    assert.ok(waited >= 70, `the fallback ACK waited for shutdownTimeout (${waited} ms)`);
    assert.equal(signal?.aborted, true);
    const reason = signal?.reason as { status?: number; message?: string };
    assert.deepEqual([reason.status, reason.message], [
      Status.Normal,
      "the agent is shutting down",
    ]);
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    await closedWithin(haproxy);
    await within(draining, 2000, "drain() to settle");
    assert.deepEqual(
      tapped.frames().map((frame) => frame.type),
      [FrameType.AgentHello, FrameType.Ack, FrameType.AgentDisconnect],
    );
    assert.equal(agent.connectionCount, 0);
  } finally {
    await shut(haproxy);
  }
});

test("drain(): a connection still waiting for its HELLO gets AGENT-DISCONNECT status 0 at once", async () => {
  const agent = new Agent({ logger: silentLogger });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    const started = performance.now();
    const draining = agent.drain();
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    const waited = performance.now() - started;
    assert.ok(waited < 100, `the goodbye came after ${waited.toFixed(0)} ms, not at once`);
    await closedWithin(haproxy);
    await within(draining, 1000, "drain() to settle");
  } finally {
    await shut(haproxy);
  }
});

test("drain(): an idle connection is closed after a short quiet period; with no connections it settles at once", async () => {
  await within(new Agent({ logger: silentLogger }).drain(), 100, "drain() without connections");
  const agent = new Agent({ logger: silentLogger });
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const started = performance.now();
    const draining = agent.drain();
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    const waited = performance.now() - started;
    // The quiet period is 250 ms: no sooner (a NOTIFY may be on the wire), and not much later.
    assert.ok(waited >= 245 && waited < 450, `the goodbye came after ${waited.toFixed(0)} ms`);
    await closedWithin(haproxy);
    await within(draining, 1000, "drain() to settle");
  } finally {
    await shut(haproxy);
  }
});

test("drain() settles even when HAProxy stopped reading: the stuck connection is dropped after shutdownTimeout", async () => {
  const agent = new Agent({ logger: silentLogger, shutdownTimeout: 300 })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true));
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    haproxy.pipe!.setReading(false);
    haproxy.sendNotify([{ name: "ping" }]);
    await tick();
    assert.equal(haproxy.pipe!.blockedWrites, 1, "the ACK write is stuck");
    const started = performance.now();
    await within(agent.drain(), 3000, "drain() to settle with a stuck write");
    const waited = performance.now() - started;
    // The connection is busy (its ACK is not written) until shutdownTimeout gives up on it.
    assert.ok(
      waited >= 295,
      `drain() gave up after ${waited.toFixed(0)} ms, before shutdownTimeout`,
    );
    assert.equal(agent.connectionCount, 0);
    await closedWithin(haproxy, 500);
  } finally {
    await shut(haproxy);
  }
});

test("drain(): a fragmented NOTIFY under way is in flight: answered before the goodbye (rest 300 ms later)", async () => {
  const agent = new Agent({ logger: silentLogger }).on("big", (message, context) => {
    context.setVar("txn", "length", (message.get("body") as string).length);
  });
  const tapped = tap(agent);
  const haproxy = HaproxySimulator.connect(tapped.agent);
  try {
    await haproxy.hello();
    const payload = messagesPayload([{ name: "big", args: { body: "z".repeat(300) } }]);
    const half = payload.length >> 1;
    const fragment = (part: Uint8Array, last: boolean) =>
      haproxy.sendFrame({
        type: last ? FrameType.Unset : FrameType.Notify,
        flags: last ? FrameFlags.Fin : 0,
        streamId: 9,
        frameId: 1,
        payload: part,
      });
    fragment(payload.subarray(0, half), false);
    await tick();
    const draining = agent.drain();
    await delay(300);
    fragment(payload.subarray(half), true);
    assert.deepEqual((await haproxy.waitAck(9, 1)).vars, { "txn.length": 300 });
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    await within(draining, 2000, "drain() to settle");
    const types = tapped.frames().map((frame) => frame.type);
    assert.deepEqual(types, [FrameType.AgentHello, FrameType.Ack, FrameType.AgentDisconnect]);
  } finally {
    await shut(haproxy);
  }
});

test("drain(): on the HAProxy 2.6/3.0 fast path, a fragmented NOTIFY under way when the last ACK goes out is still in flight", async () => {
  const gate = deferred();
  const agent = new Agent({ logger: silentLogger })
    .on("slow", async (_message, context) => {
      await gate.promise;
      context.setVar("txn", "slow", true);
    })
    .on("big", (message, context) => {
      context.setVar("txn", "length", (message.get("body") as string).length);
    });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const slow = haproxy.notify([{ name: "slow" }], { streamId: 1, frameId: 1 });
    const draining = agent.drain();
    // The first check (after the quiet period) finds work in flight: the fast path is on, and
    // the goodbye follows 5 ms after the last ACK unless something else is in flight.
    await delay(300);
    const payload = messagesPayload([{ name: "big", args: { body: "z".repeat(300) } }]);
    const half = payload.length >> 1;
    haproxy.sendFrame({
      type: FrameType.Notify,
      flags: 0,
      streamId: 2,
      frameId: 1,
      payload: payload.subarray(0, half),
    });
    await tick();
    gate.resolve();
    assert.deepEqual((await slow).vars, { "txn.slow": true });
    await delay(20);
    haproxy.sendFrame({
      type: FrameType.Unset,
      flags: FrameFlags.Fin,
      streamId: 2,
      frameId: 1,
      payload: payload.subarray(half),
    });
    assert.deepEqual((await haproxy.waitAck(2, 1)).vars, { "txn.length": 300 });
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    await within(draining, 2000, "drain() to settle");
  } finally {
    await shut(haproxy);
  }
});

test("drain(): the bytes of a NOTIFY half received are in flight: it is answered before the goodbye", async () => {
  const agent = new Agent({ logger: silentLogger })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true));
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const notify = encodeFrame({
      type: FrameType.Notify,
      streamId: 3,
      frameId: 1,
      messages: [{ name: "ping", args: [] }],
    });
    haproxy.send(notify.subarray(0, 6));
    await tick();
    const draining = agent.drain();
    await delay(400);
    haproxy.send(notify.subarray(6));
    assert.deepEqual((await haproxy.waitAck(3, 1)).vars, { "txn.pong": true });
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    await within(draining, 2000, "drain() to settle");
  } finally {
    await shut(haproxy);
  }
});

test("drain(): the goodbye waits a quiet period first, so a NOTIFY already on the wire is answered; on 2.6/3.0 it costs no second one", async () => {
  const elapsed: Record<string, number> = {};
  for (const flavor of ["2.6", "3.x"] as const) {
    const agent = new Agent({ logger: silentLogger })
      .on("ping", (_message, context) => context.setVar("txn", "pong", true));
    const haproxy = HaproxySimulator.connect(agent, { flavor });
    try {
      await haproxy.hello();
      const started = performance.now();
      const draining = agent.drain();
      const goodbye = haproxy.nextFrame();
      await delay(100);
      assert.deepEqual((await haproxy.notify([{ name: "ping" }])).vars, { "txn.pong": true });
      assertDisconnect(await goodbye, Status.Normal);
      elapsed[flavor] = performance.now() - started;
      await within(draining, 2000, "drain() to settle");
    } finally {
      await shut(haproxy);
    }
  }
  // 2.6: the first check at 250 ms saw the NOTIFY, nothing is in flight: 5 ms more. 3.x: another
  // full quiet period.
  assert.ok(elapsed["2.6"] >= 245 && elapsed["2.6"] < 400, `2.6: ${elapsed["2.6"].toFixed(0)} ms`);
  assert.ok(elapsed["3.x"] >= 490, `3.x: ${elapsed["3.x"].toFixed(0)} ms`);
});

test("drain(): under steady load, HAProxy 2.6/3.0 get the goodbye at the first moment nothing is in flight; 3.1+ only once quiet", async () => {
  const elapsed: Record<string, number> = {};
  for (const flavor of ["2.6", "3.x"] as const) {
    const agent = new Agent({ logger: silentLogger, shutdownTimeout: 1500 })
      .on("ping", (_message, context) => context.setVar("txn", "pong", true));
    const haproxy = HaproxySimulator.connect(agent, { flavor });
    try {
      await haproxy.hello();
      let stop = false;
      // A NOTIFY every 40 ms: never 250 ms of quiet, but mostly nothing in flight.
      const load = (async () => {
        while (!stop && !haproxy.isClosed) {
          await haproxy.notify([{ name: "ping" }]).catch(() => {});
          await delay(40);
        }
      })();
      await delay(100);
      const started = performance.now();
      const draining = agent.drain();
      assertDisconnect(await haproxy.nextFrame(), Status.Normal);
      elapsed[flavor] = performance.now() - started;
      stop = true;
      await load;
      await within(draining, 3000, "drain() to settle");
    } finally {
      await shut(haproxy);
    }
  }
  assert.ok(elapsed["2.6"] < 1000, `2.6: goodbye after ${elapsed["2.6"].toFixed(0)} ms`);
  assert.ok(elapsed["3.x"] >= 1400, `3.x: goodbye after ${elapsed["3.x"].toFixed(0)} ms`);
});

test("drain(): on the HAProxy 2.6/3.0 fast path, the goodbye follows the last ACK within moments", async () => {
  const gate = deferred();
  const agent = new Agent({ logger: silentLogger }).on("slow", async (_message, context) => {
    await gate.promise;
    context.setVar("txn", "slow", true);
  });
  const haproxy = HaproxySimulator.connect(agent, { flavor: "2.6" });
  try {
    await haproxy.hello();
    const slow = haproxy.notify([{ name: "slow" }]);
    await tick();
    const draining = agent.drain();
    // The first check (250 ms) finds the handler running; it finishes at 350 ms.
    await delay(350);
    gate.resolve();
    assert.deepEqual((await slow).vars, { "txn.slow": true });
    const acked = performance.now();
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    const after = performance.now() - acked;
    assert.ok(after < 100, `the goodbye came ${after.toFixed(0)} ms after the last ACK`);
    await within(draining, 2000, "drain() to settle");
  } finally {
    gate.resolve();
    await shut(haproxy);
  }
});
