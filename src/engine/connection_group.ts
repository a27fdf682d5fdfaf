/**
 * The connections one server accepted, and how they end: a graceful drain
 * bounded by the agent's `shutdownTimeout`.
 *
 * @module
 */

import { type ConnectionOwner, SpopConnection } from "./connection.ts";
import type { EventLog } from "./event_log.ts";
import type { EventHub } from "./events.ts";
import type { Logger } from "./logger.ts";
import type { HandlerRegistry } from "./notify_runner.ts";
import type { ResolvedOptions } from "./options.ts";
import type { ConnectionHandler, Transport, TransportSink } from "./transport.ts";

/** What a group needs from its agent. */
export interface GroupHost {
  /** The agent's options. */
  readonly options: ResolvedOptions;
  /** The handlers. */
  readonly registry: HandlerRegistry;
  /** The agent's observers, merged. */
  readonly events: EventHub;
  /** The agent's log. */
  readonly log: EventLog;
  /**
   * Takes one connection slot of the agent's `maxConnections`.
   *
   * @returns The new connection's number, or 0 when no slot is left.
   */
  reserve(): number;
  /** Gives a slot back. */
  unreserve(): void;
}

/** A set of connections that drain together. */
export class ConnectionGroup implements ConnectionHandler, ConnectionOwner {
  readonly options: ResolvedOptions;
  readonly registry: HandlerRegistry;
  readonly log: EventLog;
  #host: GroupHost;
  #connections = new Set<SpopConnection>();
  #idle: Array<() => void> = [];
  #drained: Promise<void> | undefined;

  /**
   * Creates an empty group.
   *
   * @param host The agent.
   */
  constructor(host: GroupHost) {
    this.#host = host;
    this.options = host.options;
    this.registry = host.registry;
    this.log = host.log;
  }

  /** The agent's observers, merged. */
  get events(): EventHub {
    return this.#host.events;
  }

  /** Where the group's server reports what happens to it. */
  get logger(): Logger {
    return this.options.logger;
  }

  /** The number of open connections. */
  get size(): number {
    return this.#connections.size;
  }

  /** The NOTIFYs received and not yet answered on the socket, over all connections. */
  get inFlight(): number {
    let count = 0;
    for (const connection of this.#connections) count += connection.inFlight;
    return count;
  }

  /**
   * Takes a new connection, unless the group drains or the agent is full.
   *
   * @param transport The socket.
   * @returns The sink to feed, or `undefined` (close the socket).
   */
  accept(transport: Transport): TransportSink | undefined {
    const id = this.#drained === undefined ? this.#host.reserve() : 0;
    if (id === 0) {
      const event = {
        peer: transport.remoteAddress,
        reason: this.#drained === undefined ? "max-connections" as const : "closing" as const,
      };
      this.log.connectionRefused(event);
      this.#host.events.emit.connectionRefused?.(event);
      return undefined;
    }
    const connection = new SpopConnection(this, transport, id);
    this.#connections.add(connection);
    this.#host.events.emit.connectionOpened?.({ connection: connection.facts });
    return connection;
  }

  /**
   * Forgets a closed connection (connections call this).
   *
   * @param connection The connection.
   */
  release(connection: SpopConnection): void {
    if (!this.#connections.delete(connection)) return;
    this.#host.unreserve();
    if (this.#connections.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /**
   * Drains every connection: each answers what is in flight, says
   * AGENT-DISCONNECT (status 0) once quiet, and closes; after
   * `shutdownTimeout`, what is left is answered with the fallback actions and
   * closed. Later connections are refused.
   *
   * @returns A promise that settles when every connection is closed.
   */
  drain(): Promise<void> {
    this.#drained ??= this.#drainAll();
    return this.#drained;
  }

  async #drainAll(): Promise<void> {
    if (this.#connections.size === 0) return;
    const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
    for (const connection of this.#connections) connection.drain();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.shutdownTimeout);
    });
    await Promise.race([idle, late]);
    clearTimeout(timer);
    // What is left closes now; each transport's close bounds a peer that stopped reading.
    for (const connection of [...this.#connections]) connection.shutdownNow();
    await idle;
  }
}
