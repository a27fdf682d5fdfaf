/**
 * The Deno adapter: `Deno.listen` (TCP, Unix) and `Deno.listenTls` feeding the
 * engine. Reads go into a shared slab handed out in slices, so a chunk is
 * never copied and never overwritten while frames still point into it.
 *
 * @module
 */

import type { Agent } from "../engine/agent.ts";
import type { Transport } from "../engine/transport.ts";
import { formatPeer, serverHandle, tcpTarget } from "./_server.ts";
import type { AgentServer, ListenOptions, ServerAddress } from "./types.ts";

/** Read slab size; a new slab starts when less than READ_MINIMUM is left. */
const SLAB_SIZE = 256 * 1024;
const READ_MINIMUM = 32 * 1024;

function peerOf(conn: Deno.Conn): string {
  const remote = conn.remoteAddr;
  return remote.transport === "tcp" ? formatPeer(remote.hostname, remote.port) : "unix";
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

function serve(agent: Agent, conn: Deno.Conn): void {
  if (conn.remoteAddr.transport === "tcp") (conn as Deno.TcpConn).setNoDelay?.(true);
  let closed = false;
  let paused: { promise: Promise<void>; resolve: () => void } | undefined;
  let writing: Promise<void> = Promise.resolve();
  const transport: Transport = {
    remoteAddress: peerOf(conn),
    write(bytes) {
      writing = writing.then(() => writeAll(conn, bytes));
      return writing;
    },
    close() {
      if (closed) return;
      closed = true;
      writing.finally(() => {
        try {
          conn.close();
        } catch {
          // Already closed by the peer.
        }
      });
    },
    pause() {
      if (paused) return;
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      paused = { promise, resolve };
    },
    resume() {
      const current = paused;
      paused = undefined;
      current?.resolve();
    },
  };
  const sink = agent.connect(transport);
  if (sink === undefined) {
    conn.close();
    return;
  }
  (async () => {
    let slab = new Uint8Array(SLAB_SIZE);
    let used = 0;
    let error: unknown;
    try {
      while (!closed) {
        if (paused) await paused.promise;
        if (SLAB_SIZE - used < READ_MINIMUM) {
          slab = new Uint8Array(SLAB_SIZE);
          used = 0;
        }
        const count = await conn.read(slab.subarray(used));
        if (count === null) break;
        const chunk = slab.subarray(used, used + count);
        used += count;
        sink.receive(chunk);
      }
    } catch (cause) {
      if (!closed) error = cause;
    }
    sink.closed(error);
    if (!closed) {
      closed = true;
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  })();
}

/**
 * Listens with `Deno.listen` (or `Deno.listenTls`) and serves `agent`.
 *
 * @param agent The agent.
 * @param options Where to listen.
 * @returns The running server.
 *
 * @example
 * ```ts ignore
 * import { Agent } from "@spoa/agent";
 * import { listen } from "@spoa/agent/deno";
 * const server = await listen(new Agent(), { port: 12345 });
 * ```
 */
export function listen(agent: Agent, options: ListenOptions = {}): Promise<AgentServer> {
  let listener: Deno.Listener;
  let address: ServerAddress;
  if (options.path !== undefined) {
    try {
      Deno.removeSync(options.path);
    } catch {
      // Nothing to replace.
    }
    listener = Deno.listen({ transport: "unix", path: options.path });
    address = { transport: "unix", path: options.path };
  } else {
    const { hostname, port } = tcpTarget(options);
    listener = options.tls
      ? Deno.listenTls({ hostname, port, cert: options.tls.cert, key: options.tls.key })
      : Deno.listen({ hostname, port, reusePort: options.reusePort });
    const bound = listener.addr as Deno.NetAddr;
    address = { transport: "tcp", hostname: bound.hostname, port: bound.port };
  }
  let accepting = true;
  const accepted = (async () => {
    try {
      for await (const conn of listener) serve(agent, conn);
    } catch (error) {
      if (accepting) agent.options.logger.error("SPOA: accept failed", error);
    }
  })();
  agent.options.logger.info("SPOA: listening", address);
  return Promise.resolve(serverHandle(agent, address, async () => {
    accepting = false;
    listener.close();
    await accepted;
  }));
}
