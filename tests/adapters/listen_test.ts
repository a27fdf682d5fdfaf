// agent.listen() over real sockets, with the adapter of the runtime running the tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { platform, versions } from "node:process";
import { Agent, silentLogger } from "../../mod.ts";
import { runtimeName as detectRuntime } from "../_runtime.ts";
import { adapterSuite } from "./_suite.ts";

const runtime = detectRuntime();

// Node's server.listen() honours reusePort from 22.12 and 23.1 on, and ignores it before.
const [major, minor] = versions.node.split(".").map(Number);
const reusePortOnNode = major > 23 || (major === 23 && minor >= 1) ||
  (major === 22 && minor >= 12);

// SO_REUSEPORT spreads connections between sockets on Linux only (elsewhere the last one bound
// gets them all).
adapterSuite(`agent.listen() on ${runtime}`, (agent, options) => agent.listen(options), {
  reusePort: platform === "linux" && (runtime !== "node" || reusePortOnNode),
});

if (runtime === "node" && !reusePortOnNode) {
  test(`agent.listen() on Node ${versions.node} rejects reusePort with a clear error`, async () => {
    await assert.rejects(
      new Agent({ logger: silentLogger }).listen({ port: 0, reusePort: true }),
      /Cannot listen with reusePort: it needs Node 22\.12 or later, this is /,
    );
  });
}
