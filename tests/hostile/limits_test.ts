// The agent's limits under attack, over real sockets, with the adapter of the runtime running the
// tests (Deno, Bun and Node each attack their own): huge length prefixes, other protocols on the
// SPOP port, peers that stall, a flood of connections past maxConnections, a peer that floods
// NOTIFYs and never reads, and handlers that never settle.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import * as tls from "node:tls";
import {
  DataType,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameReader,
  FrameType,
  NamedValue,
  setVar,
  Status,
} from "../../src/codec/mod.ts";
import {
  concat,
  delay,
  helloBytes,
  type ListenFunction,
  notifyBytes,
  RawPeer,
  selfSignedCertificate,
  until,
  varsOf,
  within,
} from "../adapters/_helpers.ts";
import { runtimeName } from "../_runtime.ts";
import { collectUntil, exchange, rssMib, serve } from "./_attack.ts";
import { HTTP_REQUEST, TLS_CLIENT_HELLO } from "./_streams.ts";

const runtime = runtimeName();

/** The frames of what a peer received. */
function framesOf(bytes: Uint8Array): Frame[] {
  const reader = new FrameReader({ maxFrameSize: 0xffff_ffff });
  reader.push(bytes);
  const frames: Frame[] = [];
  for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
    frames.push(decodeFrame(raw));
  }
  return frames;
}

/** Asserts that a connection got AGENT-DISCONNECT with `status` last, then a FIN, not a reset. */
function assertGoodbye(
  ending: { received: Uint8Array; fin: boolean; reset: boolean },
  status: number,
  what: string,
): void {
  const last = framesOf(ending.received).at(-1);
  assert.equal(last?.type, FrameType.AgentDisconnect, `${what}: AGENT-DISCONNECT last`);
  const code = last.items?.find((item) => item.name === "status-code")?.value;
  assert.equal(code, status, `${what}: status`);
  assert.equal(ending.fin, true, `${what}: the agent's FIN arrived`);
  assert.equal(ending.reset, false, `${what}: not reset`);
}

function lengthPrefix(length: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, length);
  return bytes;
}

/** A HAPROXY-HELLO announcing fragmentation (as HAProxy 2.6/3.0 do). */
function fragmentingHello(): Uint8Array {
  return encodeFrame({
    type: FrameType.HaproxyHello,
    items: [
      new NamedValue("supported-versions", DataType.String, "2.0"),
      new NamedValue("max-frame-size", DataType.Uint32, 16380),
      new NamedValue("capabilities", DataType.String, "pipelining,fragmentation"),
    ],
  });
}

/** Answers on a fresh connection: the agent still serves. */
async function stillServes(
  target: { hostname: string; port: number },
  tls = false,
): Promise<void> {
  const peer = await RawPeer.connect(target, { tls });
  try {
    await peer.hello();
    peer.send(notifyBytes(1, 1, [{ name: "ping", args: [] }]));
    assert.equal((await peer.next()).type, FrameType.Ack);
  } finally {
    peer.destroy();
  }
}

test(`${runtime}: lengths up to 4 GiB are refused at their fourth byte with status 3, before and after the handshake, allocating nothing`, async () => {
  const { agent, server, target } = await serve({ maxFrameSize: 16 * 1024 * 1024 });
  try {
    const rssBefore = rssMib();
    const huge = [0xffff_ffff, 0x8000_0000, 16 * 1024 * 1024 + 1];
    // 20 connections for each length, at once: 4 GiB each would be 80 GiB per length.
    const attacks: Array<Promise<[string, Awaited<ReturnType<typeof exchange>>]>> = [];
    for (let i = 0; i < 20; i++) {
      for (const length of [...huge, 2049]) {
        attacks.push(exchange(target, lengthPrefix(length)).then((e) => [`${length} first`, e]));
      }
      for (const length of huge) {
        const bytes = concat([helloBytes(16 * 1024 * 1024), lengthPrefix(length)]);
        attacks.push(exchange(target, bytes).then((e) => [`${length} after HELLO`, e]));
      }
    }
    for (const [what, ending] of await Promise.all(attacks)) {
      assertGoodbye(ending, Status.FrameTooBig, what);
      // Only the 4 length bytes were sent: an agent that waited for the frame would still wait.
      assert.ok(ending.ms < 2500, `${what}: closed after ${ending.ms} ms`);
    }
    const grown = rssMib() - rssBefore;
    assert.ok(grown < 64, `RSS grew by ${grown.toFixed(1)} MiB`);
    await until(() => agent.connectionCount === 0, "every connection to be released");
  } finally {
    await server.close();
  }
});

