/**
 * The listening options and server handle every adapter shares.
 *
 * @module
 */

/**
 * TLS material, in PEM form, and client certificate verification. Give `ca`
 * for mutual TLS: HAProxy then authenticates with `crt` on its `server` line,
 * and a client without a certificate signed by `ca` is refused.
 */
export interface TlsOptions {
  /** The certificate chain, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
  /** The passphrase of an encrypted private key. */
  passphrase?: string;
  /** The certificate authorities that client certificates must chain to, PEM. */
  ca?: string | readonly string[];
  /**
   * Ask clients for a certificate.
   *
   * @default {true when `ca` is given, else false}
   */
  requestCert?: boolean;
  /**
   * Refuse a client whose certificate is missing or does not verify against
   * `ca` (with `requestCert`).
   *
   * @default {true}
   */
  rejectUnauthorized?: boolean;
}

/** Where and how to listen. Give `path` for a Unix socket, else a TCP host and port. */
export interface ListenOptions {
  /**
   * The address to bind.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The TCP port; 0 picks a free one (read it back from `server.address`).
   *
   * @default {12345}
   */
  port?: number;
  /** A Unix socket path to listen on instead of TCP (an existing file there is replaced). */
  path?: string;
  /** Serve TLS instead of plain TCP (`ssl` on the HAProxy `server` line). */
  tls?: TlsOptions;
  /**
   * Let several processes bind the same TCP port (SO_REUSEPORT, Linux): the
   * kernel spreads connections between them, one process per core. On Node,
   * from 22.12 on (older releases reject it).
   *
   * @default {false}
   */
  reusePort?: boolean;
}

/** Where a server listens. */
export type ServerAddress =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** A running agent server. */
export interface AgentServer {
  /** The bound address (with the real port when 0 was asked). */
  readonly address: ServerAddress;
  /** Settles when the server is closed and every connection with it. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting connections, lets the open ones finish their work (up to
   * the agent's `shutdownTimeout`), says AGENT-DISCONNECT status 0, and closes them.
   *
   * @returns The same promise as {@linkcode AgentServer.finished}.
   */
  close(): Promise<void>;
  /** Closes the server, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}
