// The behaviour every adapter must have over real sockets. listen_test.ts runs it through
// agent.listen() on whatever runtime runs the tests, so Deno, Bun and Node each test their own
// adapter.
// The adapter tests import the library through its entry points only (the files deno.json
// exports), so that scripts/npm_check.sh can run them against the npm package on Node 20 and 22.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { Agent, type AgentOptions, type AgentServer, type ListenOptions } from "../../mod.ts";
import { DataType, encodeFrame, type Frame, FrameType, NamedValue } from "../../src/codec/mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import {
  concat,
  delay,
  helloBytes,
  type ListenFunction,
  mutualTls,
  notifyBytes,
  RawPeer,
  recordingLogger,
  selfSignedCertificate,
  targetOf,
  tempDir,
  until,
  varsOf,
  within,
} from "./_helpers.ts";

/** What the runtime under test can do beyond the basics. */
export interface SuiteFeatures {
  /** Two servers may share a port with `reusePort`. */
  reusePort: boolean;
}

/** The status-code of an AGENT-DISCONNECT frame. */
function statusOf(frame: { items?: NamedValue[] }): unknown {
  return frame.items?.find((item) => item.name === "status-code")?.value;
}

/** Resolves true if a plain node:net server can bind the port now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host: "127.0.0.1", port }, () => probe.close(() => resolve(true)));
  });
}

/**
 * Waits until `value()` has not changed for `quietMs`, or `maxMs` passed.
 *
 * @returns The value then.
 */
async function settled(value: () => number, quietMs: number, maxMs: number): Promise<number> {
  let last = value();
  let stableSince = Date.now();
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    await delay(25);
    const now = value();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= quietMs) {
      break;
    }
  }
  return last;
}

