/**
 * The agent: handlers by message name, options, and the connections it
 * serves. Adapters hand it sockets through {@linkcode Agent.connect}.
 *
 * @module
 */

import type { MessageHandler, NotifyHandler } from "./context.ts";
import type { DeclaredHandler, MessageRef } from "../config/declared_message.ts";
import { type ConnectionOwner, SpopConnection } from "./connection.ts";
import { type AgentOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import type { Transport, TransportSink } from "./transport.ts";
import type { AgentServer, ListenOptions } from "../adapters/types.ts";

/** How long `drain()` waits, after the shutdown timeout, for sockets whose writes are stuck. */
const TERMINATE_GRACE_MS = 1000;

/**
 * An SPOA agent. Register a handler per SPOE message name, then listen.
 *
 * @example A complete agent
 * ```ts ignore
 * import { Agent } from "@spoa/agent";
 *
 * const agent = new Agent({ processingTimeout: 500 });
 * agent.on("get-ip-reputation", (message, context) => {
 *   const ip = String(message.get("ip"));
 *   context.setVar("sess", "ip_score", ip.endsWith(".1") ? 100 : 50);
 * });
 * const server = await agent.listen({ hostname: "127.0.0.1", port: 12345 });
 * console.log("listening on", server.address);
 * ```
 */
export class Agent implements ConnectionOwner {
  /** The options in force, defaults filled in. */
  readonly options: ResolvedOptions;
  /** The message handlers by message name. */
  readonly handlers: Map<string, MessageHandler> = new Map();
  /** The whole-NOTIFY handler, if any. */
  notifyHandler: NotifyHandler | undefined;
  #connections = new Set<SpopConnection>();
  #idle: Array<() => void> = [];

  /**
   * Creates an agent.
   *
   * @param options Limits, timeouts, fallback actions and logger; see {@linkcode AgentOptions}.
   * @throws {RangeError} For an out-of-range option.
   */
  constructor(options: AgentOptions = {}) {
    this.options = resolveOptions(options);
  }

  /**
   * Registers the handler of one SPOE message (`spoe-message NAME`). Messages
   * with no handler are acknowledged without actions.
   *
   * @param messageName The message name.
   * @param handler Sync or async; adds actions through its context, or returns them.
   * @returns The agent, for chaining.
   */
  on(messageName: string, handler: MessageHandler): this;
  /**
   * Registers the handler of a declared message (`defineMessage()` of
   * `@spoa/agent/config`); the handler's message is typed by its argument names.
   *
   * @param message The declaration.
   * @param handler Sync or async; adds actions through its context, or returns them.
   * @returns The agent, for chaining.
   */
  on<Arg extends string>(message: MessageRef<Arg>, handler: DeclaredHandler<Arg>): this;
  on(message: string | MessageRef, handler: MessageHandler): this {
    this.handlers.set(typeof message === "string" ? message : message.name, handler);
    return this;
  }

  /**
   * Registers a handler that gets all the messages of each NOTIFY at once. It
   * runs after the per-message handlers, with the same context.
   *
   * @param handler Sync or async.
   * @returns The agent, for chaining.
   */
  onNotify(handler: NotifyHandler): this {
    this.notifyHandler = handler;
    return this;
  }

  /** The number of connections being served. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Takes a new connection (adapters call this).
   *
   * @param transport The socket.
   * @returns The sink to feed, or `undefined` when `maxConnections` is reached
   *   (the adapter then closes the socket).
   */
  connect(transport: Transport): TransportSink | undefined {
    if (this.#connections.size >= this.options.maxConnections) {
      this.options.logger.warn(
        `SPOA: refused a connection from ${transport.remoteAddress}: ` +
          `maxConnections ${this.options.maxConnections} reached`,
      );
      return undefined;
    }
    const connection = new SpopConnection(this, transport);
    this.#connections.add(connection);
    return connection;
  }

  /**
   * Forgets a closed connection (connections call this).
   *
   * @param connection The connection.
   */
  release(connection: SpopConnection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /**
   * Closes every connection gracefully: each keeps answering until nothing
   * is in flight, then sends AGENT-DISCONNECT (status 0) and closes. After
   * `shutdownTimeout` ms, what is left is answered with the fallback actions
   * and closed. Stop accepting connections first (the server's `close()`
   * does both).
   *
   * @returns A promise that settles when every connection is closed.
   */
  async drain(): Promise<void> {
    if (this.#connections.size === 0) return;
    const idle = new Promise<void>((resolve) => this.#idle.push(resolve));
    for (const connection of this.#connections) connection.drain();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        for (const connection of this.#connections) connection.shutdownNow();
        resolve();
      }, this.options.shutdownTimeout);
    });
    await Promise.race([idle, deadline]);
    clearTimeout(timer);
    // A peer that stopped reading keeps its last writes pending: drop it after a grace period.
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(() => {
        for (const connection of [...this.#connections]) connection.terminate();
        resolve();
      }, TERMINATE_GRACE_MS);
    });
    await Promise.race([idle, grace]);
    clearTimeout(graceTimer);
  }

  /**
   * Listens for HAProxy on TCP, a Unix socket, or TLS, with the adapter of the
   * runtime this code runs on (Deno, Bun or Node), loaded on first use.
   *
   * @param options Where to listen; see {@linkcode ListenOptions}.
   * @returns The running server.
   */
  async listen(options: ListenOptions = {}): Promise<AgentServer> {
    const { listen } = await import("../adapters/listen.ts");
    return listen(this, options);
  }
}
