/**
 * The server handle all adapters return: close() stops accepting, then drains.
 *
 * @module
 */

import type { Agent } from "../engine/agent.ts";
import type { AgentServer, ListenOptions, ServerAddress } from "./types.ts";

/**
 * Builds the server handle.
 *
 * @param agent The agent whose connections close() drains.
 * @param address The bound address.
 * @param stopAccepting Closes the listener.
 * @returns The handle.
 */
export function serverHandle(
  agent: Agent,
  address: ServerAddress,
  stopAccepting: () => void | Promise<void>,
): AgentServer {
  let finished: Promise<void> | undefined;
  const close = (): Promise<void> => {
    finished ??= (async () => {
      await stopAccepting();
      await agent.drain();
      agent.options.logger.info("SPOA: server closed");
    })();
    return finished;
  };
  let resolveFinished!: () => void;
  const finishedPromise = new Promise<void>((resolve) => resolveFinished = resolve);
  return {
    address,
    finished: finishedPromise,
    close: () => close().then(resolveFinished),
    [Symbol.asyncDispose]: () => close().then(resolveFinished),
  };
}

/**
 * Formats a peer address for logs: `host:port`, `[v6]:port`, or `unix`.
 *
 * @param hostname The peer's host, if TCP.
 * @param port The peer's port, if TCP.
 * @returns The text.
 */
export function formatPeer(hostname: string | undefined, port: number | undefined): string {
  if (hostname === undefined || hostname === "") return "unix";
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/**
 * The defaults of {@linkcode ListenOptions}.
 *
 * @param options The options given.
 * @returns Hostname and port with defaults.
 */
export function tcpTarget(options: ListenOptions): { hostname: string; port: number } {
  return { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 12345 };
}