/** A deterministic pattern, different for each seed. */
function pattern(seed: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * Registers a short test of one adapter module imported directly (not through agent.listen()).
 *
 * @param label The name prefix.
 * @param listen The adapter's listen().
 */
export function directImportTest(label: string, listen: ListenFunction): void {
  test(`${label}: listen() serves a NOTIFY, and a bind error is a rejection`, async () => {
    const logger = recordingLogger();
    const agent = new Agent({ logger }).on("ping", (_message, context) => {
      context.setVar("txn", "pong", true);
    });
    const server = await listen(agent, { port: 0 });
    try {
      if (server.address.transport !== "tcp") throw new Error("expected TCP");
      const port = server.address.port;
      const haproxy = await HaproxySimulator.connectSocket({ port });
      await haproxy.hello();
      assert.equal((await haproxy.notify([{ name: "ping" }])).vars["txn.pong"], true);
      // Whatever the runtime does on EADDRINUSE (Deno and Bun throw at once), the caller gets
      // a rejected promise, and no log line.
      const other = new Agent({ logger });
      let pending: Promise<AgentServer> | undefined;
      assert.doesNotThrow(() => pending = listen(other, { port }));
      await assert.rejects(pending!);
      const closing = server.close();
      assert.equal((await haproxy.nextFrame()).type, FrameType.AgentDisconnect);
      await within(closing, 5000, "close()");
      assert.deepEqual(logger.errors, []);
      assert.deepEqual(logger.warnings, []);
    } finally {
      await server.close();
    }
  });
}

/**
 * Registers the adapter tests.
 *
 * @param label The name prefix of every test.
 * @param listen How to start a server.
 * @param features What the runtime supports.
 */
export function adapterSuite(label: string, listen: ListenFunction, features: SuiteFeatures): void {
  /** Starts an agent on TCP port 0 with a recording logger. */
  async function start(options: AgentOptions = {}, listenOptions: ListenOptions = {}) {
    const logger = recordingLogger();
    const agent = new Agent({ logger, ...options });
    const server = await listen(agent, { port: 0, ...listenOptions });
    return { agent, server, logger };
  }

  test(`${label}: TCP on port 0 serves HELLO, pipelined NOTIFYs and health checks, then drains on close()`, async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    const { agent, server, logger } = await start();
    agent.on("req", async (message, context) => {
      const n = message.get("n") as number;
      if (n >= 40) await gate;
      context.setVar("txn", "n", n);
      context.setVar("txn", "peer", String(context.remoteAddress));
    });
    try {
      assert.equal(server.address.transport, "tcp");
      if (server.address.transport !== "tcp") return;
      const port = server.address.port;
      assert.ok(port > 0, `bound port ${port}`);
      assert.equal(server.address.hostname, "127.0.0.1");

      const check = await HaproxySimulator.connectSocket({ port });
      assert.equal((await check.healthcheck()).type, FrameType.AgentHello);
      await within(check.closed, 2000, "the health check connection to close");

      const haproxy = await HaproxySimulator.connectSocket({ port });
      const hello = await haproxy.hello();
      assert.equal(hello.type, FrameType.AgentHello);
      const sent = [];
      for (let n = 0; n < 50; n++) sent.push(haproxy.sendNotify([{ name: "req", args: { n } }]));
      for (let n = 0; n < 40; n++) {
        const ack = await haproxy.waitAck(sent[n].streamId, sent[n].frameId);
        assert.equal(ack.vars["txn.n"], n);
        assert.match(String(ack.vars["txn.peer"]), /^127\.0\.0\.1:\d+$/);
      }
      await until(() => agent.connectionCount === 1, "the health check to be released");

      // Ten NOTIFYs are still in flight when close() is called: they must be answered first.
      const closing = server.close();
      await delay(50);
      assert.equal(haproxy.isClosed, false);
      release();
      for (let n = 40; n < 50; n++) {
        const ack = await haproxy.waitAck(sent[n].streamId, sent[n].frameId);
        assert.equal(ack.vars["txn.n"], n);
      }
      const goodbye = await haproxy.nextFrame();
      assert.equal(goodbye.type, FrameType.AgentDisconnect);
      assert.equal(statusOf(goodbye), 0);
      await within(haproxy.closed, 5000, "the agent to close the connection");
      await within(server.finished, 5000, "server.finished");
      await within(closing, 1000, "close()");
      assert.equal(agent.connectionCount, 0);
      assert.equal(await portIsFree(port), true, `port ${port} is free again`);
      assert.deepEqual(logger.errors, []);
      assert.deepEqual(logger.warnings, []);
    } finally {
      release();
      await server.close();
    }
  });

  test(`${label}: close() with no connection settles at once and twice`, async () => {
    const { server } = await start();
    const first = server.close();
    assert.equal(server.close(), first);
    await within(first, 2000, "close()");
    await within(server.finished, 1000, "server.finished");
  });

  test(`${label}: listening on a busy port rejects`, async () => {
    const { server } = await start();
    try {
      if (server.address.transport !== "tcp") throw new Error("expected TCP");
      const port = server.address.port;
      await assert.rejects(listen(new Agent({ logger: recordingLogger() }), { port }));
    } finally {
      await server.close();
    }
  });

  test(`${label}: Unix socket path serves HELLO, NOTIFY and health checks, then drains on close()`, async () => {
    const dir = tempDir();
    const path = join(dir.path, "agent.sock");
    // A stale file where the socket goes is replaced.
    writeFileSync(path, "stale");
    const logger = recordingLogger();
    const agent = new Agent({ logger }).on("req", (message, context) => {
      context.setVar("txn", "n", message.get("n") as number);
      context.setVar("txn", "peer", String(context.remoteAddress));
    });
    let server: AgentServer | undefined;
    try {
      server = await listen(agent, { path });
      assert.deepEqual(server.address, { transport: "unix", path });

      const check = await HaproxySimulator.connectSocket({ path });
      assert.equal((await check.healthcheck()).type, FrameType.AgentHello);
      await within(check.closed, 2000, "the health check connection to close");

      const haproxy = await HaproxySimulator.connectSocket({ path });
      await haproxy.hello();
      const sent = [];
      for (let n = 0; n < 20; n++) sent.push(haproxy.sendNotify([{ name: "req", args: { n } }]));
      for (let n = 0; n < 20; n++) {
        const ack = await haproxy.waitAck(sent[n].streamId, sent[n].frameId);
        assert.equal(ack.vars["txn.n"], n);
        assert.equal(ack.vars["txn.peer"], "unix");
      }
      const closing = server.close();
      const goodbye = await haproxy.nextFrame();
      assert.equal(goodbye.type, FrameType.AgentDisconnect);
      assert.equal(statusOf(goodbye), 0);
      await within(haproxy.closed, 5000, "the agent to close the connection");
      await within(closing, 5000, "close()");
      await within(server.finished, 1000, "server.finished");
      assert.equal(agent.connectionCount, 0);
      assert.deepEqual(logger.errors, []);
      assert.deepEqual(logger.warnings, []);
    } finally {
      await server?.close();
      dir.cleanup();
    }
  });

  test(`${label}: TLS serves HELLO and NOTIFY`, async () => {
    const tls = selfSignedCertificate();
    const { agent, server, logger } = await start({}, { tls });
    agent.on("req", (message, context) => {
      context.setVar("txn", "echo", message.get("text") as string);
    });
    let peer: RawPeer | undefined;
    try {
      peer = await RawPeer.connect(targetOf(server), { tls: true });
      await peer.hello();
      for (let i = 0; i < 10; i++) {
        const text = `over tls ${i} ${"x".repeat(i * 500)}`;
        peer.send(notifyBytes(2 * i + 1, 1, [{
          name: "req",
          args: [new NamedValue("text", DataType.String, text)],
        }]));
        const ack: Frame = await peer.next();
        assert.equal(ack.type, FrameType.Ack);
        assert.equal(ack.streamId, 2 * i + 1);
        assert.equal(varsOf(ack).echo, text);
      }
      // A peer that goes away without a TLS close_notify ends normally too.
      const rude = await RawPeer.connect(targetOf(server), { tls: true });
      await rude.hello();
      rude.destroy();
      await until(() => agent.connectionCount === 1, "the other TLS connections to be released");
      const closing = server.close();
      const goodbye = await peer.next();
      assert.equal(goodbye.type, FrameType.AgentDisconnect);
      assert.equal(statusOf(goodbye), 0);
      await within(closing, 5000, "close()");
      assert.deepEqual(logger.errors, []);
      assert.deepEqual(logger.warnings, []);
    } finally {
      peer?.destroy();
      await server.close();
    }
  });

  test(`${label}: a TCP probe that connects and leaves without a HELLO is not a warning or an error`, async () => {
    const { agent, server, logger } = await start();
    try {
      const polite = await RawPeer.connect(targetOf(server));
      polite.socket.end();
      const rude = await RawPeer.connect(targetOf(server));
      rude.destroy();
      const halfway = await RawPeer.connect(targetOf(server));
      halfway.send(helloBytes().subarray(0, 10));
      halfway.destroy();
      await until(() => agent.connectionCount === 0, "the probes to be released");
      assert.deepEqual(logger.warnings, []);
      assert.deepEqual(logger.errors, []);
    } finally {
      await server.close();
    }
  });

  test(`${label}: mutual TLS: a client certificate signed by the CA is served; none, or a stranger's, is refused`, async () => {
    const material = mutualTls();
    for (const encrypted of [false, true]) {
      const tls = {
        cert: material.server.cert,
        key: encrypted ? material.encryptedServerKey : material.server.key,
        ...(encrypted ? { passphrase: material.passphrase } : {}),
        ca: material.ca,
      };
      const { agent, server } = await start({}, { tls });
      agent.on("req", (_message, context) => context.setVar("txn", "ok", true));
      const peers: RawPeer[] = [];
      try {
        const trusted = await RawPeer.connect(targetOf(server), { tls: material.client });
        peers.push(trusted);
        await trusted.hello();
        trusted.send(notifyBytes(1, 1, [{ name: "req", args: [] }]));
        assert.equal(varsOf(await trusted.next()).ok, true);
        for (const identity of [undefined, material.stranger]) {
          // TLS 1.3 lets the client finish its side first: the refusal comes as an alert and a
          // close instead of an answer to the HELLO.
          const refused = await RawPeer.connect(targetOf(server), { tls: identity ?? true })
            .catch(() => undefined);
          if (refused === undefined) continue;
          peers.push(refused);
          refused.send(helloBytes());
          await within(refused.closed, 5000, "the refused client to be closed");
          assert.deepEqual(refused.frames, [], "no frame for a client without a valid certificate");
        }
        // The trusted connection still answers.
        trusted.send(notifyBytes(3, 1, [{ name: "req", args: [] }]));
        assert.equal(varsOf(await trusted.next()).ok, true);
      } finally {
        for (const peer of peers) peer.destroy();
        await server.close();
      }
    }
  });

  for (const secure of [false, true]) {
    test(
      `${label}: ACKs ready a moment apart are not held back by Nagle's algorithm (${
        secure ? "TLS" : "TCP"
      })`,
      async () => {
        const { agent, server, logger } = await start(
          {},
          secure ? { tls: selfSignedCertificate() } : {},
        );
        agent.on("wait", async (message) => {
          await delay(message.get("ms") as number);
        });
        let peer: RawPeer | undefined;
        try {
          peer = await RawPeer.connect(targetOf(server), { tls: secure });
          await peer.hello();
          // Each round: four NOTIFYs whose ACKs are written 0, 1, 2 and 3 ms apart. Without
          // TCP_NODELAY, every ACK after the first waits for the peer's delayed ACK (~40 ms).
          const rounds: number[] = [];
          let streamId = 1;
          for (let round = 0; round < 21; round++) {
            const frames: Uint8Array[] = [];
            for (let ms = 0; ms < 4; ms++, streamId += 2) {
              frames.push(notifyBytes(streamId, 1, [{
                name: "wait",
                args: [new NamedValue("ms", DataType.Int32, ms)],
              }]));
            }
            const expected = peer.ackCount + 4;
            const started = performance.now();
            peer.send(concat(frames));
            await peer.waitAcks(expected);
            rounds.push(performance.now() - started);
          }
          rounds.sort((a, b) => a - b);
          const median = rounds[10];
          assert.ok(median < 25, `median round ${median.toFixed(1)} ms`);
          assert.deepEqual(logger.errors, []);
        } finally {
          peer?.destroy();
          await server.close();
        }
      },
    );
  }

  test(`${label}: a peer writing one byte at a time gets correct answers`, async () => {
    const { agent, server, logger } = await start();
    agent.on("req", (message, context) => {
      const blob = message.get("blob") as Uint8Array;
      context.setVar("txn", "sum", blob.reduce((sum, byte) => sum + byte, 0));
      context.setVar("txn", "n", message.get("n") as number);
    });
    let peer: RawPeer | undefined;
    try {
      peer = await RawPeer.connect(targetOf(server));
      const blobs = [pattern(1, 40), pattern(2, 60)];
      const stream = concat([
        helloBytes(),
        ...blobs.map((blob, n) =>
          notifyBytes(2 * n + 1, 1, [{
            name: "req",
            args: [
              new NamedValue("n", DataType.Int32, n),
              new NamedValue("blob", DataType.Binary, blob),
            ],
          }])
        ),
      ]);
      for (let i = 0; i < stream.length; i++) {
        peer.socket.write(stream.subarray(i, i + 1));
        // Let each byte leave as its own segment (setNoDelay is on).
        if (i % 2 === 0) await delay(1);
      }
      assert.equal((await peer.next()).type, FrameType.AgentHello);
      for (let n = 0; n < blobs.length; n++) {
        const ack: Frame = await peer.next();
        assert.equal(ack.type, FrameType.Ack);
        assert.equal(ack.streamId, 2 * n + 1);
        const expected = blobs[n].reduce((sum, byte) => sum + byte, 0);
        assert.deepEqual(varsOf(ack), { sum: expected, n });
      }
      assert.deepEqual(logger.errors, []);
    } finally {
      peer?.destroy();
      await server.close();
    }
  });

  /**
   * The key backpressure test: a peer floods NOTIFYs whose ACKs are 8 KiB each while it does
   * not read. The agent may answer only what the socket buffers take plus `maxInFlight`, then
   * must stop reading; once the peer reads again, everything is answered.
   *
   * @param transport Where to listen.
   * @param bound The most handler calls allowed while the peer is paused.
   */
  function floodTest(transport: "tcp" | "unix", bound: number): void {
    test(`${label}: a peer that stops reading (${transport}) makes the agent stop reading; nothing is lost`, async () => {
      const maxInFlight = 16;
      const floodSize = 10_000;
      const big = "v".repeat(8192);
      let calls = 0;
      const dir = tempDir();
      const { agent, server, logger } = await start(
        { maxInFlight },
        transport === "unix" ? { path: join(dir.path, "flood.sock") } : {},
      );
      agent.on("flood", (_message, context) => {
        calls++;
        context.setVar("txn", "big", big);
      });
      let peer: RawPeer | undefined;
      try {
        peer = await RawPeer.connect(targetOf(server), { decode: false });
        await peer.hello();
        peer.socket.pause();
        // 10,000 NOTIFYs of ~1 KiB each: 10 MiB, far more than the socket buffers hold.
        const padding = new NamedValue("pad", DataType.Binary, new Uint8Array(1024));
        const parts: Uint8Array[] = [];
        for (let i = 0; i < floodSize; i++) {
          parts.push(notifyBytes(2 * i + 1, 1, [{ name: "flood", args: [padding] }]));
        }
        peer.socket.write(concat(parts));

        const whilePaused = await settled(() => calls, 300, 3000);
        assert.ok(
          whilePaused >= maxInFlight && whilePaused <= bound,
          `${whilePaused} handler calls while the peer is paused (at most ${bound})`,
        );
        // The agent stopped reading: most of the flood still waits in the peer's write queue.
        assert.ok(
          peer.socket.writableLength > 1024 * 1024,
          `${peer.socket.writableLength} bytes still queued by the peer`,
        );
        await delay(200);
        assert.equal(calls, whilePaused, "no more handler calls while the peer is paused");

        peer.socket.resume();
        await until(() => peer!.ackCount === floodSize, `${floodSize} ACKs`, 20_000);
        assert.equal(calls, floodSize);
        const ids = new Set<number>();
        for (const frame of peer.frames) if (frame.type === FrameType.Ack) ids.add(frame.streamId);
        assert.equal(ids.size, floodSize);
        assert.deepEqual(logger.errors, []);
        assert.deepEqual(logger.warnings, []);
      } finally {
        peer?.destroy();
        await server.close();
        dir.cleanup();
      }
    });
  }

  // Loopback TCP buffers take a few MiB (~500 ACKs of 8 KiB here); a Unix socket ~200 KiB.
  floodTest("tcp", 2500);
  floodTest("unix", 16 + 112);

  test(`${label}: close() drops a peer that stopped reading, after shutdownTimeout and a grace`, async () => {
    let calls = 0;
    const { agent, server, logger } = await start({ shutdownTimeout: 100, maxInFlight: 16 });
    agent.on("flood", (_message, context) => {
      calls++;
      context.setVar("txn", "big", "s".repeat(8192));
    });
    let peer: RawPeer | undefined;
    try {
      peer = await RawPeer.connect(targetOf(server), { decode: false });
      await peer.hello();
      peer.socket.pause();
      const flood: Uint8Array[] = [];
      for (let i = 0; i < 5000; i++) {
        flood.push(notifyBytes(2 * i + 1, 1, [{ name: "flood", args: [] }]));
      }
      peer.send(concat(flood));
      await settled(() => calls, 150, 2000);
      // The agent's writes are stuck: after shutdownTimeout (100 ms) close() gives up on them and
      // closes the socket, which sends nothing more and drops the peer after its grace (2 s): the
      // socket ends, and close() settles, about 2.1 s after close() was called, not before.
      const started = performance.now();
      const closing = server.close();
      // The peer still does not read; it notices the close when a write of its own meets the reset.
      const poke = setInterval(() => peer!.socket.write(new Uint8Array(16)), 50);
      try {
        await within(closing, 3000, "close()");
        const closedAfter = performance.now() - started;
        assert.equal(agent.connectionCount, 0);
        await within(peer.closed, 1000, "the socket to be closed");
        const droppedAfter = performance.now() - started;
        assert.ok(
          closedAfter >= 2050,
          `close() settled after ${closedAfter.toFixed(0)} ms, before shutdownTimeout + the grace`,
        );
        assert.ok(
          droppedAfter >= 2050,
          `the peer was dropped after ${
            droppedAfter.toFixed(0)
          } ms, before shutdownTimeout + the grace`,
        );
      } finally {
        clearInterval(poke);
      }
      assert.deepEqual(logger.errors, []);
    } finally {
      peer?.destroy();
      await server.close();
    }
  });

  test(`${label}: peers that reset the connection are a normal end; others are still served`, async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    const { agent, server, logger } = await start({ maxInFlight: 4 });
    agent.on("sync", (_message, context) => context.setVar("txn", "big", "r".repeat(8192)));
    agent.on("slow", async (_message, context) => {
      await gate;
      context.setVar("txn", "done", true);
    });
    const target = targetOf(server);
    const reset = (peer: RawPeer) => peer.socket.resetAndDestroy();
    const notify = (streamId: number, name: string) =>
      notifyBytes(streamId, 1, [{ name, args: [] }]);
    try {
      // Right after connecting; right after HELLO; in the middle of a frame.
      const early = await RawPeer.connect(target);
      reset(early);
      const afterHello = await RawPeer.connect(target);
      afterHello.send(helloBytes());
      reset(afterHello);
      const midFrame = await RawPeer.connect(target);
      midFrame.send(concat([helloBytes(), notify(1, "sync").subarray(0, 7)]));
      await delay(20);
      reset(midFrame);
      // While the ACK of a NOTIFY is being written.
      for (let i = 0; i < 5; i++) {
        const racing = await RawPeer.connect(target);
        await racing.hello();
        racing.send(concat([notify(1, "sync"), notify(3, "sync"), notify(5, "sync")]));
        reset(racing);
      }
      // While a handler is still running; its ACK comes after the reset.
      const pending = await RawPeer.connect(target);
      await pending.hello();
      pending.send(notify(1, "slow"));
      await delay(20);
      reset(pending);
      // While the agent is paused (maxInFlight) and its writes are blocked by a peer not reading.
      const blocked = await RawPeer.connect(target, { decode: false });
      await blocked.hello();
      blocked.socket.pause();
      const flood: Uint8Array[] = [];
      for (let i = 0; i < 2000; i++) flood.push(notify(2 * i + 1, "sync"));
      blocked.send(concat(flood));
      await delay(200);
      reset(blocked);

      await delay(50);
      release();
      await until(() => agent.connectionCount === 0, "every reset connection to be released");

      const haproxy = await HaproxySimulator.connectSocket(target);
      await haproxy.hello();
      const ack = await haproxy.notify([{ name: "slow" }]);
      assert.equal(ack.vars["txn.done"], true);
      haproxy.close();
      await within(haproxy.closed, 2000, "the last connection to close");
      await until(() => agent.connectionCount === 0, "the last connection to be released");
      assert.deepEqual(logger.errors, []);
      assert.deepEqual(logger.warnings, []);
    } finally {
      release();
      await server.close();
    }
  });

  test(`${label}: a peer still sending when the agent closes gets AGENT-DISCONNECT and a FIN, not a reset`, async () => {
    // A bad frame, then 8 MiB of pipelined NOTIFYs in the same write: the agent closes while the
    // peer's data is unread. It must half-close and read on, or the kernel resets the connection
    // and the peer can lose the AGENT-DISCONNECT.
    const notify = notifyBytes(1, 1, [{ name: "ping", args: [] }]);
    const flood = concat(new Array(Math.ceil((8 << 20) / notify.length)).fill(notify));
    const bad = encodeFrame({ type: FrameType.Ack, streamId: 1, frameId: 1, actions: [] });
    for (let round = 0; round < 3; round++) {
      const logger = recordingLogger();
      const agent = new Agent({ logger }).on("ping", () => {});
      const server = await listen(agent, { port: 0 });
      try {
        const peer = await RawPeer.connect(targetOf(server), { decode: true });
        await peer.hello();
        peer.send(concat([bad, flood]));
        await within(peer.closed, 10_000, "the agent to close the connection");
        const goodbye = peer.frames.find((frame) => frame.type === FrameType.AgentDisconnect);
        assert.ok(goodbye, `round ${round}: the AGENT-DISCONNECT arrived`);
        assert.equal(statusOf(goodbye), 4);
        assert.equal(peer.reset, false, `round ${round}: the connection was reset`);
        assert.equal(peer.sawFin, true, `round ${round}: the agent's FIN arrived`);
      } finally {
        await server.close();
      }
    }
  });

  test(`${label}: frames and binary arguments stay intact while later chunks arrive`, async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => release = resolve);
    const first = pattern(1000, 3000);
    let held = 0;
    const { agent, server, logger } = await start({ maxInFlight: 256 });
    agent.on("hold", async (message, context) => {
      // A view into the chunk the frame came in: it must not change while later reads happen.
      const blob = message.get("blob") as Uint8Array;
      held++;
      await gate;
      context.setVar("txn", "blob", blob);
      context.setVar("txn", "name", message.name);
    });
    agent.on("fill", (message, context) => {
      context.setVar("txn", "size", (message.get("blob") as Uint8Array).length);
    });
    let peer: RawPeer | undefined;
    try {
      peer = await RawPeer.connect(targetOf(server));
      await peer.hello();
      peer.send(notifyBytes(1, 1, [{
        name: "hold",
        args: [new NamedValue("blob", DataType.Binary, first)],
      }]));
      await until(() => held === 1, "the held handler to start");
      // 200 NOTIFYs of ~3 KiB in many separate writes: 600 KiB, more than any read buffer.
      const fills = 200;
      for (let i = 0; i < fills; i++) {
        peer.send(notifyBytes(2 * i + 3, 1, [{
          name: "fill",
          args: [new NamedValue("blob", DataType.Binary, pattern(i, 3000))],
        }]));
        if (i % 10 === 0) await delay(1);
      }
      await until(() => peer!.ackCount === fills, `${fills} ACKs`);
      release();
      await until(() => peer!.ackCount === fills + 1, "the held ACK");
      const ack = peer.frames.find((frame) => frame.type === FrameType.Ack && frame.streamId === 1);
      assert.ok(ack !== undefined);
      const vars = varsOf(ack);
      assert.equal(vars.name, "hold");
      assert.deepEqual(vars.blob, first);
      assert.deepEqual(logger.errors, []);
    } finally {
      release();
      peer?.destroy();
      await server.close();
    }
  });

  if (features.reusePort) reusePortTest(label, listen);
}

