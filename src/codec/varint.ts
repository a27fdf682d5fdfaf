/**
 * HAProxy's variable-length integer encoding (SPOE.txt §3.1; `encode_varint`
 * in include/haproxy/intops.h), over the full unsigned 64-bit range.
 *
 * A value below 240 is one byte. Otherwise the first byte holds the low four
 * bits with the top four set, and each following byte seven more bits, with
 * the high bit set on all but the last. The encoder subtracts 240 and then 128
 * at each step because the decoder adds the raw bytes back, flag bits included.
 *
 * @module
 */

import { MalformedFrameError } from "./errors.ts";

/** The largest value a varint carries: 2^64 − 1. */
export const MAX_VARINT: bigint = 0xffff_ffff_ffff_ffffn;

/** The longest varint in bytes (a value of 2^60 or more). */
export const MAX_VARINT_BYTES = 10;

/**
 * Returns how many bytes the varint encoding of a value takes.
 *
 * @param value An unsigned integer below 2^64.
 * @returns The encoded length, 1 to 10.
 *
 * @example
 * ```ts
 * import { varintLength } from "./varint.ts";
 * console.log(varintLength(239), varintLength(240)); // 1 2
 * ```
 */
export function varintLength(value: number | bigint): number {
  if (typeof value === "number") {
    if (value < 240) return 1;
    let length = 2;
    let v = Math.floor((value - 240) / 16);
    while (v >= 128) {
      length++;
      v = Math.floor((v - 128) / 128);
    }
    return length;
  }
  if (value < 240n) return 1;
  let length = 2;
  let v = (value - 240n) >> 4n;
  while (v >= 128n) {
    length++;
    v = (v - 128n) >> 7n;
  }
  return length;
}

/**
 * Writes the varint encoding of an unsigned integer at `offset` in `bytes`.
 * The caller makes sure there is room ({@linkcode varintLength}).
 *
 * @param bytes The destination.
 * @param offset Where to write.
 * @param value An unsigned integer: a `number` up to 2^53 − 1 or a `bigint` up to 2^64 − 1.
 * @returns The offset after the last byte written.
 * @throws {RangeError} If the value is negative, not an integer, or too large.
 *
 * @example
 * ```ts
 * import { writeVarint } from "./varint.ts";
 * const bytes = new Uint8Array(10);
 * const end = writeVarint(bytes, 0, 16380);
 * console.log(bytes.subarray(0, end)); // Uint8Array(3) [ 252, 240, 6 ]
 * ```
 */
export function writeVarint(bytes: Uint8Array, offset: number, value: number | bigint): number {
  if (typeof value === "number") {
    if (value < 240 && value >= 0 && Number.isInteger(value)) {
      bytes[offset] = value;
      return offset + 1;
    }
    if (!Number.isSafeInteger(value) || value < 0) {
      if (Number.isInteger(value) && value > 0) return writeVarint(bytes, offset, BigInt(value));
      throw new RangeError(`Cannot encode varint: ${value} is not an unsigned integer`);
    }
    bytes[offset++] = (value % 256) | 0xf0;
    let v = Math.floor((value - 240) / 16);
    while (v >= 128) {
      bytes[offset++] = (v % 256) | 0x80;
      v = Math.floor((v - 128) / 128);
    }
    bytes[offset++] = v;
    return offset;
  }
  if (value < 0n || value > MAX_VARINT) {
    throw new RangeError(`Cannot encode varint: ${value} is outside 0 to 2^64-1`);
  }
  if (value < 240n) {
    bytes[offset] = Number(value);
    return offset + 1;
  }
  bytes[offset++] = Number(value & 0xffn) | 0xf0;
  let v = (value - 240n) >> 4n;
  while (v >= 128n) {
    bytes[offset++] = Number(v & 0xffn) | 0x80;
    v = (v - 128n) >> 7n;
  }
  bytes[offset++] = Number(v);
  return offset;
}

/**
 * Encodes an unsigned integer as a varint.
 *
 * @param value An unsigned integer: a `number` up to 2^53 − 1 or a `bigint` up to 2^64 − 1.
 * @returns The encoded bytes.
 * @throws {RangeError} If the value is negative, not an integer, or too large.
 *
 * @example
 * ```ts
 * import { encodeVarint } from "./varint.ts";
 * console.log(encodeVarint(2288)); // Uint8Array(3) [ 240, 128, 0 ]
 * ```
 */
export function encodeVarint(value: number | bigint): Uint8Array {
  const bytes = new Uint8Array(MAX_VARINT_BYTES);
  return bytes.subarray(0, writeVarint(bytes, 0, value));
}

/** Where {@linkcode readVarint} leaves its results, to avoid an allocation per call. */
export interface VarintCursor {
  /** The next byte to read; advanced past the varint. */
  pos: number;
}

