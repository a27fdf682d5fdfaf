/**
 * KV lists (SPOE.txt §3.2.4): the payload of HELLO and DISCONNECT frames, a
 * run of `<name><typed-data>` items up to the end of the frame, and the
 * {@linkcode NamedValue} they decode to (message arguments use it too).
 *
 * @module
 */

import type { ByteWriter } from "./byte_writer.ts";
import { readString, readValue, type ValueCursor, writeTypedValue } from "./typed_data.ts";
import { DataType, type SpopValue, TypedValue } from "./typed_value.ts";

/**
 * A typed value with a name: a KV-list item or a message argument. A message
 * argument declared without a name in HAProxy has the empty name `""`.
 *
 * @example
 * ```ts
 * import { NamedValue, DataType } from "@spoa/agent";
 * const item = new NamedValue("max-frame-size", DataType.Uint32, 16380);
 * console.log(item.name, item.value); // max-frame-size 16380
 * ```
 */
export class NamedValue extends TypedValue {
  /** The name; `""` for a nameless argument. */
  readonly name: string;

  /**
   * Creates a named value without checking the value against the type.
   *
   * @param name The name.
   * @param type The SPOP data type.
   * @param value The value.
   */
  constructor(name: string, type: DataType, value: SpopValue) {
    super(type, value);
    this.name = name;
  }
}

/**
 * Decodes a KV list.
 *
 * @param bytes The frame (or any buffer holding the list).
 * @param start Where the list starts.
 * @param end Where the list ends.
 * @returns The items in order.
 * @throws {MalformedFrameError} If an item is cut short or of an unknown type.
 *
 * @example
 * ```ts
 * import { decodeKvList } from "@spoa/agent/codec";
 * const bytes = new Uint8Array([7, ...new TextEncoder().encode("version"), 8, 3, 50, 46, 48]);
 * console.log(decodeKvList(bytes)[0].value); // 2.0
 * ```
 */
export function decodeKvList(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
): NamedValue[] {
  const cursor: ValueCursor = { pos: start, type: DataType.Null };
  const items: NamedValue[] = [];
  while (cursor.pos < end) {
    const name = readString(bytes, cursor, end, "KV name");
    const value = readValue(bytes, cursor, end);
    items.push(new NamedValue(name, cursor.type, value));
  }
  return items;
}

/**
 * Appends a KV list.
 *
 * @param writer The destination.
 * @param items The items, each a name and a typed value.
 */
export function writeKvList(
  writer: ByteWriter,
  items: Iterable<{ readonly name: string } & TypedValue>,
): void {
  for (const item of items) {
    writer.string(item.name);
    writeTypedValue(writer, item);
  }
}
