/**
 * The Bun adapter: `Bun.listen` (TCP, Unix, TLS) feeding the engine. Bun's
 * `write()` may take part of the bytes; the rest waits for the `drain` event.
 * Only the members of Bun's API used here are typed, structurally.
 *
 * @module
 */

import type {
  ConnectionHandler,
  ConnectionService,
  Transport,
  TransportSink,
} from "../engine/transport.ts";
import { serverHandle, tcpTarget } from "./_server.ts";
import {
  CLOSE_GRACE_MS,
  formatPeer,
  removeStaleSocket,
  runtimeTls,
  unrefTimer,
  viewOf,
} from "./_socket.ts";
import type { AgentServer, ListenOptions, ServerAddress } from "./types.ts";

interface BunSocket {
  data: Connection | undefined;
  remoteAddress: string | undefined;
  remotePort?: number;
  write(bytes: Uint8Array): number;
  end(): void;
  shutdown?(halfClose?: boolean): void;
  terminate?(): void;
  pause?(): void;
  resume?(): void;
  setNoDelay?(noDelay: boolean): boolean;
}

interface BunListener {
  hostname?: string;
  port?: number;
  stop(closeActiveConnections?: boolean): void;
}

interface BunRuntime {
  listen(options: Record<string, unknown>): BunListener;
}

interface Connection {
  sink: TransportSink;
  /** Bytes the socket has not taken yet, in order. */
  pending: Uint8Array[];
  /** Settles the promise write() returned, once `pending` is out (or the socket closed). */
  drained: (() => void) | undefined;
  waiting: Promise<void> | undefined;
  error: unknown;
  closing: boolean;
  closeTimer: ReturnType<typeof setTimeout> | undefined;
}

function bunRuntime(): BunRuntime {
  const bun = (globalThis as { Bun?: BunRuntime }).Bun;
  if (bun === undefined) throw new Error("The Bun adapter needs the Bun runtime");
  return bun;
}

/** Writes queued bytes; true when all are out. */
function flush(socket: BunSocket, connection: Connection): boolean {
  const pending = connection.pending;
  while (pending.length > 0) {
    const bytes = pending[0];
    const written = socket.write(bytes);
    if (written >= bytes.length) {
      pending.shift();
      continue;
    }
    if (written > 0) pending[0] = bytes.subarray(written);
    return false;
  }
  return true;
}

function settleWrites(connection: Connection): void {
  const resolve = connection.drained;
  connection.drained = undefined;
  connection.waiting = undefined;
  resolve?.();
}

/** Sends FIN once everything queued is out; reading goes on until the peer closes. */
function halfClose(socket: BunSocket): void {
  if (socket.shutdown) socket.shutdown();
  else socket.end();
}

function open(handler: ConnectionHandler, socket: BunSocket): void {
  socket.setNoDelay?.(true);
  const connection = {
    pending: [],
    drained: undefined,
    error: undefined,
    closing: false,
    closeTimer: undefined,
  } as unknown as Connection;
  const transport: Transport = {
    // As the other adapters: host:port, or "unix" (Bun gives no address for Unix peers).
    remoteAddress: formatPeer(socket.remoteAddress, socket.remotePort),
    write(bytes) {
      connection.pending.push(bytes);
      if (connection.pending.length === 1 && flush(socket, connection)) return undefined;
      // Every write made before the drain shares one promise.
      connection.waiting ??= new Promise<void>((resolve) => connection.drained = resolve);
      return connection.waiting;
    },
    close() {
      if (connection.closing) return;
      connection.closing = true;
      // Send what is queued, then FIN (after the last drain if some is still queued), and read
      // on (discarding) until the peer closes its side; a peer that does not is dropped after a
      // grace period.
      socket.resume?.();
      if (connection.pending.length === 0) halfClose(socket);
      connection.closeTimer = unrefTimer(() => {
        if (socket.terminate) socket.terminate();
        else socket.end();
      }, CLOSE_GRACE_MS);
    },
    pause: () => {
      if (!connection.closing) socket.pause?.();
    },
    resume: () => socket.resume?.(),
  };
  const sink = handler.accept(transport);
  if (sink === undefined) {
    socket.end();
    return;
  }
  connection.sink = sink;
  socket.data = connection;
}

/**
 * Listens with `Bun.listen` and serves `agent`.
 *
 * @param agent The agent (any {@linkcode ConnectionService}).
 * @param options Where to listen.
 * @returns The running server.
 * @throws {Error} (as a rejection) If the address cannot be bound.
 *
 * @example
 * ```ts ignore
 * import { Agent } from "@spoa/agent";
 * import { listen } from "@spoa/agent/bun";
 * const server = await listen(new Agent(), { port: 12345 });
 * ```
 */
export function listen(
  agent: ConnectionService,
  options: ListenOptions = {},
): Promise<AgentServer> {
  try {
    return Promise.resolve(listenNow(agent, options));
  } catch (error) {
    // Bun.listen throws at once (EADDRINUSE...): report it as the rejection the type promises.
    return Promise.reject(error);
  }
}

function listenNow(agent: ConnectionService, options: ListenOptions): AgentServer {
  const bun = bunRuntime();
  const handler = agent.connectionHandler();
  const handlers = {
    open: (socket: BunSocket) => open(handler, socket),
    data: (socket: BunSocket, chunk: Uint8Array) => {
      socket.data?.sink.receive(viewOf(chunk));
    },
    drain: (socket: BunSocket) => {
      const connection = socket.data;
      if (connection === undefined || !flush(socket, connection)) return;
      settleWrites(connection);
      if (connection.closing) halfClose(socket);
    },
    error: (socket: BunSocket, error: unknown) => {
      if (socket.data) socket.data.error = error;
    },
    close: (socket: BunSocket, error?: unknown) => {
      const connection = socket.data;
      if (connection === undefined) return;
      socket.data = undefined;
      clearTimeout(connection.closeTimer);
      connection.pending = [];
      settleWrites(connection);
      connection.sink.closed(error ?? connection.error);
    },
  };
  let listener: BunListener;
  let address: ServerAddress;
  if (options.path !== undefined) {
    removeStaleSocket(options.path);
    const tls = options.tls && runtimeTls(options.tls);
    listener = bun.listen({ unix: options.path, tls, socket: handlers });
    address = { transport: "unix", path: options.path };
  } else {
    const { hostname, port } = tcpTarget(options);
    listener = bun.listen({
      hostname,
      port,
      reusePort: options.reusePort,
      tls: options.tls && runtimeTls(options.tls),
      socket: handlers,
    });
    address = {
      transport: "tcp",
      hostname: listener.hostname ?? hostname,
      port: listener.port ?? port,
    };
  }
  handler.logger.info("SPOA: listening", { address });
  return serverHandle(handler, address, () => listener.stop(false));
}
