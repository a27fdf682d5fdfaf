/**
 * Reading and writing typed data (SPOE.txt §3.1): one type byte, type id in
 * the low nibble and flags in the high nibble (the boolean value is bit 4,
 * whatever the spec's drawing suggests), then the value.
 *
 * @module
 */

import type { ByteWriter } from "./byte_writer.ts";
import { MalformedFrameError } from "./errors.ts";
import { Ipv4Address, Ipv6Address } from "./ip_address.ts";
import { DataType, dataTypeName, TypedValue } from "./typed_value.ts";
import { readVarint, toSigned64, toUnsigned64, type VarintCursor } from "./varint.ts";

// Names must be valid UTF-8; STRING values need not be: HAProxy passes header and URL bytes as
// they came, and one client's Latin-1 header must not break the connection it shares with others.
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

const NULL_VALUE = new TypedValue(DataType.Null, null);
const TRUE_VALUE = new TypedValue(DataType.Boolean, true);
const FALSE_VALUE = new TypedValue(DataType.Boolean, false);

/**
 * Reads a varint length and checks that many bytes remain.
 *
 * @param bytes The source.
 * @param cursor The read position, advanced past the length.
 * @param end The end of the readable region.
 * @param what What the length is of, for the error message.
 * @returns The length.
 * @throws {MalformedFrameError} If the length is cut short or runs past `end`.
 */
export function readLength(
  bytes: Uint8Array,
  cursor: VarintCursor,
  end: number,
  what: string,
): number {
  const at = cursor.pos;
  const length = readVarint(bytes, cursor, end);
  if (typeof length !== "number" || length > end - cursor.pos) {
    throw new MalformedFrameError(
      `Cannot decode ${what}: length ${length} runs past the end of the frame`,
      at,
    );
  }
  return length;
}

/**
 * Decodes UTF-8 text, with a fast path for short ASCII.
 *
 * @param bytes The source.
 * @param start The first byte.
 * @param end After the last byte.
 * @param lossy Replace invalid sequences with U+FFFD instead of throwing.
 * @returns The text.
 * @throws {MalformedFrameError} If the bytes are not valid UTF-8 and `lossy` is false.
 */
export function decodeText(bytes: Uint8Array, start: number, end: number, lossy = false): string {
  if (end - start <= 32) {
    let text = "";
    let i = start;
    for (; i < end; i++) {
      const code = bytes[i];
      if (code >= 0x80) break;
      text += String.fromCharCode(code);
    }
    if (i === end) return text;
  }
  const view = bytes.subarray(start, end);
  if (lossy) return lossyDecoder.decode(view);
  try {
    return strictDecoder.decode(view);
  } catch (cause) {
    throw new MalformedFrameError(`Cannot decode string: invalid UTF-8 (${cause})`, start);
  }
}

/**
 * Reads a length-prefixed UTF-8 string (a name, or a STRING value's body).
 *
 * @param bytes The source.
 * @param cursor The read position, advanced past the string.
 * @param end The end of the readable region.
 * @param what What the string is, for the error message.
 * @param lossy Replace invalid UTF-8 with U+FFFD (STRING values) instead of throwing (names).
 * @returns The string.
 * @throws {MalformedFrameError} If the string is cut short, or not UTF-8 and `lossy` is false.
 */
export function readString(
  bytes: Uint8Array,
  cursor: VarintCursor,
  end: number,
  what: string,
  lossy = false,
): string {
  const length = readLength(bytes, cursor, end, what);
  const start = cursor.pos;
  cursor.pos = start + length;
  return decodeText(bytes, start, start + length, lossy);
}

function readFixed(
  bytes: Uint8Array,
  cursor: VarintCursor,
  end: number,
  size: number,
  what: string,
) {
  const start = cursor.pos;
  if (end - start < size) {
    throw new MalformedFrameError(`Cannot decode ${what}: needs ${size} bytes`, start);
  }
  cursor.pos = start + size;
  return bytes.subarray(start, start + size);
}

/**
 * Reads one typed value. Binary values and addresses are views into `bytes`.
 *
 * @param bytes The source.
 * @param cursor The read position, advanced past the value.
 * @param end The end of the readable region.
 * @returns The typed value.
 * @throws {MalformedFrameError} On an unknown type id or a value cut short.
 */