test(`${runtime}: an HTTP request or a TLS ClientHello on the SPOP port gets status 3 and a clean close; the agent serves on`, async () => {
  const { agent, server, target, logger } = await serve({ logRepeatInterval: 0 }); // one error line per protocol error, to count them;
  agent.on("ping", () => {});
  try {
    // "GET " reads as a 1.1 GB length, a TLS record header as a 369 MB one.
    assertGoodbye(await exchange(target, HTTP_REQUEST), Status.FrameTooBig, "HTTP");
    assertGoodbye(await exchange(target, TLS_CLIENT_HELLO), Status.FrameTooBig, "ClientHello");
    // A real TLS client: its handshake fails, at once.
    const started = Date.now();
    await within(
      new Promise<void>((resolve) => {
        const socket = tls.connect({ ...target, host: target.hostname, rejectUnauthorized: false });
        socket.on("error", () => {});
        socket.on("close", () => resolve());
      }),
      3000,
      "the TLS client to be closed",
    );
    assert.ok(Date.now() - started < 2500);
    await stillServes(target);
    await until(() => agent.connectionCount === 0, "every connection to be released");
    assert.equal(logger.errors.length, 3, logger.errors.join("\n"));
    assert.ok(logger.errors.every((line) => /exceeds max-frame-size 2048/.test(line)));
  } finally {
    await server.close();
  }
});

test(`${runtime}: a TLS agent closes plain SPOP and HTTP at once, and serves TLS on`, async () => {
  const { agent, server, target } = await serve({}, { tls: selfSignedCertificate() });
  agent.on("ping", () => {});
  try {
    for (const bytes of [helloBytes(), HTTP_REQUEST]) {
      const ending = await exchange(target, bytes, 5000);
      assert.ok(ending.ms < 2500, `closed after ${ending.ms} ms`);
      assert.equal(framesOf(ending.received).length, 0, "no SPOP frame goes out in the clear");
    }
    await stillServes(target, true);
    await until(() => agent.connectionCount === 0, "every connection to be released");
  } finally {
    await server.close();
  }
});

test(`${runtime}: peers that stall are closed with status 2: silent, mid-HELLO (helloTimeout), mid-frame and mid-fragmented NOTIFY (frameTimeout)`, async () => {
  const { agent, server, target } = await serve({ helloTimeout: 300, frameTimeout: 300 });
  agent.on("ping", () => {});
  try {
    const notify = notifyBytes(1, 1, [{ name: "ping", args: [] }]);
    const firstFragment = encodeFrame({
      type: FrameType.Notify,
      flags: 0,
      streamId: 1,
      frameId: 1,
      payload: notify.subarray(11, 15),
    });
    const stalls: Array<[string, Uint8Array]> = [
      ["silent", new Uint8Array(0)],
      ["mid-HELLO", helloBytes().subarray(0, 30)],
      ["mid-NOTIFY", concat([helloBytes(), notify.subarray(0, 9)])],
      ["mid-length", concat([helloBytes(), notify.subarray(0, 2)])],
      ["mid-fragmented NOTIFY", concat([fragmentingHello(), firstFragment])],
    ];
    // A well-behaved connection that idles meanwhile stays open (idleTimeout is 0).
    const idle = await RawPeer.connect(target);
    await idle.hello();
    const endings = await Promise.all(stalls.map(([, bytes]) => exchange(target, bytes, 5000)));
    endings.forEach((ending, i) => {
      const what = stalls[i][0];
      assertGoodbye(ending, Status.Timeout, what);
      assert.ok(ending.ms >= 250 && ending.ms < 2500, `${what}: closed after ${ending.ms} ms`);
    });
    idle.send(notify);
    assert.equal((await idle.next()).type, FrameType.Ack);
    idle.destroy();
    await until(() => agent.connectionCount === 0, "every connection to be released");
  } finally {
    await server.close();
  }
});

