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

export { Agent } from "./src/engine/agent.ts";
export type {
  DeclaredHandler,
  DeclaredMessage,
  MessageRef,
} from "./src/engine/declared_message.ts";
export type { AgentOptions, ResolvedOptions } from "./src/engine/options.ts";
export type {
  HandlerResult,
  MessageHandler,
  NotifyContext,
  NotifyHandler,
} from "./src/engine/context.ts";
export {
  consoleLogger,
  type ConsoleLoggerOptions,
  defaultLogger,
  jsonLogger,
  type JsonLoggerOptions,
  type LogFields,
  type Logger,
  type LogLevel,
  silentLogger,
} from "./src/engine/logger.ts";
export type {
  AgentObserver,
  CloseReason,
  ConnectionClosedEvent,
  ConnectionFacts,
  ConnectionOpenedEvent,
  ConnectionRefusedEvent,
  DisconnectEvent,
  FrameEvent,
  HandshakeEvent,
  NotifyEvent,
  NotifyOutcome,
  ProtocolErrorEvent,
} from "./src/engine/events.ts";
export { Message } from "./src/codec/message.ts";
export { NamedValue } from "./src/codec/kv_list.ts";
export {
  DataType,
  dataTypeName,
  type SpopValue,
  toTypedValue,
  TypedValue,
  Value,
  type ValueConstructors,
} from "./src/codec/typed_value.ts";
export {
  type IpAddress,
  Ipv4Address,
  Ipv6Address,
  parseIpAddress,
} from "./src/codec/ip_address.ts";
export {
  type Action,
  ActionType,
  MAX_VAR_NAME_LENGTH,
  type ScopeName,
  scopeName,
  setVar,
  type SetVarAction,
  unsetVar,
  type UnsetVarAction,
  VarScope,
} from "./src/codec/action.ts";
export {
  MalformedFrameError,
  PeerDisconnectError,
  SpopError,
  type SpopErrorOptions,
} from "./src/codec/errors.ts";
export { Status, statusMessage } from "./src/codec/status.ts";
export type {
  AgentServer,
  ListenOptions,
  ServerAddress,
  TlsOptions,
} from "./src/adapters/types.ts";
export {
  stopOnSignals,
  type StopOnSignalsOptions,
  type StopSignal,
} from "./src/adapters/signals.ts";
