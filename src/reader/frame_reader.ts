/**
 * The streaming frame reader: a synchronous state machine that cuts a byte
 * stream into frames. It is fed chunks of any size and split, and hands out
 * whole frames without their 4-byte length prefix.
 *
 * A frame that lies wholly inside one chunk comes out as a zero-copy view of
 * that chunk; a frame spread over several chunks is assembled into a buffer
 * that grows as its bytes arrive (up to exactly its size), so a peer that
 * announces a large frame and sends little makes the reader hold little. The
 * length is checked before anything is buffered, so a 4 GiB length allocates
 * nothing.
 *
 * @module
 */

import { MalformedFrameError, SpopError } from "../codec/errors.ts";
import { MIN_FRAME_LENGTH } from "../codec/frame.ts";
import { Status } from "../codec/status.ts";

/**
 * The first buffer of a frame assembled across chunks: frames up to this size
 * get a buffer of exactly their size at once; larger ones grow as bytes come.
 */
const ASSEMBLY_STEP = 64 * 1024;

/** Options of {@linkcode FrameReader}. */
export interface FrameReaderOptions {
  /**
   * The largest frame accepted, in bytes, not counting the 4-byte length
   * (SPOE.txt §3.2: max-frame-size). Can be lowered after the handshake with
   * {@linkcode FrameReader.maxFrameSize}.
   *
   * @default {16380}
   */
  maxFrameSize?: number;
}

/**
 * Cuts a stream of chunks into frames. Push chunks, then pull frames with
 * {@linkcode FrameReader.next} until it returns `undefined`; a caller that
 * wants to stop pulling (backpressure) may, and chunks pushed meanwhile wait
 * in order.
 *
 * @example
 * ```ts
 * import { FrameReader } from "@spoa/agent/codec";
 * const reader = new FrameReader();
 * reader.push(new Uint8Array([0, 0, 0, 7, 2, 0, 0, 0]));
 * // The frame is not complete yet:
 * console.log(reader.next()); // undefined
 * reader.push(new Uint8Array([1, 0, 0]));
 * // The frame, without its 4-byte length:
 * console.log(reader.next()?.join(" ")); // 2 0 0 0 1 0 0
 * ```
 */
export class FrameReader {
  /** The largest frame accepted, not counting the 4-byte length. */
  maxFrameSize: number;

  #chunks: Uint8Array[] = [];
  #chunkIndex = 0;
  #pos = 0;
  #buffered = 0;
  #lengthBytes = new Uint8Array(4);
  #lengthFill = 0;
  #partial: Uint8Array | undefined;
  #partialFill = 0;
  /** The announced length of the frame being assembled. */
  #partialLength = 0;

  /**
   * Creates a reader.
   *
   * @param options The frame size limit.
   */
  constructor(options: FrameReaderOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? 16380;
  }

  /** The bytes allocated for the frame being assembled (0 when none is). */
  get assemblyCapacity(): number {
    return this.#partial?.length ?? 0;
  }

  /** The number of bytes pushed and not yet handed out as frames. */
  get bufferedBytes(): number {
    // A frame being assembled also holds its 4 length bytes, already consumed from the chunks.
    const partial = this.#partial === undefined ? 0 : 4 + this.#partialFill;
    return this.#buffered + this.#lengthFill + partial;
  }

  /**
   * Adds a chunk of the stream. The chunk must not be modified afterwards:
   * frames may be views of it.
   *
   * @param chunk The bytes, in stream order.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * Returns the next whole frame, without its length prefix, or `undefined`
   * if more bytes are needed.
   *
   * @returns The frame, or `undefined`.
   * @throws {SpopError} With status 3 if a length exceeds `maxFrameSize`, and
   *   a {@linkcode MalformedFrameError} (status 4) if it is below 7. The
   *   stream cannot be resumed after an error.
   */
  next(): Uint8Array | undefined {
    const chunks = this.#chunks;
    while (this.#chunkIndex < chunks.length) {
      const chunk = chunks[this.#chunkIndex];
      const available = chunk.length - this.#pos;
      if (available === 0) {
        this.#dropChunk();
        continue;
      }
      // A frame being assembled across chunks.
      let partial = this.#partial;
      if (partial !== undefined) {
        if (this.#partialFill === partial.length) partial = this.#grow(partial);
        const take = Math.min(available, partial.length - this.#partialFill);
        partial.set(chunk.subarray(this.#pos, this.#pos + take), this.#partialFill);
        this.#consume(take);
        this.#partialFill += take;
        if (this.#partialFill === this.#partialLength) {
          this.#partial = undefined;
          this.#partialFill = 0;
          return partial;
        }
        continue;
      }
      // A length prefix split across chunks.
      if (this.#lengthFill > 0 || available < 4) {
        const take = Math.min(available, 4 - this.#lengthFill);
        this.#lengthBytes.set(chunk.subarray(this.#pos, this.#pos + take), this.#lengthFill);
        this.#consume(take);
        this.#lengthFill += take;
        if (this.#lengthFill < 4) continue;
        this.#lengthFill = 0;
        const b = this.#lengthBytes;
        const length = this.#checkLength(((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0);
        this.#startPartial(length);
        continue;
      }
      // The common case: the length is here, and perhaps the whole frame.
      const pos = this.#pos;
      const length = this.#checkLength(
        ((chunk[pos] << 24) | (chunk[pos + 1] << 16) | (chunk[pos + 2] << 8) | chunk[pos + 3]) >>>
          0,
      );
      if (available - 4 >= length) {
        this.#consume(4 + length);
        return chunk.subarray(pos + 4, pos + 4 + length);
      }
      this.#consume(4);
      this.#startPartial(length);
    }
    return undefined;
  }

  /** Starts assembling a frame of `length` bytes, in a buffer of at most ASSEMBLY_STEP to begin. */
  #startPartial(length: number): void {
    this.#partialLength = length;
    this.#partial = new Uint8Array(Math.min(length, ASSEMBLY_STEP));
  }

  /** A full assembly buffer, grown (doubled, up to the frame's length) with its bytes kept. */
  #grow(partial: Uint8Array): Uint8Array {
    const grown = new Uint8Array(Math.min(partial.length * 2, this.#partialLength));
    grown.set(partial);
    this.#partial = grown;
    return grown;
  }

  #consume(count: number): void {
    this.#pos += count;
    this.#buffered -= count;
  }

  #dropChunk(): void {
    this.#chunkIndex++;
    this.#pos = 0;
    if (this.#chunkIndex === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#chunkIndex = 0;
    }
  }

  #checkLength(length: number): number {
    if (length > this.maxFrameSize) {
      throw new SpopError(
        Status.FrameTooBig,
        `Cannot decode frame: length ${length} exceeds max-frame-size ${this.maxFrameSize}`,
      );
    }
    if (length < MIN_FRAME_LENGTH) {
      throw new MalformedFrameError(
        `Cannot decode frame: length ${length} is below the ${MIN_FRAME_LENGTH}-byte minimum`,
        0,
      );
    }
    return length;
  }
}
