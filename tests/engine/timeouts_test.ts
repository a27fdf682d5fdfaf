// Timeouts: the processing deadline of a NOTIFY, the hello timeout and the idle timeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setVar } from "../../src/codec/action.ts";
import { SpopError } from "../../src/codec/errors.ts";
import { FrameType } from "../../src/codec/frame.ts";
import { Status } from "../../src/codec/status.ts";
import { Agent } from "../../src/engine/agent.ts";
import { silentLogger } from "../../src/engine/logger.ts";
import { HaproxySimulator } from "../../src/testing/simulator.ts";
import {
  assertDisconnect,
  closedWithin,
  deferred,
  delay,
  RecordingLogger,
  shut,
  tap,
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
