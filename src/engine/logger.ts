/**
 * The logger interface the agent writes to. `console` fits it.
 *
 * @module
 */

/** Where the agent reports what happens. `console` is a valid logger. */
export interface Logger {
  /** Per-connection events: handshakes, normal closes. */
  debug(message: string, ...details: unknown[]): void;
  /** Start, stop. */
  info(message: string, ...details: unknown[]): void;
  /** Problems that cost a request its answer: timeouts, oversized ACKs. */
  warn(message: string, ...details: unknown[]): void;
  /** Handler failures and protocol errors. */
  error(message: string, ...details: unknown[]): void;
}

const ignore = (): void => {};

/**
 * The default logger: warnings and errors to `console`, nothing else.
 */
export const defaultLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: (message, ...details) => console.warn(message, ...details),
  error: (message, ...details) => console.error(message, ...details),
};

/**
 * A logger that drops everything.
 */
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
