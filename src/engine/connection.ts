/**
 * One SPOP connection's state machine: handshake, frames by type, in-flight
 * limit, DISCONNECT both ways, hello and idle timers, and the drain rules. It
 * composes the frame reader, the fragment assembler, the notify runner and the
 * outbox, and writes through a {@linkcode Transport}; it never touches a runtime.
 *
 * @module
 */

import type { Action } from "../codec/action.ts";
import { decodeDisconnect, writeAgentDisconnect } from "../codec/disconnect_frames.ts";
import { PeerDisconnectError, SpopError } from "../codec/errors.ts";
import {
  FrameFlags,
  type FrameHeader,
  FrameType,
  frameTypeName,
  readFrameHeader,
} from "../codec/frame.ts";
import { writeAgentHello } from "../codec/hello_frames.ts";
import { decodeKvList } from "../codec/kv_list.ts";
import { decodeMessages, type Message } from "../codec/message.ts";
import { writeAck } from "../codec/notify_frames.ts";
import { Status } from "../codec/status.ts";
import { FrameReader } from "../reader/frame_reader.ts";
import { NotifyJob } from "./context.ts";
import type { EventLog } from "./event_log.ts";
import type { CloseReason, EventHub, NotifyOutcome } from "./events.ts";
import { FragmentAssembler } from "./fragment_assembler.ts";
import { type HelloResult, negotiateHello } from "./hello.ts";
import { type HandlerRegistry, NotifyRunner } from "./notify_runner.ts";
import type { ResolvedOptions } from "./options.ts";
import { Outbox } from "./outbox.ts";
import type { Transport, TransportSink } from "./transport.ts";

/** What a connection needs from whoever accepted it. */
export interface ConnectionOwner {
  /** The agent's options. */
  readonly options: ResolvedOptions;
  /** The handlers. */
  readonly registry: HandlerRegistry;
  /** The agent's observers, merged (read at each event: observers may come and go). */
  readonly events: EventHub;
  /** The agent's log. */
  readonly log: EventLog;
  /**
   * Called once when the connection is gone.
   *
   * @param connection The connection.
   */
  release(connection: SpopConnection): void;
}

const State = { Hello: 0, Ready: 1, Closing: 2, Closed: 3 } as const;
type State = typeof State[keyof typeof State];

/**
 * The largest frame accepted before the handshake: a HAPROXY-HELLO is about
 * 130 bytes (NOTES §7.1), so a peer cannot make a connection that never said
 * HELLO buffer a large frame.
 */
export const HELLO_MAX_FRAME_SIZE = 2048;

/**
 * Draining: say goodbye once nothing is in flight and no NOTIFY came for this
 * long. HAProxy 3.1+ stops choosing an agent whose listener is closed (its
 * health check fails) and leaves its connections idle, so silence comes.
 */
const DRAIN_QUIET_MS = 250;

/**
 * HAProxy 2.6/3.0 keep sending on open connections to a server marked down, so
 * with them the agent says goodbye, after the first quiet period, at the first
 * moment nothing is in flight and no NOTIFY came for this long (enough for a
 * NOTIFY already on the wire to be read). A NOTIFY HAProxy sends while the
 * AGENT-DISCONNECT travels still fails (HAProxy reports 256): the protocol has
 * no way to stop a legacy HAProxy from sending first.
 */
const DRAIN_SETTLE_MS = 5;

function isNormalSocketEnd(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  return code === "ECONNRESET" || code === "EPIPE" || name === "ConnectionReset" ||
    name === "BrokenPipe";
}

/**
 * The engine side of one connection. An agent's connection handler creates it
 * for each accepted socket; the adapter feeds it through {@linkcode TransportSink}.
 */
export class SpopConnection implements TransportSink {
  /** HAProxy's engine-id, once the handshake is done. */
  engineId: string | undefined;
  /** The address of HAProxy's end. */
  readonly remoteAddress: string | undefined;
  /** The handshake's outcome, once done. */
  hello: HelloResult | undefined;
  /** What events report of this connection. */
  readonly facts: {
    readonly id: number;
    readonly peer: string | undefined;
    engineId: string | undefined;
  };

