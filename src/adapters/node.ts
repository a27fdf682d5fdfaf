/**
 * The Node adapter: `node:net` and `node:tls` sockets feeding the engine.
 * A write is done when Node holds nothing of it (sent at once, or the callback
 * of a write after it came), and each chunk (a Node byte buffer) is viewed as a
 * plain `Uint8Array` at the edge.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import process from "node:process";
import type { ConnectionHandler, ConnectionService, Transport } from "../engine/transport.ts";
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

/**
 * Whether `server.listen()` honours `reusePort`: from Node 22.12 and 23.1 on. Older releases
 * ignore the option, so a second server on the port would fail with EADDRINUSE.
 */
function reusePortSupported(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** What an empty write sends: nothing, but its callback comes after the writes before it. */
const EMPTY = new Uint8Array(0);

/**
 * A write to a TLS socket, done when its callback comes (an error, a destroyed socket, too).
 * Encryption keeps the bytes buffered for a moment, and Deno's `node:tls` never calls back an
 * empty write, so each write gets its own callback.
 */
function writeTls(socket: net.Socket, bytes: Uint8Array): Promise<void> | undefined {
  let sent = false;
  let settle: (() => void) | undefined;
  socket.write(bytes, () => {
    sent = true;
    settle?.();
  });
  if (socket.writableLength === 0) return undefined;
  return new Promise((resolve) => {
    if (sent) resolve();
    else settle = resolve;
  });
}

function serve(handler: ConnectionHandler, socket: net.Socket): void {
  socket.setNoDelay(true);
  const encrypted = socket instanceof tls.TLSSocket;
  let error: unknown;
  let closing = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const transport: Transport = {
    remoteAddress: formatPeer(socket.remoteAddress, socket.remotePort),
    write(bytes) {
      if (encrypted) return writeTls(socket, bytes);
      // No callback on the write itself: Node would schedule one for every write, and most are
      // done at once (about 5 % of the CPU per message at 20,000 msg/s, BENCHMARKS.md).
      socket.write(bytes);
      // Nothing buffered: the bytes went to the kernel at once, and Node keeps no reference.
      if (socket.writableLength === 0) return undefined;
      // Node holds them. Writes complete in order, so the callback of an empty write comes once
      // they are sent, or with an error once the socket is destroyed.
      return new Promise((resolve) => socket.write(EMPTY, () => resolve()));
    },
    close() {
      if (closing) return;
      closing = true;
      // Send what is queued, then FIN; read on (and discard) until the peer closes its side,
      // which Node answers by closing the socket; a peer that does not is dropped after a grace.
      socket.resume();
      socket.end();
      graceTimer = unrefTimer(() => socket.destroy(), CLOSE_GRACE_MS);
    },
    pause: () => {
      if (!closing) socket.pause();
    },
    resume: () => socket.resume(),
  };
  const sink = handler.accept(transport);
  if (sink === undefined) {
    socket.destroy();
    return;
  }
  socket.on("data", (chunk: Uint8Array) => sink.receive(viewOf(chunk)));
  socket.on("error", (cause) => error = cause);
  socket.on("close", () => {
    clearTimeout(graceTimer);
    sink.closed(error);
  });
}

/**
 * Listens with `node:net` (or `node:tls`) and serves `agent`.
 *
 * @param agent The agent (any {@linkcode ConnectionService}).
 * @param options Where to listen.
 * @returns The running server.
 * @throws {Error} (as a rejection) If the address cannot be bound, or for `reusePort` before
 *   Node 22.12.
 *
 * @example
 * ```ts ignore
 * import { Agent } from "@spoa/agent";
 * import { listen } from "@spoa/agent/node";
 * const server = await listen(new Agent(), { port: 12345 });
 * ```
 */
export async function listen(
  agent: ConnectionService,
  options: ListenOptions = {},
): Promise<AgentServer> {
  const version = process.versions.node;
  if (options.reusePort && options.path === undefined && !reusePortSupported(version)) {
    throw new Error(
      `Cannot listen with reusePort: it needs Node 22.12 or later, this is ${version}`,
    );
  }
  const handler = agent.connectionHandler();
  const onConnection = (socket: net.Socket) => serve(handler, socket);
  const server = options.tls
    ? tls.createServer(runtimeTls(options.tls), onConnection)
    : net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    const listening = () => {
      server.off("error", reject);
      resolve();
    };
    server.once("error", reject);
    if (options.path !== undefined) {
      removeStaleSocket(options.path);
      server.listen({ path: options.path }, listening);
    } else {
      const { hostname, port } = tcpTarget(options);
      server.listen({ host: hostname, port, reusePort: options.reusePort }, listening);
    }
  });
  // Attached only now: a bind error is the rejection above, not also a log line.
  server.on("error", (error) => handler.logger.error("SPOA: server error", { error }));
  const bound = server.address();
  const address: ServerAddress = typeof bound === "object" && bound !== null
    ? { transport: "tcp", hostname: bound.address, port: bound.port }
    : { transport: "unix", path: options.path ?? String(bound) };
  handler.logger.info("SPOA: listening", { address });
  // server.close() stops accepting at once; its callback would wait for every connection.
  return serverHandle(handler, address, () => {
    server.close();
  });
}
