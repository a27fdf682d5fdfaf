/**
 * The Bun adapter: `Bun.listen` (TCP, Unix, TLS) feeding the engine. Bun's
 * `write()` may take part of the bytes; the rest waits for the `drain` event.
 * Only the members of Bun's API used here are typed, structurally.
 *
 * @module
 */

import type { Agent } from "../engine/agent.ts";
import type { Transport, TransportSink } from "../engine/transport.ts";
import { formatPeer, serverHandle, tcpTarget } from "./_server.ts";
import type { AgentServer, ListenOptions, ServerAddress } from "./types.ts";

interface BunSocket {
  data: Connection | undefined;
  remoteAddress: string | undefined;
  remotePort?: number;
  write(bytes: Uint8Array): number;
  end(): void;
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

/**
 * How long close() waits for queued bytes to go out and the socket to close
 * before it drops it (a peer that stopped reading), as the Node adapter does.
 */
const CLOSE_GRACE_MS = 2000;

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

function open(agent: Agent, socket: BunSocket): void {
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
      if (connection.pending.length === 0) socket.end();
      const timer = setTimeout(() => {
        if (socket.terminate) socket.terminate();
        else socket.end();
      }, CLOSE_GRACE_MS);
      (timer as unknown as { unref?(): void }).unref?.();
      connection.closeTimer = timer;
    },
    pause: () => socket.pause?.(),
    resume: () => socket.resume?.(),
  };
  const sink = agent.connect(transport);
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
 * @param agent The agent.
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
export function listen(agent: Agent, options: ListenOptions = {}): Promise<AgentServer> {
  try {
    return Promise.resolve(listenNow(agent, options));
  } catch (error) {
    // Bun.listen throws at once (EADDRINUSE...): report it as the rejection the type promises.
    return Promise.reject(error);
  }
}

function listenNow(agent: Agent, options: ListenOptions): AgentServer {
  const bun = bunRuntime();
  const handlers = {
    open: (socket: BunSocket) => open(agent, socket),
    data: (socket: BunSocket, chunk: Uint8Array) => {
      socket.data?.sink.receive(
        new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
    },
    drain: (socket: BunSocket) => {
      const connection = socket.data;
      if (connection === undefined || !flush(socket, connection)) return;
      settleWrites(connection);
      if (connection.closing) socket.end();
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
    try {
      // Replace a stale socket file, as the other adapters do.
      const fs = (globalThis as { process?: { getBuiltinModule?(name: string): unknown } })
        .process?.getBuiltinModule?.("node:fs") as
          | { rmSync(path: string, options: { force: boolean }): void }
          | undefined;
      fs?.rmSync(options.path, { force: true });
    } catch {
      // Nothing to replace.
    }
    listener = bun.listen({ unix: options.path, tls: options.tls, socket: handlers });
    address = { transport: "unix", path: options.path };
  } else {
    const { hostname, port } = tcpTarget(options);
    listener = bun.listen({
      hostname,
      port,
      reusePort: options.reusePort,
      tls: options.tls,
      socket: handlers,
    });
    address = {
      transport: "tcp",
      hostname: listener.hostname ?? hostname,
      port: listener.port ?? port,
    };
  }
  agent.options.logger.info("SPOA: listening", address);
  return serverHandle(agent, address, () => listener.stop(false));
}