  #owner: ConnectionOwner;
  #events: EventHub;
  #options: ResolvedOptions;
  #transport: Transport;
  #reader: FrameReader;
  #assembler: FragmentAssembler;
  #runner: NotifyRunner;
  #outbox: Outbox;
  #header: FrameHeader = { type: 0, flags: 0, streamId: 0, frameId: 0, payloadOffset: 0 };
  #state: State = State.Hello;
  #maxFrameSize: number;
  /** NOTIFYs whose handlers run (dispatched, answer not decided yet). */
  #running = 0;
  /** ACKs decided and not yet taken by the socket. */
  #unwritten = 0;
  #paused = false;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** frameTimeout: when the frame or fragmented NOTIFY under way began, and its timer. */
  #inputSince: number | undefined;
  #frameTimer: ReturnType<typeof setTimeout> | undefined;
  #sawTraffic = false;
  #draining = false;
  #drainEager = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #sawNotify = false;
  #closeReason: CloseReason | undefined;
  /** When the last chunk arrived: the dispatch time of the NOTIFYs read from it. */
  #receivedAt = 0;

  /**
   * Creates the engine side of a connection.
   *
   * @param owner Whoever accepted it.
   * @param transport The socket.
   * @param id The connection's number within the agent.
   */
  constructor(owner: ConnectionOwner, transport: Transport, id: number) {
    this.#owner = owner;
    this.#events = owner.events;
    const options = this.#options = owner.options;
    this.#transport = transport;
    this.remoteAddress = transport.remoteAddress;
    this.facts = { id, peer: transport.remoteAddress, engineId: undefined };
    this.#maxFrameSize = options.maxFrameSize;
    this.#reader = new FrameReader({
      maxFrameSize: Math.min(HELLO_MAX_FRAME_SIZE, options.maxFrameSize),
    });
    this.#assembler = new FragmentAssembler({
      maxBytes: options.maxFragmentedSize,
      maxFragments: options.maxFragments,
    });
    this.#runner = new NotifyRunner(owner.registry, options, {
      finished: (job, actions, outcome, error) => this.#answer(job, actions, outcome, error),
    });
    this.#outbox = new Outbox(transport, {
      written: (acks) => this.#written(acks),
      failed: (error) => {
        if (error instanceof SpopError && error.status === Status.Timeout) {
          this.#closeReason = "timeout";
        }
        this.#transport.close();
        this.closed(error);
      },
    }, options.writeTimeout);
    if (options.helloTimeout > 0) {
      this.#helloTimer = setTimeout(() => {
        this.#closeReason = "timeout";
        this.#disconnect(Status.Timeout, `no HAPROXY-HELLO within ${options.helloTimeout} ms`);
      }, options.helloTimeout);
    }
    if (options.idleTimeout > 0) this.#armIdleTimer();
  }

  /** The number of NOTIFYs received and not yet answered on the socket. */
  get inFlight(): number {
    return this.#running + this.#unwritten;
  }

  /** Whether the connection is closing or closed. */
  get closing(): boolean {
    return this.#state >= State.Closing;
  }

  /**
   * Takes inbound bytes from the socket. Once closing, they are discarded.
   *
   * @param chunk The bytes; not modified afterwards.
   */
  receive(chunk: Uint8Array): void {
    if (this.#state >= State.Closing) return;
    this.#sawTraffic = true;
    this.#receivedAt = performance.now();
    this.#reader.push(chunk);
    this.#pump();
    this.#watchInput();
  }

  /**
   * Learns that the socket is closed.
   *
   * @param error The socket error, if any.
   */
  closed(error?: unknown): void {
    if (this.#state === State.Closed) return;
    const failed = error !== undefined && !isNormalSocketEnd(error) && this.#state < State.Closing;
    const reason = this.#closeReason ?? (failed ? "socket-error" : "peer-closed");
    const event = { connection: this.facts, reason, error };
    this.#owner.log.connectionClosed(event);
    this.#events.emit.connectionClosed?.(event);
    this.#state = State.Closed;
    this.#outbox.stop();
    this.#runner.abandonAll(new SpopError(Status.IoError, "the connection closed"));
    this.#forgetInput();
    this.#clearTimers();
    this.#owner.release(this);
  }

  /**
   * Starts a graceful close: keep answering, and once nothing is in flight
   * (a partly received NOTIFY counts) and no NOTIFY has come for a moment,
   * send AGENT-DISCONNECT (status 0) and close.
   */
  drain(): void {
    if (this.#state >= State.Closing || this.#draining) return;
    this.#draining = true;
    if (this.#state === State.Hello) {
      this.#closeReason = "shutdown";
      this.#disconnect(Status.Normal, "agent shutting down");
      return;
    }
    this.#sawNotify = false;
    // Wait a moment first: a NOTIFY may already be on the wire.
    this.#drainTimer = setTimeout(() => this.#checkDrained(), DRAIN_QUIET_MS);
  }

  /**
   * Ends the connection now: answers every NOTIFY still waiting on a handler
   * with the fallback actions, sends AGENT-DISCONNECT (status 0) and closes.
   */
  shutdownNow(): void {
    if (this.#state >= State.Closing) return;
    this.#closeReason = "shutdown";
    this.#runner.answerAll(new SpopError(Status.Normal, "the agent is shutting down"));
    this.#disconnect(Status.Normal, "agent shutting down");
  }

  /** Whether anything is received and not answered on the socket, or partly received. */
  #busy(): boolean {
    return this.#running > 0 || this.#unwritten > 0 || this.#assembler.active ||
      this.#reader.bufferedBytes > 0;
  }

  #checkDrained(): void {
    this.#drainTimer = undefined;
    if (!this.#draining || this.#state >= State.Closing) return;
    if (!this.#busy() && !this.#sawNotify) {
      this.#closeReason = "shutdown";
      this.#disconnect(Status.Normal, "agent shutting down");
      return;
    }
    this.#drainEager = this.hello?.offeredAsync === true;
    this.#sawNotify = false;
    // Busy: #written() brings the next check forward as soon as nothing is in flight.
    this.#drainTimer = setTimeout(
      () => this.#checkDrained(),
      this.#drainEager && !this.#busy() ? DRAIN_SETTLE_MS : DRAIN_QUIET_MS,
    );
  }

  #pump(): void {
    const reader = this.#reader;
    const limit = this.#options.maxInFlight;
    while (this.#state < State.Closing) {
      // HAProxy is not reading the answers: stop reading its frames until it does.
      if (this.#unwritten >= limit) return this.#pause();
      let frame: Uint8Array | undefined;
      try {
        frame = reader.next();
        if (frame === undefined) return;
        this.#handleFrame(frame);
        // A whole frame ends what was under way, unless a fragmented NOTIFY goes on.
        if (this.#assembler.active) this.#inputSince ??= performance.now();
        else this.#inputSince = undefined;
      } catch (error) {
        this.#fail(error);
        return;
      }
    }
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#transport.pause();
  }

  #handleFrame(frame: Uint8Array): void {
    const header = readFrameHeader(frame, this.#header);
    const onFrame = this.#events.emit.frame;
    if (onFrame !== undefined) {
      onFrame({ connection: this.facts, direction: "in", type: header.type });
    }
    if (this.#state === State.Hello) {
      if (header.type === FrameType.HaproxyHello) return this.#handleHello(frame, header);
      if (header.type === FrameType.HaproxyDisconnect) return this.#handleDisconnect(frame, header);
      throw new SpopError(
        Status.InvalidFrame,
        `expected HAPROXY-HELLO, got ${frameTypeName(header.type)}`,
      );
    }
    switch (header.type) {
      case FrameType.Notify:
        return this.#handleNotify(frame, header);
      case FrameType.Unset:
        return this.#handleFragment(frame, header);
      case FrameType.HaproxyDisconnect:
        return this.#handleDisconnect(frame, header);
      case FrameType.HaproxyHello:
      case FrameType.AgentHello:
      case FrameType.AgentDisconnect:
      case FrameType.Ack:
        throw new SpopError(
          Status.InvalidFrame,
          `unexpected ${frameTypeName(header.type)} frame after the handshake`,
        );
      default:
        // SPOE.txt: unknown frames may be skipped.
        this.#options.logger.debug(`SPOA: skipped a frame of unknown type ${header.type}`, {
          connection: this.facts.id,
          peer: this.remoteAddress,
        });
    }
  }

  #handleHello(frame: Uint8Array, header: FrameHeader): void {
    const items = decodeKvList(frame, header.payloadOffset);
    const hello = negotiateHello(items, this.#options.maxFrameSize, this.#options.fragmentation);
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.hello = hello;
    this.engineId = this.facts.engineId = hello.engineId;
    this.#maxFrameSize = hello.maxFrameSize;
    this.#reader.maxFrameSize = hello.maxFrameSize;
    this.#state = State.Ready;
    writeAgentHello(this.#outbox.writer, hello);
    this.#sent(FrameType.AgentHello);
    const event = {
      connection: this.facts,
      version: hello.version,
      maxFrameSize: hello.maxFrameSize,
      capabilities: hello.capabilities,
      healthcheck: hello.healthcheck,
    };
    this.#owner.log.handshake(event);
    this.#events.emit.handshake?.(event);
    if (hello.healthcheck) {
      this.#closeReason = "healthcheck";
      this.#state = State.Closing;
      this.#clearTimers();
      this.#outbox.closeAfterFlush();
      return;
    }
    this.#outbox.schedule();
  }

  #handleDisconnect(frame: Uint8Array, header: FrameHeader): void {
    const { status, message } = decodeDisconnect(frame, header.payloadOffset);
    const code = status ?? Status.Unknown;
    const event = {
      connection: this.facts,
      side: "haproxy" as const,
      status: code,
      message,
    };
    this.#owner.log.disconnect(event);
    this.#events.emit.disconnect?.(event);
    this.#closeReason = "peer-disconnect";
    this.#disconnect(Status.Normal, "normal", new PeerDisconnectError(code, message));
  }

  #handleNotify(frame: Uint8Array, header: FrameHeader): void {
    const assembler = this.#assembler;
    if ((header.flags & FrameFlags.Fin) !== 0) {
      assembler.expectIdle(header.streamId, header.frameId);
      this.#dispatch(header.streamId, header.frameId, decodeMessages(frame, header.payloadOffset));
      return;
    }
    if ((header.flags & FrameFlags.Abort) !== 0) {
      this.#options.logger.debug(
        `SPOA: ignored NOTIFY ${header.streamId}/${header.frameId} with ABORT and no FIN`,
      );
      return;
    }
    if (!this.hello?.fragmentation) {
      throw new SpopError(
        Status.FragmentationNotSupported,
        "fragmented NOTIFY without negotiated fragmentation",
      );
    }
    assembler.begin(header.streamId, header.frameId, frame.subarray(header.payloadOffset));
  }

  #handleFragment(frame: Uint8Array, header: FrameHeader): void {
    if (!this.hello?.fragmentation) {
      throw new SpopError(
        Status.FragmentationNotSupported,
        "NOTIFY fragment without negotiated fragmentation",
      );
    }
    const { streamId, frameId, flags } = header;
    if ((flags & FrameFlags.Abort) !== 0) {
      this.#assembler.abort(streamId, frameId);
      this.#options.logger.debug(`SPOA: HAProxy aborted fragmented NOTIFY ${streamId}/${frameId}`);
      return;
    }
    const payload = frame.subarray(header.payloadOffset);
    const whole = this.#assembler.continue(
      streamId,
      frameId,
      (flags & FrameFlags.Fin) !== 0,
      payload,
    );
    if (whole !== undefined) this.#dispatch(streamId, frameId, decodeMessages(whole));
  }

  #dispatch(streamId: number, frameId: number, messages: Message[]): void {
    this.#sawNotify = true;
    this.#running++;
    const job = new NotifyJob(this, streamId, frameId, messages, this.#receivedAt);
    // Past maxInFlight running handlers, the agent sheds load rather than queue it: the NOTIFY
    // is answered at once, and reading goes on (a HAPROXY-DISCONNECT is seen whatever runs).
    if (this.#running > this.#options.maxInFlight) {
      job.done = true;
      this.#answer(job, this.#options.fallbackActions, "overload", undefined);
      return;
    }
    this.#runner.run(job);
  }

  /** Writes the ACK of a finished NOTIFY: its actions, else the fallback, else none. */
  #answer(
    job: NotifyJob,
    actions: readonly Action[],
    outcome: NotifyOutcome,
    error: unknown,
  ): void {
    this.#running--;
    if (this.#state >= State.Closing) return;
    const writer = this.#outbox.writer;
    const start = writer.length;
    const fallback = this.#options.fallbackActions;
    const problem = this.#writeAck(job, actions);
    if (problem !== undefined) {
      writer.truncate(start);
      if (outcome === "ok") {
        outcome = problem === "too-big" ? "too-big" : "error";
        if (problem !== "too-big") error = problem.error;
      }
      if (actions === fallback || this.#writeAck(job, fallback) !== undefined) {
        writer.truncate(start);
        this.#writeAck(job, []);
      }
    }
    this.#unwritten++;
    this.#outbox.ackQueued();
    this.#sent(FrameType.Ack);
    const onNotify = this.#events.emit.notify;
    if (outcome === "ok" && onNotify === undefined) return;
    const event = {
      connection: this.facts,
      streamId: job.streamId,
      frameId: job.frameId,
      messages: job.messages,
      outcome,
      durationMs: performance.now() - job.startedAt,
      error,
    };
    if (outcome !== "ok") this.#owner.log.notify(event);
    onNotify?.(event);
  }

  /** Appends one ACK; what went wrong if it cannot be encoded or is too big. */
  #writeAck(
    job: NotifyJob,
    actions: readonly Action[],
  ): "too-big" | { error: unknown } | undefined {
    let length: number;
    try {
      length = writeAck(
        this.#outbox.writer,
        job.streamId,
        job.frameId,
        actions,
        this.#maxFrameSize,
      );
    } catch (error) {
      return { error };
    }
    return length > this.#maxFrameSize ? "too-big" : undefined;
  }

  #sent(type: number): void {
    const onFrame = this.#events.emit.frame;
    if (onFrame !== undefined) onFrame({ connection: this.facts, direction: "out", type });
  }

  #written(acks: number): void {
    if (acks === 0 || this.#state >= State.Closing) return;
    this.#unwritten -= acks;
    if (this.#drainEager && !this.#busy()) {
      clearTimeout(this.#drainTimer);
      this.#sawNotify = false;
      this.#drainTimer = setTimeout(() => this.#checkDrained(), DRAIN_SETTLE_MS);
    }
    if (this.#paused && this.#unwritten < this.#options.maxInFlight) {
      this.#paused = false;
      this.#transport.resume();
      this.#receivedAt = performance.now();
      this.#pump();
      this.#watchInput();
    }
  }

  #fail(error: unknown): void {
    if (this.#state >= State.Closing) return;
    const status = error instanceof SpopError ? error.status : Status.Unknown;
    const message = error instanceof Error ? error.message : String(error);
    const event = { connection: this.facts, status, message };
    this.#owner.log.protocolError(event);
    this.#events.emit.protocolError?.(event);
    this.#closeReason = "protocol-error";
    this.#disconnect(status, message);
  }

  /** Sends AGENT-DISCONNECT after whatever ACKs are ready, then closes. */
  #disconnect(status: number, message: string, reason?: SpopError): void {
    if (this.#state >= State.Closing) return;
    this.#state = State.Closing;
    this.#runner.abandonAll(reason ?? new SpopError(status, message));
    this.#forgetInput();
    this.#clearTimers();
    writeAgentDisconnect(this.#outbox.writer, status, message);
    this.#sent(FrameType.AgentDisconnect);
    const event = {
      connection: this.facts,
      side: "agent" as const,
      status,
      message,
    };
    this.#owner.log.disconnect(event);
    this.#events.emit.disconnect?.(event);
    this.#outbox.closeAfterFlush();
  }

  /** Drops what was received and not processed: a fragmented NOTIFY. */
  #forgetInput(): void {
    this.#assembler.reset();
  }

  #armIdleTimer(): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#state >= State.Closing) return;
      if (!this.#sawTraffic && !this.#busy()) {
        this.#closeReason = "timeout";
        this.#disconnect(Status.Timeout, "idle timeout");
        return;
      }
      this.#sawTraffic = false;
      this.#armIdleTimer();
    }, this.#options.idleTimeout);
  }

  /** Times the frame or fragmented NOTIFY under way (frameTimeout), once the handshake is done. */
  #watchInput(): void {
    const timeout = this.#options.frameTimeout;
    if (timeout === 0 || this.#state !== State.Ready) return;
    if (this.#reader.bufferedBytes === 0 && !this.#assembler.active) {
      this.#inputSince = undefined;
      return;
    }
    this.#inputSince ??= performance.now();
    this.#frameTimer ??= setTimeout(() => this.#frameTimeUp(), timeout);
  }

  #frameTimeUp(): void {
    this.#frameTimer = undefined;
    if (this.#state !== State.Ready || this.#inputSince === undefined) return;
    // What waits while the agent does not read (HAProxy not reading its answers) is not timed.
    if (this.#paused) this.#inputSince = performance.now();
    const left = this.#inputSince + this.#options.frameTimeout - performance.now();
    if (left > 0) {
      this.#frameTimer = setTimeout(() => this.#frameTimeUp(), left);
      return;
    }
    const what = this.#assembler.active ? "fragmented NOTIFY" : "frame";
    const message = `${what} not complete within ${this.#options.frameTimeout} ms`;
    this.#fail(new SpopError(Status.Timeout, message));
  }

  #clearTimers(): void {
    clearTimeout(this.#helloTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#drainTimer);
    clearTimeout(this.#frameTimer);
    this.#helloTimer = this.#idleTimer = this.#drainTimer = undefined;
    this.#frameTimer = undefined;
  }
}
