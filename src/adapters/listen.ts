/**
 * Picks the adapter for the runtime this code runs on, loading only that one:
 * `Bun.listen` on Bun, `node:net` on Node, and `node:net` on Deno too.
 *
 * On Deno, `Deno.listen` (the Deno adapter, `@spoa/agent/deno`) keeps an
 * asynchronous read and write under way per connection, and what they hold is
 * alive at every young-generation collection: V8 then grows the young
 * generation with the number of busy connections (about 1.2 KB per connection
 * survives each collection). Deno's `node:net` does not: measured side by side
 * (BENCHMARKS.md), RSS after 10 s of 32 connections × 16 in flight grew by
 * 17 MiB instead of 73, with about the same throughput and less CPU per
 * message at a set rate.
 *
 * @module
 */

import type { ConnectionService } from "../engine/transport.ts";
import type { AgentServer, ListenOptions } from "./types.ts";

/** The runtimes with an adapter. */
export type RuntimeName = "deno" | "bun" | "node";

/**
 * Tells which runtime this is.
 *
 * @returns `"deno"`, `"bun"` or `"node"`.
 * @throws {Error} On any other runtime.
 *
 * @example
 * ```ts
 * import { detectRuntime } from "./listen.ts";
 * console.log(detectRuntime());
 * ```
 */
export function detectRuntime(): RuntimeName {
  const global = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    process?: { versions?: { node?: string } };
  };
  if (global.Deno !== undefined) return "deno";
  if (global.Bun !== undefined) return "bun";
  if (global.process?.versions?.node !== undefined) return "node";
  throw new Error("Unknown runtime: @spoa/agent runs on Deno, Bun and Node");
}

/**
 * Listens with the adapter for the current runtime (on Deno, the Node adapter
 * through Deno's `node:net`; see the module documentation).
 *
 * @param agent The agent.
 * @param options Where to listen.
 * @returns The running server.
 */
export async function listen(
  agent: ConnectionService,
  options: ListenOptions,
): Promise<AgentServer> {
  switch (detectRuntime()) {
    case "bun":
      return (await import("./bun.ts")).listen(agent, options);
    case "deno":
    case "node":
      return (await import("./node.ts")).listen(agent, options);
  }
}
