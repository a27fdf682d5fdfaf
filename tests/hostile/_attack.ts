// Shared pieces of the tests that attack a listening agent: a server on the runtime under test,
// what the process holds (open file descriptors, memory), a forced garbage collection, and a
// bare socket that records how its connection ended.
import * as net from "node:net";
import { readdirSync } from "node:fs";
import process from "node:process";
import { Agent, type AgentOptions, type AgentServer, type ListenOptions } from "../../mod.ts";
import {
  delay,
  type ListenFunction,
  type RecordingLogger,
  recordingLogger,
  type Target,
} from "../adapters/_helpers.ts";
import { collectGarbage } from "./_gc.ts";

export { collectGarbage };

/** An agent listening on TCP port 0 with the adapter of the runtime running the tests. */
export interface Served {
  agent: Agent;
  server: AgentServer;
  logger: RecordingLogger;
  target: { hostname: string; port: number };
}

/**
 * Starts an agent with a recording logger on 127.0.0.1, port 0 (TLS if `listen.tls`), with
 * `agent.listen()` or the adapter given.
 */
export async function serve(
  options: AgentOptions = {},
  listen: ListenOptions = {},
  listener: ListenFunction = (agent, listenOptions) => agent.listen(listenOptions),
): Promise<Served> {
  const logger = recordingLogger();
  const agent = new Agent({ logger, ...options });
  const server = await listener(agent, { port: 0, ...listen });
  if (server.address.transport !== "tcp") throw new Error("expected TCP");
  return { agent, server, logger, target: { hostname: "127.0.0.1", port: server.address.port } };
}

/** Whether /proc/self/fd can be read (Linux). */
export const HAS_PROC = (() => {
  try {
    readdirSync("/proc/self/fd");
    return true;
  } catch {
    return false;
  }
})();

/** The number of file descriptors this process has open (Linux). */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** The resident set size of this process, in MiB. */
export function rssMib(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

/** Collects garbage until `ready()` holds (WeakRefs clear only between turns), or gives up. */
export async function collectUntil(ready: () => boolean, rounds = 10): Promise<boolean> {
  for (let i = 0; i < rounds && !ready(); i++) {
    await delay(10);
    collectGarbage();
  }
  return ready();
}

/** How a bare connection ended, seen from the peer. */
export interface Ending {
  /** Every byte received. */
  readonly received: Uint8Array;
  /** The agent's FIN arrived (a clean close of its side). */
  readonly fin: boolean;
  /** The connection was reset (ECONNRESET or EPIPE). */
  readonly reset: boolean;
  /** Milliseconds from connecting to the close. */
  readonly ms: number;
}

/**
 * Opens a bare TCP connection, sends `bytes`, keeps reading, and resolves once the socket is
 * closed (by the agent) or after `ms`, when it is destroyed and the result says so by `ms`.
 *
 * @param target Where.
 * @param bytes What to send once connected.
 * @param ms The longest wait.
 */
export function exchange(target: Target, bytes: Uint8Array, ms = 5000): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const chunks: Uint8Array[] = [];
    let fin = false;
    let reset = false;
    const socket = net.connect(target as net.NetConnectOpts);
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on("connect", () => {
      if (bytes.length > 0) socket.write(bytes);
    });
    socket.on("data", (chunk: Uint8Array) => chunks.push(new Uint8Array(chunk)));
    socket.on("end", () => fin = true);
    socket.on("error", (error: { code?: string }) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") reset = true;
      else if (error.code !== undefined && !fin) reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const received = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let offset = 0;
      for (const chunk of chunks) {
        received.set(chunk, offset);
        offset += chunk.length;
      }
      resolve({ received, fin, reset, ms: Date.now() - started });
    });
  });
}
