// Connection limits and graceful shutdown: maxConnections, agent.drain() and shutdownTimeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setVar } from "../../src/codec/action.ts";
import { FrameType } from "../../src/codec/frame.ts";
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
    const draining = agent.drain();
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    await closedWithin(haproxy);
    await within(draining, 1000, "drain() to settle");
  } finally {
    await shut(haproxy);
  }
});

test("drain(): an idle connection is closed after a short quiet period; with no connections it settles at once", async () => {
  const agent = new Agent({ logger: silentLogger });
  await within(agent.drain(), 100, "drain() without connections");
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    const draining = agent.drain();
    assertDisconnect(await haproxy.nextFrame(), Status.Normal);
    await closedWithin(haproxy);
    await within(draining, 1000, "drain() to settle");
  } finally {
    await shut(haproxy);
  }
});

test("drain() settles even when HAProxy stopped reading: the stuck connection is dropped", async () => {
  const agent = new Agent({ logger: silentLogger, shutdownTimeout: 50 })
    .on("ping", (_message, context) => context.setVar("txn", "pong", true));
  const haproxy = HaproxySimulator.connect(agent);
  try {
    await haproxy.hello();
    haproxy.pipe!.setReading(false);
    haproxy.sendNotify([{ name: "ping" }]);
    await tick();
    assert.equal(haproxy.pipe!.blockedWrites, 1, "the ACK write is stuck");
    await within(agent.drain(), 3000, "drain() to settle with a stuck write");
    assert.equal(agent.connectionCount, 0);
    await closedWithin(haproxy, 500);
  } finally {
    await shut(haproxy);
  }
});
