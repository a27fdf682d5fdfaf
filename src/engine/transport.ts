/**
 * The narrow interface between the protocol engine and a runtime's socket.
 * Adapters implement {@linkcode Transport} and feed the engine through
 * {@linkcode TransportSink}; the engine never imports a runtime.
 *
 * @module
 */

/** What the engine needs from a connected socket. */
export interface Transport {
  /**
   * Queues bytes for sending. Each call carries whole frames and must reach the
   * socket as one contiguous write, in call order.
   *
   * @param bytes The bytes; the engine never touches them again.
   * @returns `undefined` if the socket took them at once, or a promise that
   *   settles when the socket has room again (backpressure).
   */
  write(bytes: Uint8Array): Promise<void> | undefined;
  /** Sends what is queued, then closes the socket. Safe to call twice. */
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