export function readTypedValue(bytes: Uint8Array, cursor: VarintCursor, end: number): TypedValue {
  const at = cursor.pos;
  if (at >= end) throw new MalformedFrameError("Cannot decode typed data: no bytes left", at);
  const typeByte = bytes[at];
  cursor.pos = at + 1;
  switch (typeByte & 0x0f) {
    case DataType.Null:
      return NULL_VALUE;
    case DataType.Boolean:
      return (typeByte & 0x10) !== 0 ? TRUE_VALUE : FALSE_VALUE;
    case DataType.Int32:
      return new TypedValue(DataType.Int32, toSigned64(readVarint(bytes, cursor, end)));
    case DataType.Uint32:
      return new TypedValue(DataType.Uint32, readVarint(bytes, cursor, end));
    case DataType.Int64:
      return new TypedValue(DataType.Int64, toSigned64(readVarint(bytes, cursor, end)));
    case DataType.Uint64:
      return new TypedValue(DataType.Uint64, readVarint(bytes, cursor, end));
    case DataType.Ipv4:
      return new TypedValue(
        DataType.Ipv4,
        new Ipv4Address(readFixed(bytes, cursor, end, 4, "IPV4")),
      );
    case DataType.Ipv6:
      return new TypedValue(
        DataType.Ipv6,
        new Ipv6Address(readFixed(bytes, cursor, end, 16, "IPV6")),
      );
    case DataType.String:
      return new TypedValue(DataType.String, readString(bytes, cursor, end, "STRING", true));
    case DataType.Binary: {
      const length = readLength(bytes, cursor, end, "BINARY");
      const start = cursor.pos;
      cursor.pos = start + length;
      return new TypedValue(DataType.Binary, bytes.subarray(start, start + length));
    }
    default:
      throw new MalformedFrameError(
        `Cannot decode typed data: unknown type id ${typeByte & 0x0f} (type byte 0x${
          typeByte.toString(16).padStart(2, "0")
        })`,
        at,
      );
  }
}

function wrongValue(value: TypedValue, expected: string): TypeError {
  return new TypeError(
    `Cannot encode ${dataTypeName(value.type)}: expected ${expected}, got ${typeof value.value}`,
  );
}

function integerOf(value: TypedValue): number | bigint {
  const v = value.value;
  if (typeof v !== "number" && typeof v !== "bigint") throw wrongValue(value, "an integer");
  return v;
}

/**
 * Appends one typed value. Signed integers are written as their 64-bit two's
 * complement, as HAProxy expects (−42 is a 10-byte varint).
 *
 * @param writer The destination.
 * @param value The typed value.
 * @throws {TypeError} If the value does not match its type.
 * @throws {RangeError} If an integer is out of the 64-bit range.
 */
export function writeTypedValue(writer: ByteWriter, value: TypedValue): void {
  const v = value.value;
  switch (value.type) {
    case DataType.Null:
      writer.u8(DataType.Null);
      return;
    case DataType.Boolean:
      if (typeof v !== "boolean") throw wrongValue(value, "a boolean");
      writer.u8(v ? 0x11 : 0x01);
      return;
    case DataType.Int32:
    case DataType.Int64:
      writer.u8(value.type);
      writer.varint(toUnsigned64(integerOf(value)));
      return;
    case DataType.Uint32:
    case DataType.Uint64: {
      const n = integerOf(value);
      if (n < 0) {
        throw new RangeError(`Cannot encode ${dataTypeName(value.type)}: ${n} is negative`);
      }
      writer.u8(value.type);
      writer.varint(n);
      return;
    }
    case DataType.Ipv4:
      if (!(v instanceof Ipv4Address)) throw wrongValue(value, "an Ipv4Address");
      writer.u8(DataType.Ipv4);
      writer.bytes(v.bytes);
      return;
    case DataType.Ipv6:
      if (!(v instanceof Ipv6Address)) throw wrongValue(value, "an Ipv6Address");
      writer.u8(DataType.Ipv6);
      writer.bytes(v.bytes);
      return;
    case DataType.String:
      if (typeof v !== "string") throw wrongValue(value, "a string");
      writer.u8(DataType.String);
      writer.string(v);
      return;
    case DataType.Binary:
      if (!(v instanceof Uint8Array)) throw wrongValue(value, "a Uint8Array");
      writer.u8(DataType.Binary);
      writer.lengthPrefixed(v);
      return;
    default:
      throw new TypeError(`Cannot encode typed data: unknown type id ${value.type}`);
  }
}
