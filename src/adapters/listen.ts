/**
 * Picks the adapter of the runtime this code runs on, loading only that one.
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
 * Listens with the adapter of the current runtime.
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
    case "deno":
      return (await import("./deno.ts")).listen(agent, options);
    case "bun":
      return (await import("./bun.ts")).listen(agent, options);
    case "node":
      return (await import("./node.ts")).listen(agent, options);
  }
}