/**
 * Registers the reusePort test: two servers bound to one port with `reusePort` both serve
 * traffic, each NOTIFY answered by the agent whose handler ran.
 *
 * @param label The name prefix.
 * @param listen How to start a server.
 */
export function reusePortTest(label: string, listen: ListenFunction): void {
  test(`${label}: reusePort lets two servers share a port, and both serve NOTIFYs`, async () => {
    const logger = recordingLogger();
    const served = { a: 0, b: 0 };
    const agentFor = (name: "a" | "b") =>
      new Agent({ logger }).on("who", (_message, context) => {
        served[name]++;
        context.setVar("txn", "server", name);
      });
    const a = await listen(agentFor("a"), { port: 0, reusePort: true });
    let b: AgentServer | undefined;
    try {
      if (a.address.transport !== "tcp") throw new Error("expected TCP");
      const port = a.address.port;
      b = await listen(agentFor("b"), { port, reusePort: true });
      assert.deepEqual(b.address, a.address);
      // The kernel spreads connections by a hash of the addresses: 32 reach both (all 32 on one
      // server has a chance of 2^-31).
      const answered = { a: 0, b: 0 };
      for (let i = 0; i < 32; i++) {
        const haproxy = await HaproxySimulator.connectSocket({ port });
        await haproxy.hello();
        const server = (await haproxy.notify([{ name: "who" }])).vars["txn.server"];
        assert.ok(server === "a" || server === "b", `answered by ${String(server)}`);
        answered[server]++;
        haproxy.close();
        await within(haproxy.closed, 2000, "the connection to close");
      }
      assert.deepEqual(answered, served, "each ACK came from the server whose handler ran");
      assert.ok(served.a > 0 && served.b > 0, `served ${served.a} and ${served.b}`);
      assert.deepEqual(logger.errors, []);
      assert.deepEqual(logger.warnings, []);
    } finally {
      await a.close();
      await b?.close();
    }
  });
}
