/**
 * An in-memory connection between a simulated HAProxy and an agent: the
 * agent's side is a {@linkcode Transport}, the simulator's side a pair of
 * callbacks. It behaves like a socket: order kept, pause and resume honoured,
 * and a simulated slow reader pushes back on the agent's writes.
 *
 * @module
 */

import type { Transport, TransportSink } from "../engine/transport.ts";

/** The simulator's end of an in-memory pipe. */
export interface PipePeer {
  /** Called with each write of the agent, in order. */
  onData(bytes: Uint8Array): void;
  /** Called once when the agent closes its end. */
  onClose(): void;
}

/**
 * An in-memory pipe. {@linkcode MemoryPipe.transport} goes to the agent; the
 * simulator calls {@linkcode MemoryPipe.send} and {@linkcode MemoryPipe.end}.
 */
export class MemoryPipe {
  /** The agent's end. */
  readonly transport: Transport;
  /** Whether the agent has paused reading. */
  agentPaused = false;
  /** Bytes sent while the agent was paused, delivered on resume. */
  #held: Uint8Array[] = [];
  #sink: TransportSink | undefined;
  #peer: PipePeer;
  #closed = false;
  #peerReading = true;
  #blocked: Array<{ bytes: Uint8Array; resolve: () => void }> = [];

  /**
   * Creates a pipe.
   *
   * @param peer The simulator's callbacks.
   * @param remoteAddress The address the agent sees.
   */
  constructor(peer: PipePeer, remoteAddress = "memory") {
    this.#peer = peer;
    this.transport = {
      remoteAddress,
      write: (bytes) => {
        if (this.#closed) return undefined;
        if (this.#peerReading) {
          // Delivered later, and the agent reuses the memory once write() returns: a copy.
          const copy = bytes.slice();
          queueMicrotask(() => this.#peer.onData(copy));
          return undefined;
        }
        return new Promise<void>((resolve) => this.#blocked.push({ bytes, resolve }));
      },
      close: () => {
        if (this.#closed) return;
        this.#closed = true;
        queueMicrotask(() => {
          this.#peer.onClose();
          this.#sink?.closed();
        });
      },
      pause: () => {
        this.agentPaused = true;
      },
      resume: () => {
        this.agentPaused = false;
        // Like a socket, stop delivering as soon as the agent pauses again.
        while (!this.agentPaused && this.#held.length > 0) {
          this.#sink?.receive(this.#held.shift()!);
        }
      },
    };
  }

  /** Whether either side closed the pipe. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The number of agent writes waiting because the simulator stopped reading. */
  get blockedWrites(): number {
    return this.#blocked.length;
  }

  /**
   * Connects the agent's sink (what `Agent.connect` returned).
   *
   * @param sink The agent's side.
   */
  attach(sink: TransportSink): void {
    this.#sink = sink;
  }

  /**
   * Sends bytes to the agent.
   *
   * @param bytes The bytes.
   */
  send(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.agentPaused) this.#held.push(bytes);
    else this.#sink?.receive(bytes);
  }

  /**
   * Simulates a peer that stops (false) or resumes (true) reading: while it
   * does not read, the agent's writes stay pending.
   *
   * @param reading Whether the simulator reads.
   */
  setReading(reading: boolean): void {
    this.#peerReading = reading;
    if (!reading) return;
    for (const { bytes, resolve } of this.#blocked.splice(0)) {
      this.#peer.onData(bytes.slice());
      resolve();
    }
  }

  /** Closes the simulator's end: the agent sees the peer go away. */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { resolve } of this.#blocked.splice(0)) resolve();
    queueMicrotask(() => this.#sink?.closed());
  }
}
