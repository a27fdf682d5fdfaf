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
   * The most NOTIFYs whose handlers run at once on one connection. A NOTIFY
   * past it is answered at once with {@linkcode AgentOptions.fallbackActions}
   * (the agent sheds load rather than queue it, and reads on, so HAProxy's
   * DISCONNECT is always seen). It also bounds the answers waiting for a
   * HAProxy that does not read them: past it, the agent stops reading that
   * connection until they go out. HAProxy 3.1+ sends up to 20 NOTIFYs per
   * connection, 2.6/3.0 up to `max-waiting-frames` (20 by default), so the
   * default is never reached by HAProxy's defaults.
   *
   * @default {64}
   */
  maxInFlight?: number;
  /**
   * The largest frame the agent accepts, not counting the 4-byte length, from
   * 256 to 16 MiB. The handshake settles on the smaller of this and HAProxy's
   * value (16380 with the default `tune.bufsize`); the agent's own frames
   * respect the result. Before the handshake, frames are limited to 2048 bytes
   * (a HAPROXY-HELLO is about 130). Lowering it below HAProxy's value makes
   * legacy HAProxy (2.6/3.0) fail the first NOTIFY that no longer fits and
   * fragment later ones.
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
   * The most frames one fragmented NOTIFY may take. HAProxy fills each
   * fragment up to max-frame-size − 32 bytes (224 at the smallest size, 256),
   * so 4096 fragments carry at least about 900 KiB.
   *
   * @default {4096}
   */
  maxFragments?: number;
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
   * Milliseconds a frame may take to arrive once its first byte has, and a
   * fragmented NOTIFY from its first frame to its last. Past it the agent says
   * AGENT-DISCONNECT with status 2 (timeout) and closes: a peer that sends part
   * of a frame and stalls cannot hold a connection, even with `idleTimeout` 0.
   * HAProxy sends each frame, and the fragments of a NOTIFY, back to back.
   * Frames the agent leaves unread while HAProxy does not read its answers are
   * not timed. 0 disables it.
   *
   * @default {10000}
   */
  frameTimeout?: number;
  /**
   * Milliseconds a write may wait for HAProxy to read: a HAProxy that stops
   * reading the agent's answers for this long has its connection closed
   * (what it sent is lost either way; the connection and its slot are freed).
   * 0 waits forever.
   *
   * @default {10000}
   */
  writeTimeout?: number;
  /**
   * Milliseconds a NOTIFY may take to process. When it passes, the ACK goes
   * out with {@linkcode AgentOptions.fallbackActions} and the handler's
   * `AbortSignal` fires. Keep it below HAProxy's `timeout processing`, after
   * which HAProxy ignores the answer (the configuration generator sets that to
   * this plus 10 %, at least 100 ms: 600 ms for the default); 0 disables it.
   *
   * @default {500}
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
   * answers what is left with the fallback actions and closes them (each
   * closing socket may then linger up to 2 s for HAProxy to close its side).
   * Keep it plus 2 s below your service manager's stop timeout: `docker stop`
   * waits 10 s before SIGKILL, Kubernetes 30 s, systemd 90 s.
   *
   * @default {5000}
   */
  shutdownTimeout?: number;
  /**
   * Where the agent reports events; `console` fits, and so do
   * `consoleLogger({ level })` and `jsonLogger()`.
   *
   * @default warnings and errors to `console`
   */
  logger?: Logger;
  /**
   * Milliseconds during which a warning that repeats with load (a deadline
   * missed, a handler failing, a NOTIFY shed, an ACK too big) is only counted:
   * the first is logged, then one line says how many more came. 0 logs every one.
   *
   * @default {10000}
   */
  logRepeatInterval?: number;
}

/** Options with every default filled in. */
export type ResolvedOptions = Required<AgentOptions>;

/** setTimeout() fires at once past 2^31 − 1 ms, so no duration may be longer. */
const MAX_DURATION = 2_147_483_647;

/**
 * The default `processingTimeout`: half a second, well inside what a request
 * can wait on HAProxy's side, and the base of the generated `timeout processing`.
 */
export const DEFAULT_PROCESSING_TIMEOUT = 500;

/** The largest `maxFrameSize`: 16 MiB, far above HAProxy's default 16380. */
export const MAX_FRAME_SIZE_LIMIT = 16 * 1024 * 1024;

function count(
  name: string,
  value: number,
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    const range = maximum === Number.MAX_SAFE_INTEGER
      ? `at least ${minimum}`
      : `from ${minimum} to ${maximum}`;
    throw new RangeError(`Invalid option ${name}: ${value} (must be an integer, ${range})`);
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
    maxFrameSize: count("maxFrameSize", options.maxFrameSize ?? 65532, 256, MAX_FRAME_SIZE_LIMIT),
    fragmentation: options.fragmentation ?? true,
    maxFragmentedSize: count("maxFragmentedSize", options.maxFragmentedSize ?? 1048576, 256),
    maxFragments: count("maxFragments", options.maxFragments ?? 4096, 1),
    helloTimeout: duration("helloTimeout", options.helloTimeout ?? 10000),
    idleTimeout: duration("idleTimeout", options.idleTimeout ?? 0),
    frameTimeout: duration("frameTimeout", options.frameTimeout ?? 10000),
    writeTimeout: duration("writeTimeout", options.writeTimeout ?? 10000),
    processingTimeout: duration(
      "processingTimeout",
      options.processingTimeout ?? DEFAULT_PROCESSING_TIMEOUT,
    ),
    fallbackActions: options.fallbackActions ?? [],
    shutdownTimeout: duration("shutdownTimeout", options.shutdownTimeout ?? 5000),
    logger: options.logger ?? defaultLogger,
    logRepeatInterval: duration("logRepeatInterval", options.logRepeatInterval ?? 10000),
  };
}
