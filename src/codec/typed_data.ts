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
import { DataType, dataTypeName, type SpopValue, TypedValue } from "./typed_value.ts";
import { readVarint, toSigned64, toUnsigned64, type VarintCursor } from "./varint.ts";

// Names must be valid UTF-8; STRING values need not be: HAProxy passes header and URL bytes as
// they came, and one client's Latin-1 header must not break the connection it shares with others.
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lossyDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The error for a type id SPOP does not have.
 *
 * @param type The type id (low 4 bits of the type byte).
 * @param typeByte The whole type byte.
 * @param at Its offset.
 * @returns The error to throw.
 */
export function unknownType(type: number, typeByte: number, at: number): MalformedFrameError {
  return new MalformedFrameError(
    `Cannot decode typed data: unknown type id ${type} (type byte 0x${
      typeByte.toString(16).padStart(2, "0")
    })`,
    at,
  );
}

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
  } catch {
    // Not the decoder's own text: it differs between runtimes, and it reaches HAProxy.
    throw new MalformedFrameError("Cannot decode string: invalid UTF-8", start);
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

/** Reads a fixed-size value as a copy: an address kept by a handler must not pin the frame. */
function copyFixed(
  bytes: Uint8Array,
  cursor: VarintCursor,
  end: number,
  size: number,
  what: string,
): Uint8Array {
  const start = cursor.pos;
  if (end - start < size) {
    throw new MalformedFrameError(`Cannot decode ${what}: needs ${size} bytes`, start);
  }
  cursor.pos = start + size;
  return bytes.slice(start, start + size);
}

/** A read position that also reports the type of the last value read. */
export interface ValueCursor extends VarintCursor {
  /** The SPOP type of the value {@linkcode readValue} returned last. */
  type: DataType;
}

/**
 * Reads one typed value without wrapping it: the value is returned and its
 * type left in `cursor.type`, so callers build their own object (a
 * {@linkcode NamedValue} per argument) with no intermediate allocation.
 * Binary values are views into `bytes`; addresses are copies (4 or 16 bytes).
 *
 * @param bytes The source.
 * @param cursor The read position, advanced past the value; receives the type.
 * @param end The end of the readable region.
 * @returns The value.
 * @throws {MalformedFrameError} On an unknown type id or a value cut short.
 */
export function readValue(bytes: Uint8Array, cursor: ValueCursor, end: number): SpopValue {
  const at = cursor.pos;
  if (at >= end) throw new MalformedFrameError("Cannot decode typed data: no bytes left", at);
  const typeByte = bytes[at];
  const type = typeByte & 0x0f;
  cursor.pos = at + 1;
  switch (type) {
    case DataType.Null:
      cursor.type = DataType.Null;
      return null;
    case DataType.Boolean:
      cursor.type = DataType.Boolean;
      return (typeByte & 0x10) !== 0;
    case DataType.Int32:
    case DataType.Int64:
      cursor.type = type;
      return toSigned64(readVarint(bytes, cursor, end));
    case DataType.Uint32:
    case DataType.Uint64:
      cursor.type = type;
      return readVarint(bytes, cursor, end);
    case DataType.Ipv4:
      cursor.type = DataType.Ipv4;
      return new Ipv4Address(copyFixed(bytes, cursor, end, 4, "IPV4"));
    case DataType.Ipv6:
      cursor.type = DataType.Ipv6;
      return new Ipv6Address(copyFixed(bytes, cursor, end, 16, "IPV6"));
    case DataType.String:
      cursor.type = DataType.String;
      return readString(bytes, cursor, end, "STRING", true);
    case DataType.Binary: {
      cursor.type = DataType.Binary;
      const length = readLength(bytes, cursor, end, "BINARY");
      const start = cursor.pos;
      cursor.pos = start + length;
      return bytes.subarray(start, start + length);
    }
    default:
      throw unknownType(type, typeByte, at);
  }
}

/**
 * Reads one typed value. Binary values are views into `bytes`; addresses are copies.
 *
 * @param bytes The source.
 * @param cursor The read position, advanced past the value.
 * @param end The end of the readable region.
 * @returns The typed value.
 * @throws {MalformedFrameError} On an unknown type id or a value cut short.
 */
export function readTypedValue(bytes: Uint8Array, cursor: VarintCursor, end: number): TypedValue {
  const valueCursor: ValueCursor = { pos: cursor.pos, type: DataType.Null };
  const value = readValue(bytes, valueCursor, end);
  cursor.pos = valueCursor.pos;
  return new TypedValue(valueCursor.type, value);
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
