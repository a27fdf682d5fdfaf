/**
 * One SPOP connection's state machine: handshake, NOTIFY dispatch, ACKs,
 * fragments, DISCONNECT, timeouts and backpressure. It is fed by the frame
 * reader and writes through a {@linkcode Transport}; it never touches a runtime.
 *
 * @module
 */

import { type Action, writeActions } from "../codec/action.ts";
import { ByteWriter } from "../codec/byte_writer.ts";
import { SpopError } from "../codec/errors.ts";
import {
  beginFrame,
  endFrame,
  FrameFlags,
  type FrameHeader,
  FrameType,
  frameTypeName,
  readFrameHeader,
} from "../codec/frame.ts";
import { decodeKvList, NamedValue, writeKvList } from "../codec/kv_list.ts";
import { decodeMessages, type Message } from "../codec/message.ts";
import { Status, statusMessage } from "../codec/status.ts";
import { DataType } from "../codec/typed_value.ts";
import { FrameReader } from "../reader/frame_reader.ts";
import type { HandlerResult, MessageHandler, NotifyHandler } from "./context.ts";
import { NotifyContext } from "./context.ts";
import { type HelloResult, negotiateHello } from "./hello.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Transport, TransportSink } from "./transport.ts";

/** What a connection needs from the agent that owns it. */
export interface ConnectionOwner {
  /** The agent's options. */
  readonly options: ResolvedOptions;
  /** The message handlers by message name. */
  readonly handlers: ReadonlyMap<string, MessageHandler>;
  /** The whole-NOTIFY handler, if any. */
  readonly notifyHandler: NotifyHandler | undefined;
  /** Called once when the connection is gone. */
  release(connection: SpopConnection): void;
}

const State = { Hello: 0, Ready: 1, Closing: 2, Closed: 3 } as const;
type State = typeof State[keyof typeof State];

/** HAProxy limits the agent's DISCONNECT message to 255 bytes (legacy flt_spoe.c). */
const MAX_DISCONNECT_MESSAGE = 255;

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

interface Fragments {
  streamId: number;
  frameId: number;
  parts: Uint8Array[];
  size: number;
}

function notActions(result: unknown): TypeError {
  return new TypeError(
    `a handler returned ${typeof result} ${String(result).slice(0, 40)}: ` +
      `return nothing or an array of actions`,
  );
}

function isThenable(value: unknown): value is PromiseLike<HandlerResult> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

function isNormalSocketEnd(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ConnectionReset" ||
    (error as { name?: unknown } | null)?.name === "ConnectionReset" ||
    (error as { name?: unknown } | null)?.name === "BrokenPipe";
}

/**
 * The engine side of one connection. Adapters create it through
 * `Agent.connect()` and feed it with {@linkcode SpopConnection.receive}.
 */
export class SpopConnection implements TransportSink {
  /** HAProxy's engine-id, once the handshake is done. */
  engineId: string | undefined;
  /** The address of HAProxy's end. */
  readonly remoteAddress: string | undefined;
  /** The handshake's outcome, once done. */
  hello: HelloResult | undefined;

  #owner: ConnectionOwner;
  #options: ResolvedOptions;
  #transport: Transport;
  #reader: FrameReader;
  #writer = new ByteWriter(1024);
  #header: FrameHeader = { type: 0, flags: 0, streamId: 0, frameId: 0, payloadOffset: 0 };
  #state: State = State.Hello;
  #maxFrameSize: number;
  #inFlight = 0;
  #unflushedAcks = 0;
  #paused = false;
  #writing = false;
  #flushScheduled = false;
  #closeAfterFlush = false;
  #fragments: Fragments | undefined;
  #pending = new Set<NotifyContext>();
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #sawTraffic = false;
  #draining = false;
  #drainEager = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #sawNotify = false;
  #flush = () => this.#flushNow();
  #onDeadline = () => this.#expire();

  /**
   * Creates the engine side of a connection.
   *
   * @param owner The agent.
   * @param transport The socket.
   */
  constructor(owner: ConnectionOwner, transport: Transport) {
    this.#owner = owner;
    this.#options = owner.options;
    this.#transport = transport;
    this.remoteAddress = transport.remoteAddress;
    this.#maxFrameSize = this.#options.maxFrameSize;
    this.#reader = new FrameReader({ maxFrameSize: this.#maxFrameSize });
    if (this.#options.helloTimeout > 0) {
      this.#helloTimer = setTimeout(() => {
        this.#fail(new SpopError(Status.Timeout, "no HAPROXY-HELLO in time"));
      }, this.#options.helloTimeout);
    }
    if (this.#options.idleTimeout > 0) this.#armIdleTimer();
  }

