/**
 * NOTIFY and ACK frames (SPOE.txt §3.2.6, §3.2.9): HAProxy's messages and the
 * agent's actions for one stream-id and frame-id.
 *
 * @module
 */

import { type Action, writeActions } from "./action.ts";
import type { ByteWriter } from "./byte_writer.ts";
import { beginFrame, endFrame, FrameFlags, FrameType } from "./frame.ts";
import { type MessageInit, writeMessages } from "./message.ts";

/**
 * Appends a NOTIFY frame.
 *
 * @param writer The destination.
 * @param streamId The stream-id.
 * @param frameId The frame-id.
 * @param messages The messages.
 * @param flags The flags: FIN for a whole NOTIFY, 0 for the first fragment.
 * @returns The frame length (without the 4-byte prefix).
 * @throws {RangeError} If a message has more than 255 arguments.
 */
export function writeNotify(
  writer: ByteWriter,
  streamId: number,
  frameId: number,
  messages: Iterable<MessageInit>,
  flags: number = FrameFlags.Fin,
): number {
  const start = beginFrame(writer, FrameType.Notify, flags, streamId, frameId);
  writeMessages(writer, messages);
  return endFrame(writer, start);
}

/**
 * Appends an ACK frame (always with FIN: HAProxy takes no fragmented ACK).
 *
 * @param writer The destination.
 * @param streamId The NOTIFY's stream-id.
 * @param frameId The NOTIFY's frame-id.
 * @param actions The actions.
 * @param maxLength Stop encoding once the frame is longer than this (the
 *   returned length then tells it is too big); no limit by default.
 * @returns The frame length (without the 4-byte prefix).
 * @throws {TypeError} If an action's value does not match its type.
 *
 * @example
 * ```ts
 * import { ByteWriter, setVar, writeAck } from "@spoa/agent/codec";
 * const writer = new ByteWriter(64);
 * console.log(writeAck(writer, 1, 1, [setVar("sess", "score", 7)])); // 18
 * ```
 */
export function writeAck(
  writer: ByteWriter,
  streamId: number,
  frameId: number,
  actions: Iterable<Action>,
  maxLength = Infinity,
): number {
  const start = beginFrame(writer, FrameType.Ack, FrameFlags.Fin, streamId, frameId);
  writeActions(writer, actions, start + 4 + maxLength);
  return endFrame(writer, start);
}
