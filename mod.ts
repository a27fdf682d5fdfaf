/**
 * @spoa/agent: write HAProxy SPOA agents (SPOP 2.0) in TypeScript, on Deno,
 * Bun or Node, with no dependencies.
 *
 * Register a handler per SPOE message, then listen; each handler reads the
 * message's arguments and sets HAProxy variables through its context.
 *
 * @example An IP reputation agent
 * ```ts ignore
 * import { Agent } from "@spoa/agent";
 *
 * const agent = new Agent();
 * agent.on("get-ip-reputation", (message, context) => {
 *   const ip = message.get("ip");
 *   context.setVar("sess", "ip_score", String(ip).startsWith("10.") ? 100 : 20);
 * });
 * const server = await agent.listen({ port: 12345 });
 * ```
 *
 * @module
 */

export * from "./src/codec/mod.ts";
export * from "./src/reader/frame_reader.ts";
export { Agent } from "./src/engine/agent.ts";
export type {
  ConnectionInfo,
  HandlerResult,
  MessageHandler,
  NotifyHandler,
} from "./src/engine/context.ts";
export { NotifyContext } from "./src/engine/context.ts";
export { type ConnectionOwner, SpopConnection } from "./src/engine/connection.ts";
export { type HelloResult, negotiateHello, SPOP_VERSION } from "./src/engine/hello.ts";
export { defaultLogger, type Logger, silentLogger } from "./src/engine/logger.ts";
export type { AgentOptions, ResolvedOptions } from "./src/engine/options.ts";
export type { Transport, TransportSink } from "./src/engine/transport.ts";
export { detectRuntime, type RuntimeName } from "./src/adapters/listen.ts";
export type {
  AgentServer,
  ListenOptions,
  ServerAddress,
  TlsOptions,
} from "./src/adapters/types.ts";