  /** The number of NOTIFYs received and not yet answered on the socket. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether the connection is closing or closed. */
  get closing(): boolean {
    return this.#state >= State.Closing;
  }

  /**
   * Takes inbound bytes from the socket.
   *
   * @param chunk The bytes; not modified afterwards.
   */
  receive(chunk: Uint8Array): void {
    if (this.#state >= State.Closing) return;
    this.#sawTraffic = true;
    this.#reader.push(chunk);
    this.#pump();
  }

  /**
   * Learns that the socket is closed.
   *
   * @param error The socket error, if any.
   */
  closed(error?: unknown): void {
    if (this.#state === State.Closed) return;
    const log = this.#options.logger;
    if (error !== undefined && !isNormalSocketEnd(error) && this.#state < State.Closing) {
      log.warn(`SPOA connection from ${this.remoteAddress} failed: ${error}`);
    } else {
      log.debug(`SPOA connection from ${this.remoteAddress} closed`);
    }
    this.#state = State.Closed;
    this.#abandonPending(new SpopError(Status.IoError, "the connection closed"));
    this.#clearTimers();
    this.#owner.release(this);
  }

  /**
   * Starts a graceful close: keep answering, and once no NOTIFY is in flight
   * and none has come for a moment, send AGENT-DISCONNECT (status 0) and close.
   */
  drain(): void {
    if (this.#state >= State.Closing || this.#draining) return;
    this.#draining = true;
    if (this.#state === State.Hello) {
      this.#disconnect(Status.Normal, "agent shutting down");
      return;
    }
    this.#sawNotify = false;
    // Wait a moment first: a NOTIFY may already be on the wire.
    this.#drainTimer = setTimeout(() => this.#checkDrained(), DRAIN_QUIET_MS);
  }

  /**
   * Ends the connection now: answers every NOTIFY still in flight with the
   * fallback actions, sends AGENT-DISCONNECT (status 0) and closes.
   */
  shutdownNow(): void {
    if (this.#state >= State.Closing) return;
    if (this.#inFlight > 0) {
      this.#options.logger.warn(
        `SPOA: shutdown timeout: answering ${this.#inFlight} NOTIFY(s) in flight on the ` +
          `connection from ${this.remoteAddress} with the fallback actions, then closing it`,
      );
    }
    for (const context of [...this.#pending]) {
      context.abort(new SpopError(Status.Normal, "the agent is shutting down"));
      this.#complete(context, this.#options.fallbackActions);
    }
    this.#disconnect(Status.Normal, "agent shutting down");
  }

  /**
   * Drops the connection at once, without waiting for pending writes (a peer
   * that stopped reading). The transport closes the socket.
   */
  terminate(): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closing;
    this.#transport.close();
    this.closed();
  }

  #checkDrained(): void {
    this.#drainTimer = undefined;
    if (!this.#draining || this.#state >= State.Closing) return;
    if (this.#inFlight === 0 && !this.#sawNotify && this.#reader.bufferedBytes === 0) {
      this.#disconnect(Status.Normal, "agent shutting down");
      return;
    }
    this.#drainEager = this.hello?.offeredAsync === true;
    this.#sawNotify = false;
    // Busy: #written() brings the next check forward as soon as nothing is in flight.
    this.#drainTimer = setTimeout(
      () => this.#checkDrained(),
      this.#drainEager && this.#inFlight === 0 ? DRAIN_SETTLE_MS : DRAIN_QUIET_MS,
    );
  }

  #pump(): void {
    const reader = this.#reader;
    const limit = this.#options.maxInFlight;
    while (this.#state < State.Closing) {
      if (this.#inFlight >= limit) {
        if (!this.#paused) {
          this.#paused = true;
          this.#transport.pause();
        }
        return;
      }
      let frame: Uint8Array | undefined;
      try {
        frame = reader.next();
        if (frame === undefined) return;
        this.#handleFrame(frame);
      } catch (error) {
        this.#fail(error);
        return;
      }
    }
  }

  #handleFrame(frame: Uint8Array): void {
    const header = readFrameHeader(frame, this.#header);
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
        this.#options.logger.debug(`SPOA: skipped a frame of unknown type ${header.type}`);
    }
  }

