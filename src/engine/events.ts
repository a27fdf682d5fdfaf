/**
 * What an agent tells its observers: a typed callback for each point an
 * operator cares about (connections, handshakes, NOTIFYs answered,
 * DISCONNECTs, protocol errors, frames). Metrics, traces and logs are built
 * on it; an event nobody observes costs one property check.
 *
 * @module
 */

import type { Message } from "../codec/message.ts";

/** The facts of one connection, as events report them. */
export interface ConnectionFacts {
  /** A number for the connection, unique within the agent (for logs and traces). */
  readonly id: number;
  /** The address of HAProxy's end (`host:port`, `[v6]:port` or `unix`). */
  readonly peer: string | undefined;
  /** HAProxy's engine-id, once the handshake is done (if HAProxy sent one). */
  readonly engineId: string | undefined;
}

/**
 * Why a connection ended:
 *
 * - `"healthcheck"`: a health check was answered;
 * - `"peer-disconnect"`: HAProxy sent HAPROXY-DISCONNECT;
 * - `"peer-closed"`: HAProxy closed the socket without a DISCONNECT (3.1+ does, often with a reset);
 * - `"protocol-error"`: the agent found a protocol error and said AGENT-DISCONNECT with its status;
 * - `"timeout"`: no HAPROXY-HELLO within `helloTimeout`, or idle past `idleTimeout`;
 * - `"shutdown"`: the agent drained the connection (server closing);
 * - `"socket-error"`: the socket failed.
 */
export type CloseReason =
  | "healthcheck"
  | "peer-disconnect"
  | "peer-closed"
  | "protocol-error"
  | "timeout"
  | "shutdown"
  | "socket-error";

/**
 * How a NOTIFY's answer was decided:
 *
 * - `"ok"`: its handlers finished; the ACK carries their actions;
 * - `"error"`: a handler threw or rejected, or its actions could not be encoded: fallback actions;
 * - `"deadline"`: `processingTimeout` passed: fallback actions;
 * - `"too-big"`: the ACK would exceed max-frame-size: fallback actions (or none);
 * - `"overload"`: `maxInFlight` handlers were running: fallback actions, no handler ran;
 * - `"shutdown"`: the agent's `shutdownTimeout` passed while draining: fallback actions.
 */
export type NotifyOutcome = "ok" | "error" | "deadline" | "too-big" | "overload" | "shutdown";

/** A connection was accepted. */
export interface ConnectionOpenedEvent {
  /** The connection. */
  readonly connection: ConnectionFacts;
}

/** A connection was refused: `maxConnections` reached, or its server is closing. */
export interface ConnectionRefusedEvent {
  /** The peer's address. */
  readonly peer: string | undefined;
  /** Why. */
  readonly reason: "max-connections" | "closing";
}

/** A connection ended. */
export interface ConnectionClosedEvent {
  /** The connection. */
  readonly connection: ConnectionFacts;
  /** Why. */
  readonly reason: CloseReason;
  /** The socket error, for `"socket-error"`. */
  readonly error?: unknown;
}

/** A handshake was answered. */
export interface HandshakeEvent {
  /** The connection. */
  readonly connection: ConnectionFacts;
  /** The protocol version: "2.0". */
  readonly version: string;
  /** The max-frame-size both sides respect. */
  readonly maxFrameSize: number;
  /** The capabilities the agent announced. */
  readonly capabilities: readonly string[];
  /** Whether it was a health check (the connection closes after it). */
  readonly healthcheck: boolean;
}

/** A NOTIFY was answered (its ACK is on its way). */
export interface NotifyEvent {
  /** The connection. */
  readonly connection: ConnectionFacts;
  /** The NOTIFY's stream-id. */
  readonly streamId: number;
  /** The NOTIFY's frame-id. */
  readonly frameId: number;
  /** The NOTIFY's messages. */
  readonly messages: readonly Message[];
  /** How the answer was decided. */
  readonly outcome: NotifyOutcome;
  /** Milliseconds from the NOTIFY's dispatch to its answer. */
  readonly durationMs: number;
  /** The handler's error, for outcome `"error"`. */
  readonly error?: unknown;
}

/** A DISCONNECT frame was sent or received. */
export interface DisconnectEvent {
  /** The connection. */
  readonly connection: ConnectionFacts;
  /** Who sent it: the agent (AGENT-DISCONNECT) or HAProxy (HAPROXY-DISCONNECT). */
  readonly side: "agent" | "haproxy";
  /** The status code (HAProxy's may be missing: then 99). */
  readonly status: number;
  /** The message, as sent. */
  readonly message: string;
}