test(`${runtime}: a flood of connections past maxConnections is refused at once while the open ones keep answering`, async () => {
  const maxConnections = 10;
  const { agent, server, target, logger } = await serve({ maxConnections });
  agent.on("ping", (message, context) => context.setVar("txn", "n", message.get("n") as number));
  const open: RawPeer[] = [];
  try {
    for (let i = 0; i < maxConnections; i++) {
      const peer = await RawPeer.connect(target);
      await peer.hello();
      open.push(peer);
    }
    const flood = Array.from({ length: 300 }, () => exchange(target, helloBytes(), 5000));
    // While the flood lasts, every open connection answers, round after round.
    let streamId = 1;
    for (let round = 0; round < 5; round++) {
      for (const [i, peer] of open.entries()) {
        peer.send(notifyBytes(streamId, 1, [{
          name: "ping",
          args: [new NamedValue("n", DataType.Int32, i)],
        }]));
        const ack = await peer.next();
        assert.equal(ack.type, FrameType.Ack);
        assert.equal(ack.streamId, streamId);
        assert.deepEqual(varsOf(ack), { n: i });
      }
      streamId += 2;
      assert.equal(agent.connectionCount, maxConnections);
    }
    for (const ending of await Promise.all(flood)) {
      assert.equal(ending.received.length, 0, "a refused connection gets no AGENT-HELLO");
      assert.ok(ending.ms < 2500, `refused after ${ending.ms} ms`);
    }
    assert.equal(agent.connectionCount, maxConnections);
    assert.ok(logger.warnings.length > 0 && logger.warnings.every((w) => /maxConnections/.test(w)));
    // A slot freed is taken again.
    open.pop()!.destroy();
    await until(() => agent.connectionCount === maxConnections - 1, "the slot to be freed");
    await stillServes(target);
  } finally {
    for (const peer of open) peer.destroy();
    await server.close();
  }
});

test(`${runtime}: a peer that floods pipelined NOTIFYs and never reads makes the agent stop reading; memory stays flat`, async () => {
  const maxInFlight = 16;
  const { agent, server, target } = await serve({ maxInFlight });
  let calls = 0;
  const big = "b".repeat(8192);
  agent.on("flood", (_message, context) => {
    calls++;
    context.setVar("txn", "big", big);
  });
  const peer = await RawPeer.connect(target, { decode: false });
  try {
    await peer.hello();
    peer.socket.pause();
    const padding = new NamedValue("pad", DataType.Binary, new Uint8Array(1024));
    const batch = concat(
      Array.from(
        { length: 64 },
        (_, i) => notifyBytes(2 * i + 1, 1, [{ name: "flood", args: [padding] }]),
      ),
    );
    // The peer writes as fast as the socket takes its bytes, for 3 seconds, and never reads.
    let written = 0;
    let flooding = true;
    let drained: Promise<void> | undefined;
    const writer = (async () => {
      while (flooding) {
        written += batch.length;
        if (peer.socket.write(batch)) continue;
        drained ??= new Promise((resolve) =>
          peer.socket.once("drain", () => {
            drained = undefined;
            resolve();
          })
        );
        await Promise.race([drained, delay(50)]);
      }
    })();
    const samples: Array<{ calls: number; written: number; rss: number }> = [];
    for (let i = 0; i < 12; i++) {
      await delay(250);
      samples.push({ calls, written, rss: rssMib() });
    }
    flooding = false;
    await writer;
    const [settled, last] = [samples[3], samples[samples.length - 1]];
    const detail = JSON.stringify(
      samples.map((s) => [s.calls, s.written >> 20, Math.round(s.rss)]),
    );
    assert.equal(last.calls, settled.calls, `handler calls kept growing: ${detail}`);
    assert.ok(last.calls < 5000, `${last.calls} handler calls: ${detail}`);
    // What the peer managed to queue is bounded by the socket buffers, not by its patience.
    assert.ok(last.written - settled.written < 16 << 20, `the peer kept writing: ${detail}`);
    assert.ok(last.rss - settled.rss < 24, `RSS grew: ${detail}`);
    peer.destroy();
    await until(() => agent.connectionCount === 0, "the connection to be released");
  } finally {
    peer.destroy();
    await server.close();
  }
});

