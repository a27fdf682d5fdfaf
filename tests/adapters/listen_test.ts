// agent.listen() over real sockets, with the adapter of the runtime running the tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { platform } from "node:process";
import { detectRuntime } from "../../mod.ts";
import { adapterSuite } from "./_suite.ts";

const runtime = detectRuntime();

test("detectRuntime() names the runtime running the tests", () => {
  const global = globalThis as { Deno?: unknown; Bun?: unknown };
  const expected = global.Deno !== undefined ? "deno" : global.Bun !== undefined ? "bun" : "node";
  assert.equal(runtime, expected);
});

// SO_REUSEPORT spreads connections between sockets on Linux only (elsewhere the last one bound
// gets them all).
adapterSuite(`agent.listen() on ${runtime}`, (agent, options) => agent.listen(options), {
  reusePort: platform === "linux",
});
