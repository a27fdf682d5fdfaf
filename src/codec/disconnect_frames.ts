/**
 * The two DISCONNECT frames (SPOE.txt §3.2.7, §3.2.8): a KV list with
 * `status-code` and `message`, sent by either side before it closes.
 *
 * @module
 */

import type { ByteWriter } from "./byte_writer.ts";
import { beginFrame, endFrame, FrameFlags, FrameType } from "./frame.ts";
import { decodeKvList, NamedValue, writeKvList } from "./kv_list.ts";
import { DataType } from "./typed_value.ts";

/**
 * The longest `message` of an AGENT-DISCONNECT, in UTF-8 bytes: legacy HAProxy
 * (2.6/3.0, `spoe_handle_agentdiscon_frame`) takes a longer one as an invalid frame.
 */
export const MAX_DISCONNECT_MESSAGE_BYTES = 255;

const encoder = new TextEncoder();

/**
 * Cuts text to at most `maxBytes` bytes of UTF-8, on a character boundary.
 *
 * @param text The text.
 * @param maxBytes The byte budget.
 * @returns The text, or its longest prefix that fits.
 *
 * @example
 * ```ts
 * import { truncateUtf8 } from "@spoa/agent/codec";
 * console.log(JSON.stringify(truncateUtf8("héllo", 2))); // "h"
 * ```
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  // Each UTF-16 code unit is at most 3 bytes of UTF-8, so short text needs no measuring.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = new Uint8Array(maxBytes);
  const { read } = encoder.encodeInto(text, bytes);
  return text.slice(0, read);
}

function writeDisconnect(
  writer: ByteWriter,
  type: number,
  status: number,
  message: string,
): number {
  const start = beginFrame(writer, type, FrameFlags.Fin, 0, 0);
  writeKvList(writer, [
    new NamedValue("status-code", DataType.Uint32, status),
    new NamedValue("message", DataType.String, message),
  ]);
  return endFrame(writer, start);
}

/**
 * Appends an AGENT-DISCONNECT frame. The message is cut to
 * {@linkcode MAX_DISCONNECT_MESSAGE_BYTES} bytes, on a character boundary.
 *
 * @param writer The destination.
 * @param status The SPOP status code (0 for a normal close).
 * @param message Why, for HAProxy's log.
 * @returns The frame length (without the 4-byte prefix).
 *
 * @example
 * ```ts
 * import { ByteWriter, decodeFrame, readDisconnect, writeAgentDisconnect } from "@spoa/agent/codec";
 * const writer = new ByteWriter(512);
 * writeAgentDisconnect(writer, 4, "x".repeat(1000));
 * const frame = decodeFrame(writer.take().subarray(4));
 * console.log(readDisconnect(frame.items ?? []).message.length); // 255
 * ```
 */
export function writeAgentDisconnect(writer: ByteWriter, status: number, message: string): number {
  return writeDisconnect(
    writer,
    FrameType.AgentDisconnect,
    status,
    truncateUtf8(message, MAX_DISCONNECT_MESSAGE_BYTES),
  );
}

/**
 * Appends a HAPROXY-DISCONNECT frame, as HAProxy sends it.
 *
 * @param writer The destination.
 * @param status The SPOP status code.
 * @param message Why.
 * @returns The frame length (without the 4-byte prefix).
 */
export function writeHaproxyDisconnect(
  writer: ByteWriter,
  status: number,
  message: string,
): number {
  return writeDisconnect(writer, FrameType.HaproxyDisconnect, status, message);
}

/** What a DISCONNECT frame says. */
export interface Disconnect {
  /** `status-code` (any integer type is read), or `undefined` if absent. */
  status: number | undefined;
  /** `message`, or `""` if absent. */
  message: string;
}

/**
 * Reads the status and message of a DISCONNECT frame's KV list.
 *
 * @param items The decoded items (`decodeFrame(...).items`).
 * @returns The status and message.
 *
 * @example
 * ```ts
 * import { DataType, NamedValue, readDisconnect } from "@spoa/agent/codec";
 * const said = readDisconnect([new NamedValue("status-code", DataType.Uint32, 2)]);
 * console.log(said.status, JSON.stringify(said.message)); // 2 ""
 * ```
 */
export function readDisconnect(items: readonly NamedValue[]): Disconnect {
  let status: number | undefined;
  let message = "";
  for (const item of items) {
    if (
      item.name === "status-code" && typeof item.value === "number" &&
      item.type >= DataType.Int32 && item.type <= DataType.Uint64
    ) {
      status = item.value;
    } else if (item.name === "message" && typeof item.value === "string") {
      message = item.value;
    }
  }
  return { status, message };
}

/**
 * Decodes the KV list of a DISCONNECT frame (given without its length prefix)
 * and reads it.
 *
 * @param frame The frame bytes.
 * @param payloadOffset Where the payload starts (from `readFrameHeader`).
 * @returns The status and message.
 * @throws {MalformedFrameError} If the KV list is malformed.
 */
export function decodeDisconnect(frame: Uint8Array, payloadOffset: number): Disconnect {
  return readDisconnect(decodeKvList(frame, payloadOffset));
}
