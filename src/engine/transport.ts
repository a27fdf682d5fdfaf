/**
 * The narrow interfaces between the protocol engine and a runtime's sockets.
 * An adapter (or a custom transport) implements {@linkcode Transport} for each
 * socket, hands it to a {@linkcode ConnectionHandler}, and feeds the
 * {@linkcode TransportSink} it gets back. The engine never imports a runtime,
 * and adapters never import the engine's classes.
 *
 * @module
 */

import type { Logger } from "./logger.ts";

/** What the engine needs from a connected socket. */
export interface Transport {
  /**
   * Queues bytes for sending. Each call carries whole frames and must reach the
   * socket as one contiguous write, in call order. It may be called again
   * before a promise it returned has settled.
   *
   * @param bytes The bytes. The engine reuses their memory once the write is
   *   done: when `write()` returns `undefined`, or when the promise it returned
   *   settles. A transport that keeps them longer must copy them.
   * @returns `undefined` if the socket took them at once and keeps no reference
   *   to them (it sent or copied them), or a promise that settles when they are
   *   sent and the socket has room again (backpressure), or the socket closed.
   */
  write(bytes: Uint8Array): Promise<void> | undefined;
  /**
   * Closes the connection cleanly, so that what was sent reaches the peer: send
   * what is queued, half-close (FIN), then read and discard until the peer
   * closes or a grace period ends, then close. Closing with unread data would
   * make the kernel send a reset that can destroy the last frames. Reading
   * resumes if it was paused. Safe to call twice; the sink's `closed()` follows.
   */
  close(): void;
  /** Stops delivering inbound chunks until {@linkcode Transport.resume}. */
  pause(): void;
  /** Delivers inbound chunks again. */
  resume(): void;
  /** The peer's address, for logs and handler contexts. */
  readonly remoteAddress: string | undefined;
}

/** What an adapter calls on the engine for one connection. */
export interface TransportSink {
  /**
   * Hands over inbound bytes. The chunk must not be modified afterwards.
   *
   * @param chunk The bytes.
   */
  receive(chunk: Uint8Array): void;
  /**
   * Tells the engine the socket is closed (by the peer, or after `close()`).
   *
   * @param error The socket error, if it ended with one.
   */
  closed(error?: unknown): void;
}

/**
 * Where one listening server hands its connections: it owns them, so that
 * draining it drains only them.
 */
export interface ConnectionHandler {
  /**
   * Takes a new connection.
   *
   * @param transport The socket.
   * @returns The sink to feed, or `undefined` when the connection is refused
   *   (`maxConnections` reached, or the handler is draining): close the socket.
   */
  accept(transport: Transport): TransportSink | undefined;
  /**
   * Closes this handler's connections gracefully: each answers what is in
   * flight, then says AGENT-DISCONNECT (status 0) and closes; after the
   * agent's `shutdownTimeout`, what is left is answered with the fallback
   * actions. Connections offered afterwards are refused.
   *
   * @returns A promise that settles when every connection is closed.
   */
  drain(): Promise<void>;
  /** Where the server reports what happens to it. */
  readonly logger: Logger;
}

/** What a server serves: an `Agent`, seen through the one door adapters use. */
export interface ConnectionService {
  /**
   * Opens a handler for one server's connections.
   *
   * @returns The handler.
   */
  connectionHandler(): ConnectionHandler;
}

export type { Logger } from "./logger.ts";
