/**
 * What a connection sends: frames are encoded back to back into one writer,
 * and everything completed in one turn goes out in one write. The outbox
 * counts the ACKs in each write, so that a NOTIFY stays in flight until its
 * ACK has reached the socket, and waits for the socket before the next write
 * (backpressure).
 *
 * @module
 */

import { ByteWriter } from "../codec/byte_writer.ts";
import { SpopError } from "../codec/errors.ts";
import { Status } from "../codec/status.ts";
import type { Transport } from "./transport.ts";

/** What the outbox tells its connection. */
export interface OutboxEvents {
  /**
   * A write went out (the socket took it).
   *
   * @param acks The number of ACKs it carried.
   */
  written(acks: number): void;
  /**
   * A write failed: the socket is gone.
   *
   * @param error Why.
   */
  failed(error: unknown): void;
}

/** The writer's first size: a few typical ACKs. */
const INITIAL_CAPACITY = 1024;

/**
 * Past this size the writer is replaced by a small one once its bytes are out,
 * so that one large answer does not keep a large buffer for the connection's
 * lifetime. 64 KiB holds a full ACK at HAProxy's default max-frame-size (16380)
 * several times over.
 */
export const SHRINK_ABOVE = 64 * 1024;

/** The outgoing side of one connection. */
export class Outbox {
  #transport: Transport;
  #events: OutboxEvents;
  #writer = new ByteWriter(INITIAL_CAPACITY);
  #queuedAcks = 0;
  #writing = false;
  #scheduled = false;
  #closing = false;
  #stopped = false;
  #writeTimeout: number;
  /** Checks the write under way against writeTimeout; armed once, not per write (see #write). */
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the write under way was handed to the socket (`performance.now()` ms). */
  #writeStartedAt = 0;
  #flush = () => this.#flushNow();
  #checkStall = () => {
    this.#stallTimer = undefined;
    // A closing connection's last write is timed too (#fail lets that one through).
    if (!this.#writing || (this.#stopped && !this.#closing)) return;
    const left = this.#writeStartedAt + this.#writeTimeout - performance.now();
    if (left > 0) {
      this.#stallTimer = setTimeout(this.#checkStall, left);
      return;
    }
    this.#fail(new SpopError(Status.Timeout, `HAProxy read nothing for ${this.#writeTimeout} ms`));
  };

  /**
   * Creates the outbox of a connection.
   *
   * @param transport The socket.
   * @param events Where write outcomes go.
   * @param writeTimeout Milliseconds a write may wait for the peer to read
   *   before it fails (status 2); 0 waits forever.
   */
  constructor(transport: Transport, events: OutboxEvents, writeTimeout = 0) {
    this.#transport = transport;
    this.#events = events;
    this.#writeTimeout = writeTimeout;
  }

  /** The writer to encode frames into; valid until the next flush. */
  get writer(): ByteWriter {
    return this.#writer;
  }

  /** The bytes encoded and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#writer.length;
  }

  /** Whether a write is waiting for the socket. */
  get writing(): boolean {
    return this.#writing;
  }

  /** Counts one more ACK in what is encoded, and schedules a flush. */
  ackQueued(): void {
    this.#queuedAcks++;
    this.schedule();
  }

  /** Sends what is encoded at the end of this turn (one write for everything completed in it). */
  schedule(): void {
    if (this.#scheduled || this.#stopped) return;
    this.#scheduled = true;
    queueMicrotask(this.#flush);
  }

  /**
   * Sends what is encoded, then closes the socket (which sends what it holds,
   * half-closes and lingers; see {@linkcode Transport.close}). A write still
   * waiting for the socket does not hold the close back: the socket's own
   * grace period bounds a peer that stopped reading.
   */
  closeAfterFlush(): void {
    if (this.#closing || this.#stopped) return;
    this.#closing = true;
    this.schedule();
  }

  /** The socket is gone: nothing more is written. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#stallTimer);
  }

  #flushNow(): void {
    this.#scheduled = false;
    if (this.#stopped) return;
    if (this.#closing) {
      this.#stopped = true;
      if (this.#writer.length > 0) this.#write(this.#take(), 0);
      this.#transport.close();
      return;
    }
    if (this.#writing || this.#writer.length === 0) return;
    const acks = this.#queuedAcks;
    this.#queuedAcks = 0;
    this.#write(this.#take(), acks);
  }

  #take(): Uint8Array {
    const bytes = this.#writer.take();
    if (this.#writer.capacity > SHRINK_ABOVE) this.#writer = new ByteWriter(INITIAL_CAPACITY);
    return bytes;
  }

  #write(bytes: Uint8Array, acks: number): void {
    let pending: Promise<void> | undefined;
    try {
      pending = this.#transport.write(bytes);
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (pending === undefined) {
      // The socket is done with everything taken from the writer: its buffer is reused.
      this.#writer.release();
      this.#events.written(acks);
      return;
    }
    this.#writing = true;
    if (this.#writeTimeout > 0) {
      // One timer per connection rather than one per write: where every write is a promise
      // (Deno), a timer set and cleared per write outlives young-generation collections and
      // makes V8 grow the young generation. The timer finds the write under way when it fires
      // and waits again for what that write has left.
      this.#writeStartedAt = performance.now();
      this.#stallTimer ??= setTimeout(this.#checkStall, this.#writeTimeout);
    }
    pending.then(
      () => {
        this.#writing = false;
        if (this.#stopped) return;
        this.#writer.release();
        this.#events.written(acks);
        this.#flushNow();
      },
      (error) => this.#fail(error),
    );
  }

  #fail(error: unknown): void {
    this.#writing = false;
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    if (this.#stopped && !this.#closing) return;
    this.#stopped = true;
    this.#events.failed(error);
  }
}