test(`${runtime}: handlers that never settle are cut at the deadline, and what they held is released`, async () => {
  const { agent, server, target, logger } = await serve({
    processingTimeout: 100,
    fallbackActions: [setVar("txn", "fallback", true)],
  });
  const held: Array<WeakRef<object>> = [];
  agent.on("hang", async (message, context) => {
    const buffer = new Uint8Array(1 << 20);
    held.push(new WeakRef(buffer), new WeakRef(context), new WeakRef(message));
    await new Promise(() => {});
    buffer[0] = message.size;
  });
  const peer = await RawPeer.connect(target);
  try {
    await peer.hello();
    const count = 20;
    const started = Date.now();
    peer.send(
      concat(
        Array.from(
          { length: count },
          (_, i) => notifyBytes(2 * i + 1, 1, [{ name: "hang", args: [] }]),
        ),
      ),
    );
    for (let i = 0; i < count; i++) {
      const ack = await peer.next();
      assert.equal(ack.type, FrameType.Ack);
      assert.deepEqual(varsOf(ack), { fallback: true });
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 90 && elapsed < 2000, `the fallback ACKs came after ${elapsed} ms`);
    assert.equal(held.length, 3 * count);
    // The connection stays open, and nothing of the abandoned handlers is kept.
    assert.ok(
      await collectUntil(() => held.every((ref) => ref.deref() === undefined)),
      `${held.filter((ref) => ref.deref() !== undefined).length} of ${held.length} still held`,
    );
    assert.equal(agent.connectionCount, 1);
    // The first deadline miss is written; the others are counted (logRepeatInterval).
    assert.ok(
      logger.warnings.some((w) => /deadline/.test(w)),
      logger.warnings.join("\n"),
    );
  } finally {
    peer.destroy();
    await server.close();
  }
});

// agent.listen(), and on Deno the Deno adapter (Deno.listen) too, whose accept() reports such a
// peer as an error of its own.
const listeners: Array<[string, ListenFunction | undefined]> = [["agent.listen()", undefined]];
if (runtime === "deno") {
  listeners.push(["the Deno adapter", (await import("../../src/adapters/deno.ts")).listen]);
}
for (const [how, listener] of listeners) {
  test(`${runtime}, ${how}: peers that reset the connection before it is accepted do not hold up accepting`, async () => {
    const { agent, server, target, logger } = await serve({}, {}, listener);
    agent.on("ping", () => {});
    // Keeps the agent's event loop busy, so that connections wait in the listen backlog.
    agent.on("block", () => {
      const until = Date.now() + 300;
      while (Date.now() < until) { /* busy */ }
    });
    const blocker = await RawPeer.connect(target);
    try {
      await blocker.hello();
      blocker.send(notifyBytes(1, 1, [{ name: "block", args: [] }]));
      await delay(50);
      // 100 peers connect and reset while the agent cannot accept: they are gone when it can.
      const resets = Array.from({ length: 100 }, () =>
        new Promise<void>((resolve) => {
          const socket = net.connect({ host: target.hostname, port: target.port });
          socket.on("error", () => {});
          socket.on("connect", () => socket.resetAndDestroy());
          socket.on("close", () => resolve());
        }));
      await Promise.all(resets);
      const started = Date.now();
      await stillServes(target);
      const waited = Date.now() - started;
      assert.ok(waited < 1000, `a well-behaved peer waited ${waited} ms to be served`);
      assert.deepEqual(logger.errors, []);
      blocker.destroy();
      await until(() => agent.connectionCount === 0, "every connection to be released");
    } finally {
      blocker.destroy();
      await server.close();
    }
  });
}
