/**
 * A growable output buffer with one reused `DataView`, in which whole frames
 * are encoded back to back.
 *
 * @module
 */

import { varintLength, writeVarint } from "./varint.ts";

const encoder = new TextEncoder();

/** The largest buffer a writer moves on to when frames it handed out filled the current one. */
const SLAB_MAX = 64 * 1024;

/**
 * Appends bytes, varints and strings to a growable buffer, and hands them out
 * without copying: `take()` returns a view of what was written since the last
 * `take()`, and later writes go after it in the same buffer (or a new one), so
 * a view handed out is not written to again until `release()` says that every
 * view handed out is done with. Positions (`length`,
 * `truncate()`, `patchU32()`) count from the last `take()`.
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
  /** Where the bytes not taken yet start in the buffer. */
  #base = 0;
  /** The number of bytes written since the last `take()`. */
  length = 0;

  /**
   * Creates a writer.
   *
   * @param capacity The initial buffer size in bytes; it grows as needed.
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
    if (this.#base + needed <= this.#bytes.length) return;
    // A new buffer: larger when frames handed out filled this one (up to 64 KiB), and large
    // enough for what is being written. What was handed out stays where it is.
    let capacity = Math.max(this.#bytes.length, 64);
    if (this.#base > 0 && capacity < SLAB_MAX) capacity = Math.min(capacity * 2, SLAB_MAX);
    while (capacity < needed) capacity *= 2;
    const bytes = new Uint8Array(capacity);
    bytes.set(this.#bytes.subarray(this.#base, this.#base + this.length));
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer);
    this.#base = 0;
  }

  /**
   * Appends one byte.
   *
   * @param value A byte value.
   */
  u8(value: number): void {
    this.reserve(1);
    this.#bytes[this.#base + this.length++] = value;
  }

  /**
   * Appends a big-endian 32-bit unsigned integer.
   *
   * @param value The integer.
   */
  u32(value: number): void {
    this.reserve(4);
    this.#view.setUint32(this.#base + this.length, value);
    this.length += 4;
  }

  /**
   * Writes a big-endian 32-bit unsigned integer at an earlier position.
   *
   * @param offset Where to write, counted from the last `take()`.
   * @param value The integer.
   */
  patchU32(offset: number, value: number): void {
    this.#view.setUint32(this.#base + offset, value);
  }

  /**
   * Appends a varint.
   *
   * @param value An unsigned integer below 2^64.
   */
  varint(value: number | bigint): void {
    this.reserve(10);
    const base = this.#base;
    this.length = writeVarint(this.#bytes, base + this.length, value) - base;
  }

  /**
   * Appends raw bytes.
   *
   * @param bytes The bytes.
   */
  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.#bytes.set(bytes, this.#base + this.length);
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
      const at = this.#base + this.length;
      let pos = at + 1;
      let i = 0;
      for (; i < count; i++) {
        const code = text.charCodeAt(i);
        if (code >= 0x80) break;
        bytes[pos++] = code;
      }
      if (i === count) {
        bytes[at] = count;
        this.length = pos - this.#base;
        return;
      }
    }
    const maximum = count * 3;
    const reserved = varintLength(maximum);
    this.reserve(reserved + maximum);
    const bytes = this.#bytes;
    const at = this.#base + this.length;
    const start = at + reserved;
    const { written } = encoder.encodeInto(text, bytes.subarray(start));
    const needed = varintLength(written);
    if (needed !== reserved) bytes.copyWithin(at + needed, start, start + written);
    this.length = writeVarint(bytes, at, written) + written - this.#base;
  }

  /** The size of the current buffer, in bytes. */
  get capacity(): number {
    return this.#bytes.length;
  }

  /**
   * Returns what was written since the last `take()`, without copying it, and
   * empties the writer. The bytes returned are never written to again.
   *
   * @returns The bytes.
   */
  take(): Uint8Array {
    const start = this.#base;
    const out = this.#bytes.subarray(start, start + this.length);
    this.#base = start + this.length;
    this.length = 0;
    return out;
  }

  /**
   * Returns a view of what was written since the last `take()` (valid until
   * the next write) without emptying.
   *
   * @returns A view of the bytes written.
   */
  view(): Uint8Array {
    return this.#bytes.subarray(this.#base, this.#base + this.length);
  }

  /**
   * Declares every view that `take()` returned unused from now on, so that the
   * buffer is written again from its start (no new buffer as long as it is
   * large enough). What was written since the last `take()` is kept: it moves
   * to the start. Call it only once whatever the views went to is done with
   * them (a socket that sent them).
   */
  release(): void {
    const base = this.#base;
    if (base === 0) return;
    if (this.length > 0) this.#bytes.copyWithin(0, base, base + this.length);
    this.#base = 0;
  }

  /**
   * Forgets everything written after `length` bytes (since the last `take()`).
   *
   * @param length The length to go back to; 0 empties the writer.
   */
  truncate(length = 0): void {
    this.length = length;
  }
}
