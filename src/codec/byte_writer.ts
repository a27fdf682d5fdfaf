/**
 * A growable output buffer with one reused `DataView`, in which whole frames
 * are encoded back to back.
 *
 * @module
 */

import { varintLength, writeVarint } from "./varint.ts";

const encoder = new TextEncoder();

/**
 * Appends bytes, varints and strings to one growable buffer.
 *
 * @example
 * ```ts
 * import { ByteWriter } from "@spoa/agent/codec";
 * const writer = new ByteWriter(64);
 * writer.varint(16380);
 * writer.string("héllo");
 * console.log(writer.take().join(" ")); // 252 240 6 6 104 195 169 108 108 111
 * ```
 */
export class ByteWriter {
  #bytes: Uint8Array;
  #view: DataView;
  /** The number of bytes written so far. */
  length = 0;

  /**
   * Creates a writer.
   *
   * @param capacity The initial buffer size in bytes; it doubles as needed.
   */
  constructor(capacity = 16384) {
    this.#bytes = new Uint8Array(capacity);
    this.#view = new DataView(this.#bytes.buffer);
  }

  /**
   * Makes room for `count` more bytes.
   *
   * @param count The number of bytes about to be written.
   */
  reserve(count: number): void {
    const needed = this.length + count;
    if (needed <= this.#bytes.length) return;
    let capacity = Math.max(this.#bytes.length * 2, 64);
    while (capacity < needed) capacity *= 2;
    const bytes = new Uint8Array(capacity);
    bytes.set(this.#bytes.subarray(0, this.length));
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer);
  }

  /**
   * Appends one byte.
   *
   * @param value A byte value.
   */
  u8(value: number): void {
    this.reserve(1);
    this.#bytes[this.length++] = value;
  }

  /**
   * Appends a big-endian 32-bit unsigned integer.
   *
   * @param value The integer.
   */
  u32(value: number): void {
    this.reserve(4);
    this.#view.setUint32(this.length, value);
    this.length += 4;
  }

  /**
   * Writes a big-endian 32-bit unsigned integer at an earlier offset.
   *
   * @param offset Where to write.
   * @param value The integer.
   */
  patchU32(offset: number, value: number): void {
    this.#view.setUint32(offset, value);
  }

  /**
   * Appends a varint.
   *
   * @param value An unsigned integer below 2^64.
   */
  varint(value: number | bigint): void {
    this.reserve(10);
    this.length = writeVarint(this.#bytes, this.length, value);
  }

  /**
   * Appends raw bytes.
   *
   * @param bytes The bytes.
   */
  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.#bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * Appends a varint length and the bytes.
   *
   * @param bytes The bytes.
   */
  lengthPrefixed(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.bytes(bytes);
  }

  /**
   * Appends a varint length and the UTF-8 encoding of a string.
   *
   * @param text The string.
   */
  string(text: string): void {
    const count = text.length;
    if (count < 240) {
      // Short ASCII strings (names, most values) are copied by hand: faster than encodeInto.
      this.reserve(count + 1);
      const bytes = this.#bytes;
      let pos = this.length + 1;
      let i = 0;
      for (; i < count; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) break;
        bytes[pos++] = code;
      }
      if (i === count) {
        bytes[this.length] = count;
        this.length = pos;
        return;
      }
    }
    const maximum = count * 3;
    const reserved = varintLength(maximum);
    this.reserve(reserved + maximum);
    const bytes = this.#bytes;
    const start = this.length + reserved;
    const { written } = encoder.encodeInto(text, bytes.subarray(start));
    const needed = varintLength(written);
    if (needed !== reserved) bytes.copyWithin(this.length + needed, start, start + written);
    this.length = writeVarint(bytes, this.length, written) + written;
  }

  /** The size of the buffer, in bytes: it grows as needed and never shrinks. */
  get capacity(): number {
    return this.#bytes.length;
  }

  /**
   * Returns a copy of everything written and empties the writer, keeping its buffer.
   *
   * @returns The bytes written since the last `take()` or `truncate(0)`.
   */
  take(): Uint8Array {
    const out = this.#bytes.slice(0, this.length);
    this.length = 0;
    return out;
  }

  /**
   * Returns a view of everything written (valid until the next write) without emptying.
   *
   * @returns A view of the bytes written.
   */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.length);
  }

  /**
   * Forgets everything written after `length` bytes.
   *
   * @param length The length to go back to; 0 empties the writer.
   */
  truncate(length = 0): void {
    this.length = length;
  }
}