/** The agent found a protocol error on a connection (an AGENT-DISCONNECT with its status follows). */
export interface ProtocolErrorEvent {
  /** The connection. */
  readonly connection: ConnectionFacts;
  /** The status code sent to HAProxy. */
  readonly status: number;
  /** What was wrong. */
  readonly message: string;
}

/** A frame was read or written. */
export interface FrameEvent {
  /** The connection. */
  readonly connection: ConnectionFacts;
  /** `"in"` from HAProxy, `"out"` to HAProxy. */
  readonly direction: "in" | "out";
  /** The frame type id (`FrameType`); unknown types as they came. */
  readonly type: number;
}

/**
 * Callbacks for what happens in an agent; implement the ones you need and pass
 * the object to `agent.observe()`. They run synchronously in the agent's path:
 * keep them short, and never throw (a throw is caught and dropped).
 *
 * @example Count answers by outcome
 * ```ts
 * import { Agent, type AgentObserver } from "@spoa/agent";
 * const outcomes = new Map<string, number>();
 * const observer: AgentObserver = {
 *   notify: (event) => outcomes.set(event.outcome, (outcomes.get(event.outcome) ?? 0) + 1),
 * };
 * const stop = new Agent().observe(observer);
 * stop();
 * ```
 */
export interface AgentObserver {
  /** A connection was accepted. */
  connectionOpened?(event: ConnectionOpenedEvent): void;
  /** A connection was refused. */
  connectionRefused?(event: ConnectionRefusedEvent): void;
  /** A connection ended. */
  connectionClosed?(event: ConnectionClosedEvent): void;
  /** A handshake (or health check) was answered. */
  handshake?(event: HandshakeEvent): void;
  /** A NOTIFY was answered. */
  notify?(event: NotifyEvent): void;
  /** A DISCONNECT was sent or received. */
  disconnect?(event: DisconnectEvent): void;
  /** A protocol error was found. */
  protocolError?(event: ProtocolErrorEvent): void;
  /** A frame was read or written (one call per frame: the most frequent event). */
  frame?(event: FrameEvent): void;
}

/** The event names of {@linkcode AgentObserver}. */
const EVENT_NAMES = [
  "connectionOpened",
  "connectionRefused",
  "connectionClosed",
  "handshake",
  "notify",
  "disconnect",
  "protocolError",
  "frame",
] as const;

type EventName = typeof EVENT_NAMES[number];

/**
 * The observers of one agent, merged: each event is a single function, or
 * `undefined` when nobody listens (the engine checks before building the event).
 */
export class EventHub {
  /** What the engine calls; rebuilt whenever an observer comes or goes. */
  emit: AgentObserver;
  #observers: AgentObserver[] = [];

  /** Creates a hub with no observer: every event is `undefined`. */
  constructor() {
    this.emit = this.#build();
  }

  /**
   * Adds an observer.
   *
   * @param observer The callbacks.
   * @returns A function that removes it.
   */
  add(observer: AgentObserver): () => void {
    this.#observers.push(observer);
    this.#rebuild();
    return () => {
      const index = this.#observers.indexOf(observer);
      if (index < 0) return;
      this.#observers.splice(index, 1);
      this.#rebuild();
    };
  }

  #rebuild(): void {
    this.emit = this.#build();
  }

  /** One object with every event name, always in the same order (one shape for the engine). */
  #build(): AgentObserver {
    const emit: Record<string, ((event: unknown) => void) | undefined> = {};
    for (const name of EVENT_NAMES) emit[name] = combine(this.#observers, name);
    return emit as AgentObserver;
  }
}

function combine(
  observers: readonly AgentObserver[],
  name: EventName,
): ((event: unknown) => void) | undefined {
  const callbacks: Array<(event: unknown) => void> = [];
  for (const observer of observers) {
    const callback = observer[name] as ((event: unknown) => void) | undefined;
    if (typeof callback === "function") callbacks.push(callback.bind(observer));
  }
  if (callbacks.length === 0) return undefined;
  // An observer must not break the agent: what it throws is dropped.
  if (callbacks.length === 1) {
    const only = callbacks[0];
    return (event) => {
      try {
        only(event);
      } catch {
        // Dropped: see AgentObserver.
      }
    };
  }
  return (event) => {
    for (const callback of callbacks) {
      try {
        callback(event);
      } catch {
        // Dropped: see AgentObserver.
      }
    }
  };
}
