/**
 * SPOP frames (SPOE.txt §3.2): a 4-byte big-endian length, then
 * `<type:1><flags:4><stream-id:varint><frame-id:varint><payload>`.
 *
 * Frames here are handled without their length prefix (the frame reader
 * strips it); encoders write it, so their output goes to the socket as is.
 *
 * @module
 */

import { type Action, decodeActions, writeActions } from "./action.ts";
import { ByteWriter } from "./byte_writer.ts";
import { MalformedFrameError } from "./errors.ts";
import { decodeKvList, type NamedValue, writeKvList } from "./kv_list.ts";
import { decodeMessages, type Message, type MessageInit, writeMessages } from "./message.ts";
import type { TypedValue } from "./typed_value.ts";
import { readVarint, type VarintCursor } from "./varint.ts";

/** The frame type ids (SPOE.txt §3.2.2). */
export const FrameType = {
  /** A continuation fragment of a NOTIFY (HAProxy 2.6 and 3.0 only). */
  Unset: 0,
  /** HAProxy's handshake. */
  HaproxyHello: 1,
  /** HAProxy closes the connection. */
  HaproxyDisconnect: 2,
  /** HAProxy sends messages to process. */
  Notify: 3,
  /** The agent's handshake reply. */
  AgentHello: 101,
  /** The agent closes the connection. */
  AgentDisconnect: 102,
  /** The agent's reply to a NOTIFY. */
  Ack: 103,
} as const;

/** One of the frame type ids of {@linkcode FrameType}. */
export type FrameType = typeof FrameType[keyof typeof FrameType];

/** The frame flag bits. */
export const FrameFlags = {
  /** The last (or only) frame of a message. */
  Fin: 0x1,
  /** The fragmented transfer is aborted. */
  Abort: 0x2,
} as const;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "UNSET",
  1: "HAPROXY-HELLO",
  2: "HAPROXY-DISCONNECT",
  3: "NOTIFY",
  101: "AGENT-HELLO",
  102: "AGENT-DISCONNECT",
  103: "ACK",
};

/**
 * Returns the spec's name of a frame type (`"NOTIFY"`, `"AGENT-HELLO"`...).
 *
 * @param type A frame type id.
 * @returns The name, or `"UNKNOWN(n)"`.
 *
 * @example
 * ```ts
 * import { FrameType, frameTypeName } from "@spoa/agent/codec";
 * console.log(frameTypeName(FrameType.Ack)); // ACK
 * ```
 */
export function frameTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `UNKNOWN(${type})`;
}

/** The smallest frame: type, flags and two one-byte ids (SPOE.txt §3.2). */
export const MIN_FRAME_LENGTH = 7;

/** The header of a frame. */
export interface FrameHeader {
  /** The frame type id. */
  type: number;
  /** The flags ({@linkcode FrameFlags}). */
  flags: number;
  /** The stream-id. */
  streamId: number;
  /** The frame-id. */
  frameId: number;
  /** Where the payload starts in the frame. */
  payloadOffset: number;
}

function readId(frame: Uint8Array, cursor: VarintCursor, what: string): number {
  const at = cursor.pos;
  const id = readVarint(frame, cursor);
  if (typeof id !== "number") {
    throw new MalformedFrameError(`Cannot decode frame: ${what} ${id} is above 2^53`, at);
  }
  return id;
}

/** readFrameHeader()'s read position: reused, as the header is, so that a frame costs no allocation. */
const headerCursor: VarintCursor = { pos: 0 };

/**
 * Decodes the header of a frame (given without its length prefix) into
 * `header`, to avoid an allocation per frame.
 *
 * @param frame The frame bytes, without the 4-byte length.
 * @param header Where to store the result.
 * @returns `header`.
 * @throws {MalformedFrameError} If the frame is shorter than a header.
 */
export function readFrameHeader(frame: Uint8Array, header: FrameHeader): FrameHeader {
  if (frame.length < MIN_FRAME_LENGTH) {
    throw new MalformedFrameError(
      `Cannot decode frame: ${frame.length} bytes is shorter than the ${MIN_FRAME_LENGTH}-byte minimum`,
      0,
    );
  }
  header.type = frame[0];
  header.flags = ((frame[1] << 24) | (frame[2] << 16) | (frame[3] << 8) | frame[4]) >>> 0;
  const cursor = headerCursor;
  cursor.pos = 5;
  header.streamId = readId(frame, cursor, "stream-id");
  header.frameId = readId(frame, cursor, "frame-id");
  header.payloadOffset = cursor.pos;
  return header;
}

