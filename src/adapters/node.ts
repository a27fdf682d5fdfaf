/**
 * The Node adapter: `node:net` and `node:tls` sockets feeding the engine.
 * Honours `write() === false` and `'drain'`, and views each chunk (a Node byte buffer) as a
 * plain `Uint8Array` at the edge.
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { rmSync } from "node:fs";
import process from "node:process";
import type { Agent } from "../engine/agent.ts";
import type { Transport } from "../engine/transport.ts";
import { formatPeer, serverHandle, tcpTarget } from "./_server.ts";
import type { AgentServer, ListenOptions, ServerAddress } from "./types.ts";

/** How long a closing socket may wait for the peer's FIN before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * Whether `server.listen()` honours `reusePort`: from Node 22.12 and 23.1 on. Older releases
 * ignore the option, so a second server on the port would fail with EADDRINUSE.
 */
function reusePortSupported(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

function serve(agent: Agent, socket: net.Socket): void {
  socket.setNoDelay(true);
  let error: unknown;
  let closing = false;
  const transport: Transport = {
    remoteAddress: formatPeer(socket.remoteAddress, socket.remotePort),
    write(bytes) {
      if (socket.write(bytes)) return undefined;
      return new Promise((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    },
    close() {
      if (closing) return;
      closing = true;
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
  const sink = agent.connect(transport);
  if (sink === undefined) {
    socket.destroy();
    return;
  }
  socket.on("data", (chunk: Uint8Array) => {
    sink.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  socket.on("error", (cause) => error = cause);
  socket.on("close", () => sink.closed(error));
}

/**
 * Listens with `node:net` (or `node:tls`) and serves `agent`.
 *
 * @param agent The agent.
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
export async function listen(agent: Agent, options: ListenOptions = {}): Promise<AgentServer> {
  const version = process.versions.node;
  if (options.reusePort && options.path === undefined && !reusePortSupported(version)) {
    throw new Error(
      `Cannot listen with reusePort: it needs Node 22.12 or later, this is ${version}`,
    );
  }
  const onConnection = (socket: net.Socket) => serve(agent, socket);
  const server = options.tls
    ? tls.createServer({ cert: options.tls.cert, key: options.tls.key }, onConnection)
    : net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    const listening = () => {
      server.off("error", reject);
      resolve();
    };
    server.once("error", reject);
    if (options.path !== undefined) {
      rmSync(options.path, { force: true });
      server.listen({ path: options.path }, listening);
    } else {
      const { hostname, port } = tcpTarget(options);
      server.listen({ host: hostname, port, reusePort: options.reusePort }, listening);
    }
  });
  // Attached only now: a bind error is the rejection above, not also a log line.
  server.on("error", (error) => agent.options.logger.error("SPOA: server error", error));
  const bound = server.address();
  const address: ServerAddress = typeof bound === "object" && bound !== null
    ? { transport: "tcp", hostname: bound.address, port: bound.port }
    : { transport: "unix", path: options.path ?? String(bound) };
  agent.options.logger.info("SPOA: listening", address);
  // server.close() stops accepting at once; its callback would wait for every connection.
  return serverHandle(agent, address, () => {
    server.close();
  });
}
