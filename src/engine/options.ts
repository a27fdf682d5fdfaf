/**
 * The agent's options, with their defaults.
 *
 * @module
 */

import type { Action } from "../codec/action.ts";
import { defaultLogger, type Logger } from "./logger.ts";

/** Options of an {@linkcode Agent}. Every one has a documented default. */
export interface AgentOptions {
  /**
   * The most connections served at once; connections past it are closed at once.
   *
   * @default {1024}
   */
  maxConnections?: number;
  /**
   * The most NOTIFY frames in flight on one connection (received, not yet
   * answered). Past it the agent stops reading that socket until one is
   * answered. HAProxy 3.1+ sends up to 20 per connection, 2.6/3.0 up to
   * `max-waiting-frames` (20 by default).
   *
   * @default {64}
   */
  maxInFlight?: number;
  /**
   * The largest frame the agent accepts, not counting the 4-byte length. The
   * handshake settles on the smaller of this and HAProxy's value (16380 with
   * the default `tune.bufsize`); the agent's own frames respect the result.
   * Lowering it below HAProxy's value makes legacy HAProxy (2.6/3.0) fail the
   * first NOTIFY that no longer fits and fragment later ones.
   *
   * @default {65532}
   */
  maxFrameSize?: number;
  /**
   * Announce the `fragmentation` capability, so that HAProxy 2.6/3.0 send
   * NOTIFYs larger than a frame in fragments, reassembled here. HAProxy 3.1+
   * ignores it.
   *
   * @default {true}
   */
  fragmentation?: boolean;
  /**
   * The largest NOTIFY reassembled from fragments, in bytes.
   *
   * @default {1048576}
   */
  maxFragmentedSize?: number;
  /**
   * Milliseconds a new connection may take to send its HAPROXY-HELLO.
   *
   * @default {10000}
   */
  helloTimeout?: number;
  /**
   * Milliseconds a connection may stay silent before the agent closes it;
   * 0 keeps idle connections open (HAProxy 3.1+ pools and reuses them).
   *
   * @default {0}
   */
  idleTimeout?: number;
  /**
   * Milliseconds a NOTIFY may take to process. When it passes, the ACK goes
   * out with {@linkcode AgentOptions.fallbackActions} and the handler's
   * `AbortSignal` fires. Keep it below HAProxy's `timeout processing`, after
   * which HAProxy ignores the answer; 0 disables it.
   *
   * @default {10000}
   */
  processingTimeout?: number;
  /**
   * The actions sent when a handler throws, rejects, or misses the
   * processing deadline, or when its actions do not fit in one frame.
   *
   * @default {[]}
   */
  fallbackActions?: readonly Action[];
  /**
   * Milliseconds `close()` lets connections finish their work before it
   * answers what is left with the fallback actions and closes them.
   *
   * @default {10000}
   */
  shutdownTimeout?: number;
  /**
   * Where the agent reports events; `console` fits.
   *
   * @default warnings and errors to `console`
   */
  logger?: Logger;
}

/** Options with every default filled in. */
export type ResolvedOptions = Required<AgentOptions>;

/** setTimeout() fires at once past 2^31 − 1 ms, so no duration may be longer. */
const MAX_DURATION = 2_147_483_647;

function count(name: string, value: number, minimum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new RangeError(
      `Invalid option ${name}: ${value} (must be an integer, at least ${minimum})`,
    );
  }
  return value;
}

function duration(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0 || value > MAX_DURATION) {
    throw new RangeError(
      `Invalid option ${name}: ${value} (must be 0 to ${MAX_DURATION} milliseconds)`,
    );
  }
  return value;
}

/**
 * Fills in the defaults and checks the values.
 *
 * @param options The options given.
 * @returns The complete options.
 * @throws {RangeError} For an out-of-range value.
 */
export function resolveOptions(options: AgentOptions = {}): ResolvedOptions {
  return {
    maxConnections: count("maxConnections", options.maxConnections ?? 1024, 1),
    maxInFlight: count("maxInFlight", options.maxInFlight ?? 64, 1),
    // SPOE.txt: max-frame-size is at least 256 bytes.
    maxFrameSize: count("maxFrameSize", options.maxFrameSize ?? 65532, 256),
    fragmentation: options.fragmentation ?? true,
    maxFragmentedSize: count("maxFragmentedSize", options.maxFragmentedSize ?? 1048576, 256),
    helloTimeout: duration("helloTimeout", options.helloTimeout ?? 10000),
    idleTimeout: duration("idleTimeout", options.idleTimeout ?? 0),
    processingTimeout: duration("processingTimeout", options.processingTimeout ?? 10000),
    fallbackActions: options.fallbackActions ?? [],
    shutdownTimeout: duration("shutdownTimeout", options.shutdownTimeout ?? 10000),
    logger: options.logger ?? defaultLogger,
  };
}
