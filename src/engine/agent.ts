/**
 * The agent: handlers by message name, options, and the connections it
 * serves, in one group per listening server.
 *
 * @module
 */

import type { MessageHandler, NotifyHandler } from "./context.ts";
import { ConnectionGroup } from "./connection_group.ts";
import type { DeclaredHandler, MessageRef } from "./declared_message.ts";
import { EventLog } from "./event_log.ts";
import { type AgentObserver, EventHub } from "./events.ts";
import type { HandlerRegistry } from "./notify_runner.ts";
import { type AgentOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import type {
  ConnectionHandler,
  ConnectionService,
  Transport,
  TransportSink,
} from "./transport.ts";
import type { AgentServer, ListenOptions } from "../adapters/types.ts";

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
export class Agent implements ConnectionService {
  /** The options in force, defaults filled in. */
  readonly options: ResolvedOptions;
  #handlers = new Map<string, MessageHandler>();
  #groups = new Set<ConnectionGroup>();
  #direct: ConnectionGroup | undefined;
  #connectionCount = 0;
  #lastConnectionId = 0;
  #hub = new EventHub();
  #registry: HandlerRegistry = { handlers: this.#handlers, notifyHandler: undefined };
  #host = {
    options: undefined as unknown as ResolvedOptions,
    registry: this.#registry,
    log: undefined as unknown as EventLog,
    events: undefined as unknown as EventHub,
    reserve: () => {
      if (this.#connectionCount >= this.options.maxConnections) return 0;
      this.#connectionCount++;
      return ++this.#lastConnectionId;
    },
    unreserve: () => {
      this.#connectionCount--;
    },
  };

  /**
   * Creates an agent.
   *
   * @param options Limits, timeouts, fallback actions and logger; see {@linkcode AgentOptions}.
   * @throws {RangeError} For an out-of-range option.
   */
  constructor(options: AgentOptions = {}) {
    this.options = this.#host.options = resolveOptions(options);
    this.#host.log = new EventLog(this.options.logger, this.options);
    this.#host.events = this.#hub;
  }

  /**
   * Adds an observer: its callbacks run at each event an operator cares about
   * (connections, handshakes, NOTIFYs answered, DISCONNECTs, protocol errors,
   * frames). An event nobody observes costs nothing.
   *
   * @param observer The callbacks; see {@linkcode AgentObserver}.
   * @returns A function that removes the observer.
   */
  observe(observer: AgentObserver): () => void {
    return this.#hub.add(observer);
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
    this.#handlers.set(typeof message === "string" ? message : message.name, handler);
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
    this.#registry.notifyHandler = handler;
    return this;
  }

  /** The message names with a handler, in registration order. */
  get messageNames(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Whether a whole-NOTIFY handler is registered ({@linkcode Agent.onNotify}). */
  get hasNotifyHandler(): boolean {
    return this.#registry.notifyHandler !== undefined;
  }

  /** The number of connections being served, over all servers. */
  get connectionCount(): number {
    return this.#connectionCount;
  }

  /** The NOTIFYs received and not yet answered on the socket, over all connections. */
  get inFlight(): number {
    let count = 0;
    for (const group of this.#groups) count += group.inFlight;
    return count;
  }

  /**
   * Opens a connection handler for one server (adapters call this): draining
   * it drains only the connections it accepted.
   *
   * @returns The handler.
   */
  connectionHandler(): ConnectionHandler {
    const group = new ConnectionGroup(this.#host);
    this.#groups.add(group);
    return group;
  }

  /**
   * Takes a connection from a transport of your own (see
   * `@spoa/agent/transport`), outside any server.
   *
   * @param transport The socket.
   * @returns The sink to feed, or `undefined` when `maxConnections` is reached
   *   or once the agent drains: close the socket.
   */
  accept(transport: Transport): TransportSink | undefined {
    if (this.#direct === undefined) {
      this.#groups.add(this.#direct = new ConnectionGroup(this.#host));
    }
    return this.#direct.accept(transport);
  }

  /**
   * Closes every connection of every server gracefully: each keeps answering
   * until nothing is in flight, then sends AGENT-DISCONNECT (status 0) and
   * closes. After `shutdownTimeout` ms, what is left is answered with the
   * fallback actions and closed. Stop accepting connections first (a server's
   * `close()` does both, for its own connections).
   *
   * @returns A promise that settles when every connection is closed.
   */
  async drain(): Promise<void> {
    // The agent's own group drains too, and refuses the connections accept() is given later.
    if (this.#direct === undefined) {
      this.#groups.add(this.#direct = new ConnectionGroup(this.#host));
    }
    const groups = [...this.#groups];
    await Promise.all(groups.map((group) => group.drain()));
    for (const group of groups) this.#groups.delete(group);
    this.#host.log.flush();
  }

  /**
   * Listens for HAProxy on TCP, a Unix socket, or TLS, loading on first use the
   * adapter for the runtime this code runs on: `Bun.listen` on Bun, `node:net`
   * on Node and on Deno (see the README's "Runtimes" for why not `Deno.listen`).
   *
   * @param options Where to listen; see {@linkcode ListenOptions}.
   * @returns The running server.
   */
  async listen(options: ListenOptions = {}): Promise<AgentServer> {
    const { listen } = await import("../adapters/listen.ts");
    return listen(this, options);
  }
}
