/**
 * SPOP status codes, carried by AGENT-DISCONNECT and HAPROXY-DISCONNECT frames
 * (SPOE.txt §3.5). The message texts are HAProxy's own (`spop_err_reasons` in
 * src/mux_spop.c), which differ slightly from the spec's table.
 *
 * @module
 */

/** The SPOP status codes. Codes 14 to 98 are free for agents to use. */
export const Status = {
  /** Normal end of a connection. */
  Normal: 0,
  /** I/O error. */
  IoError: 1,
  /** A timeout occurred. */
  Timeout: 2,
  /** A frame is larger than the negotiated max-frame-size. */
  FrameTooBig: 3,
  /** A frame could not be decoded. */
  InvalidFrame: 4,
  /** The HELLO frame has no version. */
  NoVersion: 5,
  /** The HELLO frame has no max-frame-size. */
  NoFrameSize: 6,
  /** The HELLO frame has no capabilities. */
  NoCapabilities: 7,
  /** No common protocol version. */
  BadVersion: 8,
  /** max-frame-size is too big or too small. */
  BadFrameSize: 9,
  /** A fragmented frame arrived but fragmentation was not negotiated. */
  FragmentationNotSupported: 10,
  /** Fragments of two different frames were interlaced. */
  InterlacedFrames: 11,
  /** A frame refers to an unknown frame-id. */
  FrameIdNotFound: 12,
  /** Resources could not be allocated. */
  ResourceAllocation: 13,
  /** An unknown error occurred. */
  Unknown: 99,
} as const;

/** One of the SPOP status codes of {@linkcode Status}, or an agent-defined code. */
export type Status = typeof Status[keyof typeof Status];

const MESSAGES: Readonly<Record<number, string>> = {
  0: "normal",
  1: "I/O error",
  2: "a timeout occurred",
  3: "frame is too big",
  4: "invalid frame received",
  5: "version value not found",
  6: "max-frame-size value not found",
  7: "capabilities value not found",
  8: "unsupported version",
  9: "max-frame-size too big or too small",
  10: "fragmentation not supported",
  11: "invalid interlaced frames",
  12: "frame-id not found",
  13: "resource allocation error",
  99: "an unknown error occurred",
};

/**
 * Returns HAProxy's text for a status code.
 *
 * @param status A SPOP status code.
 * @returns HAProxy's message for that code, or `"status N"` for a code it does not name.
 *
 * @example Name a status code
 * ```ts
 * import { Status, statusMessage } from "@spoa/agent";
 * console.log(statusMessage(Status.FrameTooBig)); // frame is too big
 * ```
 */
export function statusMessage(status: number): string {
  return MESSAGES[status] ?? `status ${status}`;
}
