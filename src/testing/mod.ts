/**
 * Testing helpers: {@linkcode HaproxySimulator} plays HAProxy against an
 * agent, in memory or over a socket.
 *
 * @example
 * ```ts
 * import { Agent } from "@spoa/agent";
 * import { HaproxySimulator } from "@spoa/agent/testing";
 * const agent = new Agent().on("ping", (_message, context) => context.setVar("txn", "pong", true));
 * const haproxy = HaproxySimulator.connect(agent);
 * await haproxy.hello();
 * console.log((await haproxy.notify([{ name: "ping" }])).vars); // { "txn.pong": true }
 * haproxy.close();
 * ```
 *
 * @module
 */

export * from "./simulator.ts";
export * from "./pipe.ts";