  #handleHello(frame: Uint8Array, header: FrameHeader): void {
    const items = decodeKvList(frame, header.payloadOffset);
    const hello = negotiateHello(items, this.#options.maxFrameSize, this.#options.fragmentation);
    clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    this.hello = hello;
    this.engineId = hello.engineId;
    this.#maxFrameSize = hello.maxFrameSize;
    this.#reader.maxFrameSize = hello.maxFrameSize;
    this.#state = State.Ready;
    const writer = this.#writer;
    const start = beginFrame(writer, FrameType.AgentHello, FrameFlags.Fin, 0, 0);
    writeKvList(writer, [
      new NamedValue("version", DataType.String, hello.version),
      new NamedValue("max-frame-size", DataType.Uint32, hello.maxFrameSize),
      new NamedValue("capabilities", DataType.String, hello.capabilities.join(",")),
    ]);
    endFrame(writer, start);
    this.#options.logger.debug(
      `SPOA: ${hello.healthcheck ? "health check" : "handshake"} from ${this.remoteAddress}: ` +
        `max-frame-size ${hello.maxFrameSize}, capabilities "${hello.capabilities.join(",")}"`,
    );
    if (hello.healthcheck) {
      this.#state = State.Closing;
      this.#closeAfterFlush = true;
    }
    this.#scheduleFlush();
  }

  #handleDisconnect(frame: Uint8Array, header: FrameHeader): void {
    const items = decodeKvList(frame, header.payloadOffset);
    let status = 0;
    let message = "";
    for (const item of items) {
      if (item.name === "status-code" && typeof item.value === "number") status = item.value;
      else if (item.name === "message" && typeof item.value === "string") message = item.value;
    }
    const text = `SPOA: HAProxy at ${this.remoteAddress} disconnected: status ${status} (${
      message || statusMessage(status)
    })`;
    // 0 is a normal close and 2 HAProxy's idle timeout; others point at a protocol problem.
    if (status === Status.Normal || status === Status.Timeout) this.#options.logger.debug(text);
    else this.#options.logger.warn(text);
    this.#disconnect(Status.Normal, "normal");
  }

  #handleNotify(frame: Uint8Array, header: FrameHeader): void {
    if (this.#fragments !== undefined) {
      throw new SpopError(
        Status.InterlacedFrames,
        `NOTIFY ${header.streamId}/${header.frameId} arrived inside the fragmented NOTIFY ` +
          `${this.#fragments.streamId}/${this.#fragments.frameId}`,
      );
    }
    if ((header.flags & FrameFlags.Fin) === 0) {
      if (header.flags & FrameFlags.Abort) return;
      if (!this.hello?.fragmentation) {
        throw new SpopError(
          Status.FragmentationNotSupported,
          "fragmented NOTIFY without negotiated fragmentation",
        );
      }
      const payload = frame.subarray(header.payloadOffset);
      this.#fragments = {
        streamId: header.streamId,
        frameId: header.frameId,
        parts: [payload],
        size: payload.length,
      };
      return;
    }
    this.#dispatch(header.streamId, header.frameId, decodeMessages(frame, header.payloadOffset));
  }

  #handleFragment(frame: Uint8Array, header: FrameHeader): void {
    if (!this.hello?.fragmentation) {
      throw new SpopError(
        Status.FragmentationNotSupported,
        "NOTIFY fragment without negotiated fragmentation",
      );
    }
    const fragments = this.#fragments;
    if (fragments === undefined) {
      throw new SpopError(
        Status.FrameIdNotFound,
        `fragment of ${header.streamId}/${header.frameId} with no fragmented NOTIFY under way`,
      );
    }
    if (fragments.streamId !== header.streamId || fragments.frameId !== header.frameId) {
      throw new SpopError(
        Status.InterlacedFrames,
        `fragment of ${header.streamId}/${header.frameId} inside the fragmented NOTIFY ` +
          `${fragments.streamId}/${fragments.frameId}`,
      );
    }
    if (header.flags & FrameFlags.Abort) {
      this.#fragments = undefined;
      this.#options.logger.debug(
        `SPOA: HAProxy aborted fragmented NOTIFY ${header.streamId}/${header.frameId}`,
      );
      return;
    }
    const payload = frame.subarray(header.payloadOffset);
    fragments.size += payload.length;
    if (fragments.size > this.#options.maxFragmentedSize) {
      throw new SpopError(
        Status.FrameTooBig,
        `fragmented NOTIFY exceeds maxFragmentedSize ${this.#options.maxFragmentedSize}`,
      );
    }
    fragments.parts.push(payload);
    if ((header.flags & FrameFlags.Fin) === 0) return;
    this.#fragments = undefined;
    const whole = new Uint8Array(fragments.size);
    let offset = 0;
    for (const part of fragments.parts) {
      whole.set(part, offset);
      offset += part.length;
    }
    this.#dispatch(header.streamId, header.frameId, decodeMessages(whole));
  }

  #dispatch(streamId: number, frameId: number, messages: Message[]): void {
    this.#inFlight++;
    this.#sawNotify = true;
    this.#run(new NotifyContext(this, streamId, frameId, messages));
  }

  /** Runs the handler steps from `context.step`; one step per message, then the NOTIFY handler. */
  #run(context: NotifyContext): void {
    const messages = context.messages;
    const handlers = this.#owner.handlers;
    while (context.step <= messages.length) {
      const step = context.step++;
      let result: HandlerResult | Promise<HandlerResult>;
      try {
        if (step < messages.length) {
          const handler = handlers.get(messages[step].name);
          if (handler === undefined) continue;
          result = handler(messages[step], context);
        } else {
          const handler = this.#owner.notifyHandler;
          if (handler === undefined) break;
          result = handler(messages, context);
        }
      } catch (error) {
        return this.#handlerFailed(context, error);
      }
      if (isThenable(result)) {
        this.#awaitHandler(context, result);
        return;
      }
      if (result !== undefined && result !== null) {
        if (!Array.isArray(result)) return this.#handlerFailed(context, notActions(result));
        context.actions.push(...result);
      }
    }
    this.#complete(context, context.actions);
  }

  #awaitHandler(context: NotifyContext, result: PromiseLike<HandlerResult>): void {
    if (context.deadline === 0) {
      const timeout = this.#options.processingTimeout;
      context.deadline = timeout > 0 ? performance.now() + timeout : Infinity;
      this.#pending.add(context);
      if (this.#deadlineTimer === undefined && timeout > 0) {
        this.#deadlineTimer = setTimeout(this.#onDeadline, timeout);
      }
    }
    result.then(
      (actions) => {
        if (context.done) return;
        if (actions !== undefined && actions !== null) {
          if (!Array.isArray(actions)) return this.#handlerFailed(context, notActions(actions));
          context.actions.push(...actions);
        }
        this.#run(context);
      },
      (error) => this.#handlerFailed(context, error),
    );
  }

  #handlerFailed(context: NotifyContext, error: unknown): void {
    if (context.done) return;
    const names = context.messages.map((message) => message.name).join(", ");
    this.#options.logger.error(
      `SPOA: handler failed for NOTIFY ${context.streamId}/${context.frameId} (${names}); ` +
        `sending the fallback actions`,
      error,
    );
    this.#complete(context, this.#options.fallbackActions);
  }

  /** Fires the deadline of every pending NOTIFY whose time has come; one timer per connection. */
  #expire(): void {
    this.#deadlineTimer = undefined;
    const now = performance.now();
    for (const context of this.#pending) {
      if (context.deadline > now) {
        this.#deadlineTimer = setTimeout(this.#onDeadline, context.deadline - now);
        return;
      }
      this.#options.logger.warn(
        `SPOA: NOTIFY ${context.streamId}/${context.frameId} missed the ` +
          `${this.#options.processingTimeout} ms processing deadline; sending the fallback actions`,
      );
      context.abort(new SpopError(Status.Timeout, "processing deadline passed"));
      this.#complete(context, this.#options.fallbackActions);
    }
  }

  #complete(context: NotifyContext, actions: readonly Action[]): void {
    if (context.done) return;
    context.done = true;
    if (context.deadline !== 0) this.#pending.delete(context);
    if (this.#state >= State.Closing) return;
    const writer = this.#writer;
    const start = writer.length;
    const fallback = this.#options.fallbackActions;
    if (!this.#writeAck(context, actions)) {
      writer.truncate(start);
      if (actions !== fallback && this.#writeAck(context, fallback)) {
        // The fallback ACK went out instead.
      } else {
        writer.truncate(start);
        this.#writeAck(context, []);
      }
    }
    this.#unflushedAcks++;
    this.#scheduleFlush();
  }

  /** Appends one ACK; false (and a log line) if it cannot be encoded or is too big. */
  #writeAck(context: NotifyContext, actions: readonly Action[]): boolean {
    const writer = this.#writer;
    const start = beginFrame(
      writer,
      FrameType.Ack,
      FrameFlags.Fin,
      context.streamId,
      context.frameId,
    );
    try {
      writeActions(writer, actions);
    } catch (error) {
      this.#options.logger.error(
        `SPOA: cannot encode the actions for NOTIFY ${context.streamId}/${context.frameId}`,
        error,
      );
      return false;
    }
    const length = endFrame(writer, start);
    if (length > this.#maxFrameSize) {
      this.#options.logger.warn(
        `SPOA: the ACK for NOTIFY ${context.streamId}/${context.frameId} is ${length} bytes, ` +
          `over max-frame-size ${this.#maxFrameSize}; its actions are dropped`,
      );
      return false;
    }
    return true;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flush);
  }

  #flushNow(): void {
    this.#flushScheduled = false;
    if (this.#writing || this.#state === State.Closed) return;
    const writer = this.#writer;
    if (writer.length > 0) {
      const bytes = writer.take();
      const acks = this.#unflushedAcks;
      this.#unflushedAcks = 0;
      let pending: Promise<void> | undefined;
      try {
        pending = this.#transport.write(bytes);
      } catch (error) {
        this.#transport.close();
        this.closed(error);
        return;
      }
      if (pending !== undefined) {
        this.#writing = true;
        pending.then(
          () => {
            this.#writing = false;
            this.#written(acks);
            this.#flushNow();
          },
          (error) => {
            this.#transport.close();
            this.closed(error);
          },
        );
        return;
      }
      this.#written(acks);
    }
    if (this.#closeAfterFlush && writer.length === 0) {
      this.#closeAfterFlush = false;
      this.#transport.close();
    }
  }

  #written(acks: number): void {
    if (acks === 0 || this.#state === State.Closed) return;
    this.#inFlight -= acks;
    if (this.#drainEager && this.#inFlight === 0) {
      clearTimeout(this.#drainTimer);
      this.#sawNotify = false;
      this.#drainTimer = setTimeout(() => this.#checkDrained(), DRAIN_SETTLE_MS);
    }
    if (this.#paused && this.#inFlight < this.#options.maxInFlight) {
      this.#paused = false;
      this.#transport.resume();
      this.#pump();
    }
  }

  #fail(error: unknown): void {
    if (this.#state >= State.Closing) return;
    const status = error instanceof SpopError ? error.status : Status.Unknown;
    const message = error instanceof Error ? error.message : String(error);
    this.#options.logger.error(
      `SPOA: protocol error on the connection from ${this.remoteAddress}: ${message} ` +
        `(status ${status}); closing it`,
    );
    this.#disconnect(status, message);
  }

  /** Sends AGENT-DISCONNECT after whatever ACKs are ready, then closes. */
  #disconnect(status: number, message: string): void {
    if (this.#state >= State.Closing) return;
    this.#state = State.Closing;
    this.#abandonPending(new SpopError(status, message));
    this.#clearTimers();
    let text = message;
    while (new TextEncoder().encode(text).length > MAX_DISCONNECT_MESSAGE) {
      text = text.slice(0, -16);
    }
    const writer = this.#writer;
    const start = beginFrame(writer, FrameType.AgentDisconnect, FrameFlags.Fin, 0, 0);
    writeKvList(writer, [
      new NamedValue("status-code", DataType.Uint32, status),
      new NamedValue("message", DataType.String, text),
    ]);
    endFrame(writer, start);
    this.#closeAfterFlush = true;
    this.#scheduleFlush();
  }

  #abandonPending(reason: SpopError): void {
    for (const context of this.#pending) {
      context.done = true;
      context.abort(reason);
    }
    this.#pending.clear();
    this.#fragments = undefined;
  }

  #armIdleTimer(): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#state >= State.Closing) return;
      if (!this.#sawTraffic && this.#inFlight === 0) {
        this.#options.logger.debug(`SPOA: closing idle connection from ${this.remoteAddress}`);
        this.#disconnect(Status.Timeout, "idle timeout");
        return;
      }
      this.#sawTraffic = false;
      this.#armIdleTimer();
    }, this.#options.idleTimeout);
  }

  #clearTimers(): void {
    clearTimeout(this.#helloTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#drainTimer);
    this.#helloTimer =
      this.#idleTimer =
      this.#deadlineTimer =
      this.#drainTimer =
        undefined;
  }
}