/**
 * Reads one varint from `bytes` at `cursor.pos` and advances the cursor.
 * Values up to 2^53 − 1 come back as `number`, larger ones as `bigint`.
 *
 * @param bytes The source.
 * @param cursor The read position, advanced past the varint.
 * @param end The end of the readable region (defaults to `bytes.length`).
 * @returns The decoded unsigned value.
 * @throws {MalformedFrameError} If the varint is cut short or longer than 10 bytes.
 *
 * @example
 * ```ts
 * import { readVarint } from "./varint.ts";
 * const cursor = { pos: 0 };
 * console.log(readVarint(new Uint8Array([0xfc, 0xf0, 0x06]), cursor), cursor.pos); // 16380 3
 * ```
 */
export function readVarint(
  bytes: Uint8Array,
  cursor: VarintCursor,
  end: number = bytes.length,
): number | bigint {
  let pos = cursor.pos;
  if (pos >= end) throw new MalformedFrameError("Cannot decode varint: no bytes left", pos);
  let value = bytes[pos++];
  if (value < 240) {
    cursor.pos = pos;
    return value;
  }
  // Seven bytes never reach 2^53, so a plain number stays exact up to there.
  let multiplier = 16;
  for (let count = 1; count < 7; count++) {
    if (pos >= end) throw new MalformedFrameError("Cannot decode varint: cut short", pos);
    const byte = bytes[pos++];
    value += byte * multiplier;
    if (byte < 128) {
      cursor.pos = pos;
      return value;
    }
    multiplier *= 128;
  }
  let big = BigInt(value);
  let shift = 46n;
  for (let count = 7; count < MAX_VARINT_BYTES; count++) {
    if (pos >= end) throw new MalformedFrameError("Cannot decode varint: cut short", pos);
    const byte = bytes[pos++];
    big += BigInt(byte) << shift;
    if (byte < 128) {
      if (big > MAX_VARINT) {
        throw new MalformedFrameError("Cannot decode varint: value exceeds 2^64-1", cursor.pos);
      }
      cursor.pos = pos;
      return big <= 9007199254740991n ? Number(big) : big;
    }
    shift += 7n;
  }
  throw new MalformedFrameError("Cannot decode varint: longer than 10 bytes", cursor.pos);
}

/**
 * Decodes one varint at `offset`.
 *
 * @param bytes The source.
 * @param offset Where the varint starts.
 * @returns The value (`number` up to 2^53 − 1, `bigint` above) and the offset after it.
 * @throws {MalformedFrameError} If the varint is cut short or longer than 10 bytes.
 *
 * @example
 * ```ts
 * import { decodeVarint } from "./varint.ts";
 * console.log(decodeVarint(new Uint8Array([0xf0, 0x80, 0x00]))); // [ 2288, 3 ]
 * ```
 */
export function decodeVarint(bytes: Uint8Array, offset = 0): [number | bigint, number] {
  const cursor = { pos: offset };
  const value = readVarint(bytes, cursor);
  return [value, cursor.pos];
}

/**
 * Reinterprets an unsigned 64-bit varint value as a signed 64-bit integer, as
 * HAProxy does for every integer type. Returns a `number` when exact.
 *
 * @param raw An unsigned value below 2^64.
 * @returns The signed value.
 *
 * @example
 * ```ts
 * import { toSigned64 } from "./varint.ts";
 * console.log(toSigned64(0xffff_ffff_ffff_ffffn)); // -1
 * ```
 */
export function toSigned64(raw: number | bigint): number | bigint {
  if (typeof raw === "number") return raw;
  if (raw < 0x8000_0000_0000_0000n) return raw <= 9007199254740991n ? Number(raw) : raw;
  const signed = raw - 0x1_0000_0000_0000_0000n;
  return signed >= -9007199254740991n ? Number(signed) : signed;
}

/**
 * Reinterprets a signed 64-bit integer as the unsigned value HAProxy puts on
 * the wire (two's complement, so −1 becomes 2^64 − 1).
 *
 * @param value An integer from −2^63 to 2^64 − 1.
 * @returns The unsigned value to encode.
 * @throws {RangeError} If the value is not an integer or out of range.
 *
 * @example
 * ```ts
 * import { toUnsigned64 } from "./varint.ts";
 * console.log(toUnsigned64(-42)); // 18446744073709551574n
 * ```
 */
export function toUnsigned64(value: number | bigint): number | bigint {
  if (typeof value === "number") {
    if (value >= 0) {
      if (Number.isSafeInteger(value)) return value;
      if (!Number.isInteger(value) || value >= 2 ** 64) {
        throw new RangeError(`Cannot encode integer: ${value} is not an exact 64-bit integer`);
      }
      return BigInt(value);
    }
    if (!Number.isInteger(value) || value < -9223372036854775808) {
      throw new RangeError(`Cannot encode integer: ${value} is not a 64-bit integer`);
    }
    return BigInt.asUintN(64, BigInt(value));
  }
  if (value < -0x8000_0000_0000_0000n || value > MAX_VARINT) {
    throw new RangeError(`Cannot encode integer: ${value} is outside -2^63 to 2^64-1`);
  }
  return value < 0n ? BigInt.asUintN(64, value) : value;
}
