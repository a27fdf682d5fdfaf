/**
 * Reassembly of fragmented NOTIFYs (HAProxy 2.6/3.0; NOTES §11): a NOTIFY
 * frame without FIN, then UNSET frames with the same ids, the last with FIN
 * (or FIN|ABORT to give up). A synchronous state machine, fed frame by frame,
 * so it can be tested without I/O.
 *
 * Payloads are copied into one buffer that grows as needed: a fragment never
 * pins the read chunk it arrived in, and what a peer can make the agent hold
 * is bounded by bytes and by the number of fragments.
 *
 * @module
 */

import { SpopError } from "../codec/errors.ts";
import { Status } from "../codec/status.ts";

/** The limits of one fragmented NOTIFY. */
export interface FragmentLimits {
  /** The largest reassembled payload, in bytes. */
  maxBytes: number;
  /** The most frames one fragmented NOTIFY may take, the first included. */
  maxFragments: number;
}

/** The first buffer of a reassembly, unless the first fragment is larger. */
const INITIAL_CAPACITY = 4096;

/** Reassembles one fragmented NOTIFY at a time. */
export class FragmentAssembler {
  #limits: FragmentLimits;
  #active = false;
  #streamId = 0;
  #frameId = 0;
  #buffer: Uint8Array | undefined;
  #size = 0;
  #count = 0;

  /**
   * Creates an assembler.
   *
   * @param limits The byte and fragment limits.
   */
  constructor(limits: FragmentLimits) {
    this.#limits = limits;
  }

  /** Whether a fragmented NOTIFY is under way (its first frame came, its last not yet). */
  get active(): boolean {
    return this.#active;
  }

  /** The stream-id of the NOTIFY under way. */
  get streamId(): number {
    return this.#streamId;
  }

  /** The frame-id of the NOTIFY under way. */
  get frameId(): number {
    return this.#frameId;
  }

  /** The payload bytes held for the NOTIFY under way. */
  get bufferedBytes(): number {
    return this.#size;
  }

  /** The size of the buffer held, in bytes (0 when idle). */
  get capacity(): number {
    return this.#buffer?.length ?? 0;
  }

  /**
   * Takes the first frame of a fragmented NOTIFY (a NOTIFY without FIN).
   *
   * @param streamId Its stream-id.
   * @param frameId Its frame-id.
   * @param payload Its payload; copied.
   * @throws {SpopError} Status 11 if another fragmented NOTIFY is under way,
   *   3 if the payload alone exceeds the byte limit.
   */
  begin(streamId: number, frameId: number, payload: Uint8Array): void {
    if (this.#active) throw this.#interlaced("NOTIFY", streamId, frameId);
    this.#active = true;
    this.#streamId = streamId;
    this.#frameId = frameId;
    this.#count = 1;
    this.#size = 0;
    this.#append(payload);
  }

  /**
   * Checks that no fragmented NOTIFY is under way, before a whole NOTIFY.
   *
   * @param streamId The whole NOTIFY's stream-id.
   * @param frameId The whole NOTIFY's frame-id.
   * @throws {SpopError} Status 11 if a fragmented NOTIFY is under way.
   */
  expectIdle(streamId: number, frameId: number): void {
    if (this.#active) throw this.#interlaced("NOTIFY", streamId, frameId);
  }

  /**
   * Takes a continuation frame (UNSET without ABORT).
   *
   * @param streamId Its stream-id.
   * @param frameId Its frame-id.
   * @param last Whether it carries FIN.
   * @param payload Its payload; copied.
   * @returns The whole payload after the last fragment (the assembler is then
   *   idle again), or `undefined` while more is expected.
   * @throws {SpopError} Status 12 if no fragmented NOTIFY is under way, 11 if
   *   its ids differ, 3 past the byte or fragment limit.
   */
  continue(
    streamId: number,
    frameId: number,
    last: boolean,
    payload: Uint8Array,
  ): Uint8Array | undefined {
    this.#check(streamId, frameId);
    if (++this.#count > this.#limits.maxFragments) {
      throw new SpopError(
        Status.FrameTooBig,
        `fragmented NOTIFY ${streamId}/${frameId} exceeds maxFragments ` +
          `(${this.#limits.maxFragments} frames)`,
      );
    }
    this.#append(payload);
    if (!last) return undefined;
    const whole = this.#buffer!.subarray(0, this.#size);
    this.reset();
    return whole;
  }

  /**
   * Takes an UNSET frame with ABORT: HAProxy gave up the NOTIFY under way.
   *
   * @param streamId Its stream-id.
   * @param frameId Its frame-id.
   * @throws {SpopError} Status 12 if no fragmented NOTIFY is under way, 11 if its ids differ.
   */
  abort(streamId: number, frameId: number): void {
    this.#check(streamId, frameId);
    this.reset();
  }

  /** Forgets the NOTIFY under way, if any, and releases its buffer. */
  reset(): void {
    this.#active = false;
    this.#buffer = undefined;
    this.#size = 0;
    this.#count = 0;
  }

  #check(streamId: number, frameId: number): void {
    if (!this.#active) {
      throw new SpopError(
        Status.FrameIdNotFound,
        `fragment of ${streamId}/${frameId} with no fragmented NOTIFY under way`,
      );
    }
    if (streamId !== this.#streamId || frameId !== this.#frameId) {
      throw this.#interlaced("fragment", streamId, frameId);
    }
  }

  #interlaced(what: string, streamId: number, frameId: number): SpopError {
    return new SpopError(
      Status.InterlacedFrames,
      `${what} ${streamId}/${frameId} arrived inside the fragmented NOTIFY ` +
        `${this.#streamId}/${this.#frameId}`,
    );
  }

  #append(payload: Uint8Array): void {
    const size = this.#size + payload.length;
    const limit = this.#limits.maxBytes;
    if (size > limit) {
      throw new SpopError(
        Status.FrameTooBig,
        `fragmented NOTIFY ${this.#streamId}/${this.#frameId} exceeds maxFragmentedSize ` +
          `(${limit} bytes)`,
      );
    }
    let buffer = this.#buffer;
    if (buffer === undefined || size > buffer.length) {
      let capacity = Math.max(buffer?.length ?? 0, INITIAL_CAPACITY);
      while (capacity < size) capacity *= 2;
      const grown = new Uint8Array(Math.min(capacity, limit));
      if (buffer !== undefined) grown.set(buffer.subarray(0, this.#size));
      buffer = this.#buffer = grown;
    }
    buffer.set(payload, this.#size);
    this.#size = size;
  }
}