/** A decoded frame. The payload is also decoded for the types whose payload is known. */
export interface Frame {
  /** The frame type id ({@linkcode FrameType}; unknown ids are kept). */
  type: number;
  /** The flags ({@linkcode FrameFlags}). */
  flags: number;
  /** The stream-id. */
  streamId: number;
  /** The frame-id. */
  frameId: number;
  /** The raw payload (a view into the frame). */
  payload: Uint8Array;
  /** The KV list of a HELLO or DISCONNECT frame. */
  items?: NamedValue[];
  /** The messages of a NOTIFY frame with FIN (a fragment's payload is only raw). */
  messages?: Message[];
  /** The actions of an ACK frame. */
  actions?: Action[];
}

/**
 * Decodes a frame given without its 4-byte length prefix.
 *
 * @param frame The frame bytes.
 * @returns The frame, with its payload decoded when the type says how.
 * @throws {MalformedFrameError} If the frame is malformed; `offset` says where.
 *
 * @example
 * ```ts
 * import { decodeFrame, encodeFrame, FrameType } from "@spoa/agent/codec";
 * const bytes = encodeFrame({ type: FrameType.Ack, streamId: 1, frameId: 1, actions: [] });
 * console.log(decodeFrame(bytes.subarray(4)).streamId); // 1
 * ```
 */
export function decodeFrame(frame: Uint8Array): Frame {
  const header = readFrameHeader(frame, {
    type: 0,
    flags: 0,
    streamId: 0,
    frameId: 0,
    payloadOffset: 0,
  });
  const start = header.payloadOffset;
  const out: Frame = {
    type: header.type,
    flags: header.flags,
    streamId: header.streamId,
    frameId: header.frameId,
    payload: frame.subarray(start),
  };
  switch (header.type) {
    case FrameType.HaproxyHello:
    case FrameType.HaproxyDisconnect:
    case FrameType.AgentHello:
    case FrameType.AgentDisconnect:
      out.items = decodeKvList(frame, start);
      break;
    case FrameType.Notify:
      if (header.flags & FrameFlags.Fin) out.messages = decodeMessages(frame, start);
      break;
    case FrameType.Ack:
      out.actions = decodeActions(frame, start);
      break;
  }
  return out;
}

/** A frame to encode; the payload comes from the first of `items`, `messages`, `actions`, `payload` given. */
export interface FrameInit {
  /** The frame type id. */
  type: number;
  /** The flags; defaults to FIN. */
  flags?: number;
  /** The stream-id; defaults to 0. */
  streamId?: number;
  /** The frame-id; defaults to 0. */
  frameId?: number;
  /** A KV list payload. */
  items?: Iterable<{ readonly name: string } & TypedValue>;
  /** A list of messages payload. */
  messages?: Iterable<MessageInit>;
  /** A list of actions payload. */
  actions?: Iterable<Action>;
  /** A raw payload. */
  payload?: Uint8Array;
}

/**
 * Starts a frame: reserves the 4-byte length and writes the header.
 *
 * @param writer The destination.
 * @param type The frame type id.
 * @param flags The flags.
 * @param streamId The stream-id.
 * @param frameId The frame-id.
 * @returns The offset of the length, for {@linkcode endFrame}.
 */
export function beginFrame(
  writer: ByteWriter,
  type: number,
  flags: number,
  streamId: number,
  frameId: number,
): number {
  const start = writer.length;
  writer.u32(0);
  writer.u8(type);
  writer.u32(flags);
  writer.varint(streamId);
  writer.varint(frameId);
  return start;
}

/**
 * Ends a frame: writes its length, now known, in front of it.
 *
 * @param writer The destination.
 * @param start The offset {@linkcode beginFrame} returned.
 * @returns The frame length (without the 4-byte prefix).
 */
export function endFrame(writer: ByteWriter, start: number): number {
  const length = writer.length - start - 4;
  writer.patchU32(start, length);
  return length;
}

/**
 * Appends one whole frame, length prefix included.
 *
 * @param writer The destination.
 * @param init The frame.
 * @returns The frame length (without the 4-byte prefix).
 */
export function writeFrame(writer: ByteWriter, init: FrameInit): number {
  const start = beginFrame(
    writer,
    init.type,
    init.flags ?? FrameFlags.Fin,
    init.streamId ?? 0,
    init.frameId ?? 0,
  );
  if (init.items) writeKvList(writer, init.items);
  else if (init.messages) writeMessages(writer, init.messages);
  else if (init.actions) writeActions(writer, init.actions);
  else if (init.payload) writer.bytes(init.payload);
  return endFrame(writer, start);
}

/**
 * Encodes one frame, length prefix included, as one contiguous array.
 *
 * @param init The frame.
 * @returns The bytes to send.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameType, setVar } from "@spoa/agent/codec";
 * const ack = encodeFrame({
 *   type: FrameType.Ack, streamId: 1, frameId: 1, actions: [setVar("sess", "score", 7)],
 * });
 * console.log(ack.length); // 22
 * ```
 */
export function encodeFrame(init: FrameInit): Uint8Array {
  const writer = new ByteWriter(256);
  writeFrame(writer, init);
  return writer.take();
}
