/**
 * The Deno adapter: `Deno.listen` (TCP, Unix) feeding the engine; TLS and
 * `reusePort` through Deno's `node:tls`/`node:net` (see {@linkcode listen}).
 * Reads go into a shared slab handed out in slices, so a chunk is never copied
 * and never overwritten while frames still point into it.
 *
 * `agent.listen()` on Deno does not use this adapter but Deno's `node:net`: the
 * read and write each connection keeps under way here survive V8's
 * young-generation collections, and under heavy load on many connections V8
 * grows the young generation by tens of MiB (src/adapters/listen.ts).
 *
 * @module
 */

import type { ConnectionHandler, ConnectionService, Transport } from "../engine/transport.ts";
import { serverHandle, tcpTarget } from "./_server.ts";
import { CLOSE_GRACE_MS, formatPeer, removeStaleSocket, unrefTimer } from "./_socket.ts";
import type { AgentServer, ListenOptions, ServerAddress } from "./types.ts";

/** Read slab size; a new slab starts when less than READ_MINIMUM is left. */
const SLAB_SIZE = 64 * 1024;
const READ_MINIMUM = 16 * 1024;

function peerOf(conn: Deno.Conn): string {
  const remote = conn.remoteAddr;
  return remote.transport === "tcp" ? formatPeer(remote.hostname, remote.port) : "unix";
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

function serve(handler: ConnectionHandler, conn: Deno.Conn): void {
  if (conn.remoteAddr.transport === "tcp") (conn as Deno.TcpConn).setNoDelay?.(true);
  let closing = false;
  let connClosed = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const closeConn = () => {
    if (connClosed) return;
    connClosed = true;
    clearTimeout(graceTimer);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  let paused: { promise: Promise<void>; resolve: () => void } | undefined;
  // Writes run one after another; `written` never rejects, so chaining on it and
  // close() never leave a rejection unhandled (fatal in Deno). The first write
  // error fails every later write.
  let written: Promise<void> = Promise.resolve();
  let writeError: unknown;
  const resume = () => {
    const current = paused;
    paused = undefined;
    current?.resolve();
  };
  const transport: Transport = {
    remoteAddress: peerOf(conn),
    write(bytes) {
      const result = written.then(() => {
        if (writeError !== undefined) throw writeError;
        return writeAll(conn, bytes);
      });
      written = result.catch((error) => {
        writeError ??= error;
      });
      return result;
    },
    close() {
      if (closing) return;
      closing = true;
      // Send what is queued, then FIN; the read loop reads on (and discards) until the peer
      // closes its side. A peer that does not, or does not read, is dropped after a grace.
      resume();
      graceTimer = unrefTimer(closeConn, CLOSE_GRACE_MS);
      written.then(async () => {
        if (connClosed) return;
        try {
          await conn.closeWrite();
        } catch {
          closeConn();
        }
      });
    },
    pause() {
      if (paused || closing) return;
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      paused = { promise, resolve };
    },
    resume,
  };
  const sink = handler.accept(transport);
  if (sink === undefined) {
    closeConn();
    return;
  }
  (async () => {
    let slab = new Uint8Array(SLAB_SIZE);
    let used = 0;
    // After close(), bytes are read into a scratch buffer and dropped: the slab may still back
    // frames a handler holds, so it is never reused.
    let scratch: Uint8Array | undefined;
    let error: unknown;
    try {
      for (;;) {
        if (paused) {
          await paused.promise;
          continue;
        }
        if (closing) {
          scratch ??= new Uint8Array(READ_MINIMUM);
          if (await conn.read(scratch) === null) break;
          continue;
        }
        if (SLAB_SIZE - used < READ_MINIMUM) {
          slab = new Uint8Array(SLAB_SIZE);
          used = 0;
        }
        const count = await conn.read(slab.subarray(used));
        if (count === null) break;
        const chunk = slab.subarray(used, used + count);
        used += count;
        if (!closing) sink.receive(chunk);
      }
    } catch (cause) {
      if (!closing) error = cause;
    }
    closing = true;
    closeConn();
    sink.closed(error);
  })();
}

/** How long to wait before accepting again after a failed accept (EMFILE and the like). */
const ACCEPT_RETRY_MS = 100;

/** Whether an accept failed because that one peer went away (ENOTCONN, ECONNRESET, ECONNABORTED). */
function peerGone(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}

function bind(options: ListenOptions): { listener: Deno.Listener; address: ServerAddress } {
  if (options.path !== undefined) {
    removeStaleSocket(options.path);
    const listener = Deno.listen({ transport: "unix", path: options.path });
    return { listener, address: { transport: "unix", path: options.path } };
  }
  const listener = Deno.listen(tcpTarget(options));
  const bound = listener.addr as Deno.NetAddr;
  return { listener, address: { transport: "tcp", hostname: bound.hostname, port: bound.port } };
}

/**
 * Listens with `Deno.listen` and serves `agent`. TLS and `reusePort` go through
 * Deno's `node:tls` and `node:net` (the Node adapter) instead: a `Deno.TlsConn`
 * cannot turn off Nagle's algorithm (ACKs written in quick succession then wait
 * ~40 ms for the peer's delayed ACK), and `Deno.listen`'s `reusePort` needs
 * `--unstable-net` (without it Deno exits the process).
 *
 * @param agent The agent (any {@linkcode ConnectionService}).
 * @param options Where to listen.
 * @returns The running server.
 * @throws {Error} (as a rejection) If the address cannot be bound.
 *
 * @example
 * ```ts ignore
 * import { Agent } from "@spoa/agent";
 * import { listen } from "@spoa/agent/deno";
 * const server = await listen(new Agent(), { port: 12345 });
 * ```
 */
export function listen(
  agent: ConnectionService,
  options: ListenOptions = {},
): Promise<AgentServer> {
  if (options.tls || (options.path === undefined && options.reusePort)) {
    return import("./node.ts").then((node) => node.listen(agent, options));
  }
  let bound: { listener: Deno.Listener; address: ServerAddress };
  try {
    bound = bind(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const { listener, address } = bound;
  const handler = agent.connectionHandler();
  let accepting = true;
  const accepted = (async () => {
    while (accepting) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (!accepting || error instanceof Deno.errors.BadResource) return;
        // A peer that reset its connection while it waited in the backlog: only it is lost.
        // Waiting here would let a few such peers stop the server from accepting anyone.
        if (peerGone(error)) {
          handler.logger.debug("SPOA: a connection was reset before it was accepted", { error });
          continue;
        }
        // One failed accept (out of file descriptors...) must not stop the server for good.
        handler.logger.error("SPOA: accept failed", { error });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      serve(handler, conn);
    }
  })();
  handler.logger.info("SPOA: listening", { address });
  return Promise.resolve(serverHandle(handler, address, async () => {
    accepting = false;
    listener.close();
    await accepted;
  }));
}
