/**
 * The error family of the library. Every protocol failure is a
 * {@linkcode SpopError} carrying the SPOP status code the agent sends in its
 * AGENT-DISCONNECT frame.
 *
 * @module
 */

import { Status, statusMessage } from "./status.ts";

/** Options of {@linkcode SpopError}. */
export interface SpopErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * A SPOP protocol failure. Its {@linkcode SpopError.status} is the status code
 * to send to HAProxy in AGENT-DISCONNECT before closing the connection.
 *
 * @example Catch a protocol error
 * ```ts
 * import { SpopError, Status } from "@spoa/agent";
 * const error = new SpopError(Status.BadVersion, "no common version in \"1.0\"");
 * console.log(error.status, error.message);
 * ```
 */
export class SpopError extends Error {
  /** The SPOP status code (SPOE.txt §3.5). */
  readonly status: number;

  /**
   * Creates an error for a status code.
   *
   * @param status The SPOP status code.
   * @param message What failed and why; defaults to HAProxy's text for the code.
   * @param options The error's cause.
   */
  constructor(status: number, message?: string, options?: SpopErrorOptions) {
    super(message ?? statusMessage(status), options);
    this.name = "SpopError";
    this.status = status;
  }
}

/**
 * A frame that cannot be decoded. {@linkcode MalformedFrameError.offset} is
 * the byte offset in the frame (after the 4-byte length) where decoding failed.
 *
 * @example Report where a frame is broken
 * ```ts
 * import { decodeFrame, MalformedFrameError } from "@spoa/agent/codec";
 * try {
 *   decodeFrame(new Uint8Array([3, 0, 0, 0, 1, 0xff]));
 * } catch (error) {
 *   if (error instanceof MalformedFrameError) console.log(error.offset, error.message);
 * }
 * ```
 */
export class MalformedFrameError extends SpopError {
  /** The byte offset in the frame where decoding failed. */
  readonly offset: number;

  /**
   * Creates an error for a frame that cannot be decoded.
   *
   * @param message What failed and why.
   * @param offset The byte offset in the frame.
   * @param status The status code to report; {@linkcode Status.InvalidFrame} unless given.
   */
  constructor(message: string, offset: number, status: number = Status.InvalidFrame) {
    super(status, `${message} (at byte ${offset})`);
    this.name = "MalformedFrameError";
    this.offset = offset;
  }
}

/**
 * HAProxy closed the connection with a HAPROXY-DISCONNECT frame.
 * {@linkcode SpopError.status} is HAProxy's status code, and
 * {@linkcode PeerDisconnectError.peerMessage} its message.
 *
 * @example Tell a normal close from an error
 * ```ts
 * import { PeerDisconnectError, Status } from "@spoa/agent";
 * const error = new PeerDisconnectError(Status.Normal, "normal");
 * console.log(error.status === Status.Normal);
 * ```
 */
export class PeerDisconnectError extends SpopError {
  /** The message HAProxy sent, as it sent it. */
  readonly peerMessage: string;

  /**
   * Creates an error for a HAPROXY-DISCONNECT frame.
   *
   * @param status HAProxy's status code.
   * @param peerMessage HAProxy's message.
   */
  constructor(status: number, peerMessage: string) {
    super(
      status,
      `HAProxy disconnected: ${peerMessage || statusMessage(status)} (status ${status})`,
    );
    this.name = "PeerDisconnectError";
    this.peerMessage = peerMessage;
  }
}
