// The Agent itself: its registry of handlers, and the connection handlers it gives out (one per
// server, each drained with the agent) and its own, for transports of the caller's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Status } from "../../src/codec/status.ts";
import { Agent } from "../../src/engine/agent.ts";
import {
  assertDisconnect,
  haproxyHello,
  RecordingLogger,
  TestTransport,
  within,
} from "./_helpers.ts";

const HELLO = haproxyHello();

test("Agent lists its message names in order, declared messages by their name", () => {
  const agent = new Agent();
  assert.deepEqual(agent.messageNames, []);
  assert.equal(agent.hasNotifyHandler, false);
  agent.on("first", () => {}).on({ name: "declared" } as never, () => {}).onNotify(() => {});
  assert.deepEqual(agent.messageNames, ["first", "declared"]);
  assert.equal(agent.hasNotifyHandler, true);
});

test("Agent.drain() drains the connections of every handler it gave out, which refuse new ones", async () => {
  const logger = new RecordingLogger();
  const agent = new Agent({ logger });
  const handler = agent.connectionHandler();
  assert.equal(handler.logger, logger);
  const socket = new TestTransport();
  const sink = handler.accept(socket);
  assert.ok(sink !== undefined);
  sink.receive(HELLO);
  const direct = agent.accept(new TestTransport());
  assert.ok(direct !== undefined);
  const draining = agent.drain();
  await within(
    (async () => {
      while (socket.closes === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    2000,
    "the drained connection to close",
  );
  const frames = socket.frames();
  assertDisconnect(frames.at(-1)!, Status.Normal);
  sink.closed();
  direct.closed();
  await within(draining, 1000, "drain() to settle");
  assert.equal(
    handler.accept(new TestTransport()),
    undefined,
    "a drained handler refuses connections",
  );
  assert.equal(
    agent.accept(new TestTransport()),
    undefined,
    "so does the agent's own, once drained",
  );
  assert.ok(
    logger.at("debug").some((line) =>
      /refused a connection: its server is closing/.test(line.message) &&
      line.fields?.peer === "198.51.100.1:4000"
    ),
  );
});

test("a connection handler with no connection drains at once", async () => {
  const agent = new Agent();
  const handler = agent.connectionHandler();
  await within(handler.drain(), 100, "an empty handler's drain()");
  await within(agent.drain(), 100, "the agent's drain()");
});

test("drain() waits for every connection, not the first one to close", async () => {
  const agent = new Agent({ shutdownTimeout: 5000 });
  const sockets = [new TestTransport(), new TestTransport()];
  const sinks = sockets.map((socket) => agent.accept(socket)!);
  for (const sink of sinks) sink.receive(HELLO);
  let settled = false;
  const draining = agent.drain().then(() => settled = true);
  sinks[0].closed();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(settled, false, "one connection is still open");
  sinks[1].closed();
  await within(draining, 1000, "drain() once both are closed");
});
