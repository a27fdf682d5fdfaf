/**
 * Declare SPOE messages once, in TypeScript, and generate from them the SPOE
 * file and the haproxy.cfg parts for HAProxy 2.6, 3.0 or 3.1+, checked
 * against the agent's handlers.
 *
 * @example Declare, register, generate
 * ```ts
 * import { Agent, Ipv4Address } from "@spoa/agent";
 * import { defineEngine, defineMessage, generateConfig } from "@spoa/agent/config";
 *
 * const getIpReputation = defineMessage({
 *   name: "get-ip-reputation",
 *   args: { ip: "src" },
 *   event: "on-client-session",
 * });
 * const engine = defineEngine({
 *   name: "iprep",
 *   messages: [getIpReputation],
 *   variables: [{ scope: "sess", name: "ip_score", type: "int" }],
 * });
 * const agent = new Agent().on(getIpReputation, (message, context) => {
 *   const ip = message.get("ip"); // message.get("addr") would not compile
 *   context.setVar("sess", "ip_score", ip instanceof Ipv4Address ? ip.bytes[3] % 101 : 50);
 * });
 * const { spoe, filter, backend } = generateConfig(engine, { haproxy: "3.2", agent });
 * console.log(spoe, filter, backend);
 * ```
 *
 * @module
 */

export * from "./spoe_event.ts";
export * from "./haproxy_version.ts";
export * from "./define_message.ts";
export * from "./define_engine.ts";
export type { DeclaredHandler, DeclaredMessage, MessageRef } from "../engine/declared_message.ts";
export {
  type AgentAddress,
  type AgentLike,
  type ConfigOptions,
  haproxyProcessingTimeout,
} from "./config_options.ts";
export { type Finding, FindingCode } from "./finding.ts";
export { assertConfig, checkConfig, type CheckOptions, SpoeConfigError } from "./check_config.ts";
export {
  generateConfig,
  type GeneratedConfig,
  type GenerateOptions,
  type TrialFrontend,
  type TrialResponse,
} from "./generate_config.ts";
