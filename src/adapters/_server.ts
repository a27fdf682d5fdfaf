/**
 * The server handle all adapters return: `close()` stops accepting, then
 * drains the connections this server accepted.
 *
 * @module
 */

import type { ConnectionHandler } from "../engine/transport.ts";
import type { AgentServer, ListenOptions, ServerAddress } from "./types.ts";

/**
 * Builds the server handle.
 *
 * @param handler The connection handler whose connections close() drains.
 * @param address The bound address.
 * @param stopAccepting Closes the listener.
 * @returns The handle.
 */
export function serverHandle(
  handler: ConnectionHandler,
  address: ServerAddress,
  stopAccepting: () => void | Promise<void>,
): AgentServer {
  let resolveFinished!: () => void;
  const finished = new Promise<void>((resolve) => resolveFinished = resolve);
  let closing = false;
  // One promise for finished, close() and asyncDispose, settled once whatever happens.
  const close = (): Promise<void> => {
    if (closing) return finished;
    closing = true;
    const logger = handler.logger;
    (async () => {
      try {
        await stopAccepting();
      } catch (error) {
        logger.error("SPOA: could not stop listening", { error });
      }
      await handler.drain();
      logger.info("SPOA: server closed");
    })().catch((error) => logger.error("SPOA: close failed", { error })).finally(resolveFinished);
    return finished;
  };
  return { address, finished, close, [Symbol.asyncDispose]: close };
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
