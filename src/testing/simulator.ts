/**
 * A simulated HAProxy: it speaks HAProxy's side of SPOP (HELLO as 2.6 or 3.x
 * sends it, health checks, NOTIFY with any values, fragmented NOTIFY,
 * DISCONNECT) to an agent in memory or over a real socket, so handlers can be
 * unit-tested in a few lines.
 *
 * @module
 */

import { type Action, ActionType, scopeName } from "../codec/action.ts";
import { ByteWriter } from "../codec/byte_writer.ts";
import {
  MAX_DISCONNECT_MESSAGE_BYTES,
  readDisconnect,
  writeHaproxyDisconnect,
} from "../codec/disconnect_frames.ts";
import {
  decodeFrame,
  type Frame,
  FrameFlags,
  FrameType,
  frameTypeName,
  readFrameHeader,
  writeFrame,
} from "../codec/frame.ts";
import { writeHaproxyHello } from "../codec/hello_frames.ts";
import type { MessageInit } from "../codec/message.ts";
import { NamedValue } from "../codec/kv_list.ts";
import { writeMessages } from "../codec/message.ts";
import { writeNotify } from "../codec/notify_frames.ts";
import { DataType, type SpopValue, toTypedValue, type TypedValue } from "../codec/typed_value.ts";
import { FrameReader } from "../reader/frame_reader.ts";
import type { Agent } from "../engine/agent.ts";
import { MemoryPipe } from "./pipe.ts";

/** Which HAProxy generation to imitate. */
export type HaproxyFlavor = "2.6" | "3.x";

/** The HELLO the simulator sends. */
export interface SimulatorHelloOptions {
  /** `supported-versions`; `undefined` leaves it out when `omit` lists it. @default {"2.0"} */
  supportedVersions?: string;
  /** `max-frame-size`. @default {16380} */
  maxFrameSize?: number;
  /** `capabilities`. @default {"pipelining,async" for 2.6, "pipelining" for 3.x} */
  capabilities?: string;
  /** `engine-id`. @default a fixed UUID-shaped id */
  engineId?: string;
  /** Send `healthcheck: true` (and no engine-id), as `option spop-check` does. */
  healthcheck?: boolean;
  /** Leave these items out, to test the agent's errors. */
  omit?: readonly string[];
}

/** A message to send: arguments as an object (or pairs, for nameless or repeated names). */
export interface SimulatorMessage {
  /** The message name. */
  name: string;
  /**
   * The arguments. Plain values are typed as HAProxy would send them
   * ({@linkcode toTypedValue}: integers as INT64); pass {@linkcode Value}s to choose.
   */
  args?:
    | Record<string, SpopValue | TypedValue>
    | ReadonlyArray<readonly [string, SpopValue | TypedValue]>;
}

/** The agent's answer to a NOTIFY. */
export interface AckResult {
  /** The ACK's stream-id. */
  streamId: number;
  /** The ACK's frame-id. */
  frameId: number;
  /** The actions, in order. */
  actions: Action[];
  /** The values of the set-var actions by `scope.name` (e.g. `"sess.ip_score"`). */
  vars: Record<string, SpopValue>;
}

/** Options of {@linkcode HaproxySimulator.connect}. */
export interface SimulatorOptions {
  /** The HAProxy generation to imitate: ids, HELLO. @default {"3.x"} */
  flavor?: HaproxyFlavor;
  /** How long to wait for an answer before failing, in ms. @default {5000} */
  timeout?: number;
  /** The address the agent sees for this connection. @default {"memory"} */
  remoteAddress?: string;
}

interface Waiter {
  resolve(frame: Frame): void;
  reject(error: Error): void;
}

function toMessageInit(message: SimulatorMessage): MessageInit {
  const entries = message.args === undefined
    ? []
    : Array.isArray(message.args)
    ? message.args
    : Object.entries(message.args);
  return {
    name: message.name,
    args: entries.map(([name, value]) => {
      const typed = toTypedValue(value);
      return new NamedValue(name, typed.type, typed.value);
    }),
  };
}

function ackResult(frame: Frame): AckResult {
  const actions = frame.actions ?? [];
  const vars: Record<string, SpopValue> = {};
  for (const action of actions) {
    if (action.type === ActionType.SetVar) {
      vars[`${scopeName(action.scope)}.${action.name}`] = action.value.value;
    }
  }
  return { streamId: frame.streamId, frameId: frame.frameId, actions, vars };
}

/**
 * The agent sent something real HAProxy would reject: a frame over the
 * negotiated max-frame-size, an ACK without FIN or for a NOTIFY never sent, an
 * AGENT-DISCONNECT message over 255 bytes, a frame of the wrong type for the
 * state of the connection, an AGENT-HELLO HAProxy would refuse. Every waiter
 * of the simulator fails with it, and {@linkcode HaproxySimulator.violations}
 * keeps it.
 */
export class ProtocolViolationError extends Error {
  /**
   * Creates the error.
   *
   * @param message What the agent did wrong.
   */
  constructor(message: string) {
    super(`the agent broke the protocol: ${message}`);
    this.name = "ProtocolViolationError";
  }
}

function itemOf(frame: Frame, name: string): NamedValue | undefined {
  return frame.items?.find((item) => item.name === name);
}

/** The raw byte channel under a simulator: memory pipe or socket. */
interface Channel {
  send(bytes: Uint8Array): void;
  close(): void;
}

/**
 * Plays HAProxy against an agent.
 *
 * @example Unit-test a handler
 * ```ts
 * import { Agent } from "@spoa/agent";
 * import { HaproxySimulator } from "@spoa/agent/testing";
 *
 * const agent = new Agent().on("get-ip-reputation", (message, context) => {
 *   context.setVar("sess", "ip_score", 42);
 * });
 * const haproxy = HaproxySimulator.connect(agent);
 * await haproxy.hello();
 * const ack = await haproxy.notify([{ name: "get-ip-reputation", args: { ip: "192.0.2.7" } }]);
 * console.log(ack.vars["sess.ip_score"]); // 42
 * await haproxy.disconnect();
 * ```
 */
export class HaproxySimulator {
  /** The HAProxy generation imitated. */
  readonly flavor: HaproxyFlavor;
  #pipe: MemoryPipe | undefined;
  /** Settles when the agent closes the connection. */
  readonly closed: Promise<void>;
  #channel!: Channel;
  #inMemory = false;
  #reader = new FrameReader({ maxFrameSize: 0xffff_ffff });
  #writer = new ByteWriter(1024);
  #timeout: number;
  #frames: Frame[] = [];
  #frameWaiters: Waiter[] = [];
  /** ACKs not yet waited for, and waiters for ACKs not yet arrived, per `sid/fid`, in order. */
  #acks = new Map<string, Frame[]>();
  #ackWaiters = new Map<string, Waiter[]>();
  #nextStreamId: number;
  #isClosed = false;
  #resolveClosed!: () => void;
  #error: Error | undefined;
  /** What the simulator sent, parsed again: which NOTIFYs await an ACK, which HELLO was sent. */
  #sentReader = new FrameReader({ maxFrameSize: 0xffff_ffff });
  #tracking = true;
  #outstanding = new Map<string, number>();
  #offeredFrameSize: number | undefined;
  #agentFrameSize: number | undefined;
  #agentState: "hello" | "ready" | "disconnected" = "hello";
  #violations: string[] = [];

  private constructor(flavor: HaproxyFlavor, timeout: number) {
    this.flavor = flavor;
    this.#timeout = timeout;
    this.#nextStreamId = flavor === "3.x" ? 1 : 0;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
  }

  /**
   * Connects to an agent in memory: no socket, same engine.
   *
   * @param agent The agent under test.
   * @param options Flavor, timeout, remote address.
   * @returns The simulator.
   * @throws {Error} If the agent refuses the connection (maxConnections).
   */
  static connect(agent: Agent, options: SimulatorOptions = {}): HaproxySimulator {
    const simulator = new HaproxySimulator(options.flavor ?? "3.x", options.timeout ?? 5000);
    const pipe = new MemoryPipe({
      onData: (bytes) => simulator.#receive(bytes),
      onClose: () => simulator.#onClose(),
    }, options.remoteAddress);
    simulator.#pipe = pipe;
    simulator.#inMemory = true;
    simulator.#channel = { send: (bytes) => pipe.send(bytes), close: () => pipe.end() };
    const sink = agent.accept(pipe.transport);
    if (sink === undefined) {
      simulator.#onClose();
      return simulator;
    }
    pipe.attach(sink);
    return simulator;
  }

  /**
   * Connects to a listening agent over TCP or a Unix socket (with `node:net`,
   * which Deno, Bun and Node all provide).
   *
   * @param target `{ hostname, port }` or `{ path }`.
   * @param options Flavor and timeout.
   * @returns The connected simulator.
   */
  static async connectSocket(
    target: { hostname?: string; port: number } | { path: string },
    options: SimulatorOptions = {},
  ): Promise<HaproxySimulator> {
    const net = await import("node:net");
    const simulator = new HaproxySimulator(options.flavor ?? "3.x", options.timeout ?? 5000);
    const socket = "path" in target
      ? net.connect({ path: target.path })
      : net.connect({ host: target.hostname ?? "127.0.0.1", port: target.port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      simulator.#receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    socket.on("error", () => {});
    socket.on("close", () => simulator.#onClose());
    simulator.#channel = {
      send: (bytes) => socket.write(bytes),
      close: () => socket.destroy(),
    };
    return simulator;
  }

  /** The in-memory pipe, when connected in memory (to test backpressure). */
  get pipe(): MemoryPipe | undefined {
    return this.#pipe;
  }

  /** Whether the agent has closed the connection. */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /**
   * What the agent did that real HAProxy would reject, in order (empty when
   * all is well). Tests should check it is empty at the end.
   */
  get violations(): readonly string[] {
    return this.#violations;
  }

  /**
   * Sends raw bytes, for malformed-input tests.
   *
   * @param bytes The bytes.
   */
  send(bytes: Uint8Array): void {
    this.#track(bytes);
    this.#channel.send(bytes);
  }

  /**
   * Sends one frame.
   *
   * @param frame The frame (see `encodeFrame`).
   */
  sendFrame(frame: Parameters<typeof writeFrame>[1]): void {
    writeFrame(this.#writer, frame);
    this.send(this.#writer.take());
  }

  /**
   * Sends HAPROXY-HELLO as the chosen flavor does, and returns the agent's reply.
   *
   * @param options What to send.
   * @returns The AGENT-HELLO (or AGENT-DISCONNECT) frame.
   */
  hello(options: SimulatorHelloOptions = {}): Promise<Frame> {
    const omit = new Set(options.omit ?? []);
    const keep = <T>(name: string, value: T): T | undefined => omit.has(name) ? undefined : value;
    writeHaproxyHello(this.#writer, {
      supportedVersions: keep("supported-versions", options.supportedVersions ?? "2.0"),
      maxFrameSize: keep("max-frame-size", options.maxFrameSize ?? 16380),
      capabilities: keep(
        "capabilities",
        options.capabilities ??
          (options.healthcheck ? "" : this.flavor === "2.6" ? "pipelining,async" : "pipelining"),
      ),
      engineId: options.healthcheck
        ? undefined
        : keep("engine-id", options.engineId ?? "3c6a1b2e-5f4d-4e8a-9b7c-0d1e2f3a4b5c"),
      healthcheck: options.healthcheck ? keep("healthcheck", true) : undefined,
    });
    this.send(this.#writer.take());
    return this.nextFrame();
  }

  /**
   * Sends the health-check HELLO of `option spop-check`.
   *
   * @returns The agent's reply.
   */
  healthcheck(): Promise<Frame> {
    return this.hello({ healthcheck: true });
  }

  /**
   * Sends a NOTIFY without waiting for its ACK.
   *
   * @param messages The messages.
   * @param ids The stream-id and frame-id; by default the next ones of the flavor.
   * @returns The ids used, for {@linkcode HaproxySimulator.waitAck}.
   */
  sendNotify(
    messages: readonly SimulatorMessage[],
    ids: { streamId?: number; frameId?: number } = {},
  ): { streamId: number; frameId: number } {
    const streamId = ids.streamId ?? this.#allocateStreamId();
    const frameId = ids.frameId ?? 1;
    writeNotify(this.#writer, streamId, frameId, messages.map(toMessageInit));
    this.send(this.#writer.take());
    return { streamId, frameId };
  }

  /**
   * Sends a NOTIFY and waits for its ACK.
   *
   * @param messages The messages.
   * @param ids The stream-id and frame-id; by default the next ones of the flavor.
   * @returns The ACK.
   */
  notify(
    messages: readonly SimulatorMessage[],
    ids: { streamId?: number; frameId?: number } = {},
  ): Promise<AckResult> {
    const sent = this.sendNotify(messages, ids);
    return this.waitAck(sent.streamId, sent.frameId);
  }

  /**
   * Sends a NOTIFY in fragments, as HAProxy 2.6/3.0 do: a NOTIFY frame without
   * FIN, then UNSET frames, the last with FIN (or FIN|ABORT when `abort`).
   *
   * @param messages The messages.
   * @param options The payload size of each fragment, the ids, and whether to abort.
   * @returns The ids used.
   */
  sendFragmented(
    messages: readonly SimulatorMessage[],
    options: { fragmentSize: number; streamId?: number; frameId?: number; abort?: boolean },
  ): { streamId: number; frameId: number } {
    const streamId = options.streamId ?? this.#allocateStreamId();
    const frameId = options.frameId ?? 1;
    const payloadWriter = new ByteWriter(1024);
    writeMessages(payloadWriter, messages.map(toMessageInit));
    const payload = payloadWriter.take();
    const size = Math.max(1, options.fragmentSize);
    for (let offset = 0, first = true; offset < payload.length || first; first = false) {
      const part = payload.subarray(offset, offset + size);
      offset += part.length;
      const last = offset >= payload.length;
      if (last && options.abort) {
        if (part.length > 0) {
          this.sendFrame({
            type: first ? FrameType.Notify : FrameType.Unset,
            flags: 0,
            streamId,
            frameId,
            payload: part,
          });
        }
        this.sendFrame({
          type: FrameType.Unset,
          flags: FrameFlags.Fin | FrameFlags.Abort,
          streamId,
          frameId,
        });
        break;
      }
      this.sendFrame({
        type: first ? FrameType.Notify : FrameType.Unset,
        flags: last ? FrameFlags.Fin : 0,
        streamId,
        frameId,
        payload: part,
      });
    }
    return { streamId, frameId };
  }

  /**
   * Waits for the ACK of a NOTIFY.
   *
   * @param streamId The NOTIFY's stream-id.
   * @param frameId The NOTIFY's frame-id.
   * @returns The ACK.
   * @throws {Error} If no ACK comes in time or the connection closes first.
   */
  async waitAck(streamId: number, frameId: number): Promise<AckResult> {
    const key = `${streamId}/${frameId}`;
    const ready = this.#acks.get(key);
    if (ready !== undefined) {
      const frame = ready.shift()!;
      if (ready.length === 0) this.#acks.delete(key);
      return ackResult(frame);
    }
    // HAProxy 2.6/3.0 reuse a (stream-id, frame-id) pair after a timeout: waiters of one pair
    // get its ACKs in the order they arrive.
    const frame = await this.#wait(
      `the ACK of ${key}`,
      (waiter) => {
        const waiters = this.#ackWaiters.get(key);
        if (waiters === undefined) this.#ackWaiters.set(key, [waiter]);
        else waiters.push(waiter);
      },
      (waiter) => {
        const waiters = this.#ackWaiters.get(key);
        const index = waiters?.indexOf(waiter) ?? -1;
        if (index >= 0) waiters!.splice(index, 1);
        if (waiters?.length === 0) this.#ackWaiters.delete(key);
      },
    );
    return ackResult(frame);
  }

  /**
   * Waits for the next frame that is not an ACK (AGENT-HELLO, AGENT-DISCONNECT).
   *
   * @returns The frame.
   * @throws {Error} If none comes in time or the connection closes first.
   */
  nextFrame(): Promise<Frame> {
    const frame = this.#frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    return this.#wait(
      "a frame",
      (waiter) => this.#frameWaiters.push(waiter),
      (waiter) => {
        const index = this.#frameWaiters.indexOf(waiter);
        if (index >= 0) this.#frameWaiters.splice(index, 1);
      },
    );
  }

  /**
   * Sends HAPROXY-DISCONNECT and waits for the agent's AGENT-DISCONNECT.
   *
   * @param status The status code. @default 0
   * @param message The message. @default "normal"
   * @returns The agent's AGENT-DISCONNECT frame.
   */
  async disconnect(status = 0, message = "normal"): Promise<Frame> {
    writeHaproxyDisconnect(this.#writer, status, message);
    this.send(this.#writer.take());
    const frame = await this.nextFrame();
    await this.closed;
    return frame;
  }

  /** Closes the connection from HAProxy's side without a DISCONNECT (as 3.1+ does). */
  close(): void {
    this.#channel.close();
  }

  #allocateStreamId(): number {
    const id = this.#nextStreamId;
    this.#nextStreamId += this.flavor === "3.x" ? 2 : 1;
    return id;
  }

  /** Parses what the simulator sends, to know which NOTIFYs await an ACK. */
  #track(bytes: Uint8Array): void {
    if (!this.#tracking) return;
    this.#sentReader.push(bytes.slice());
    try {
      for (let raw = this.#sentReader.next(); raw !== undefined; raw = this.#sentReader.next()) {
        const header = readFrameHeader(raw, {
          type: 0,
          flags: 0,
          streamId: 0,
          frameId: 0,
          payloadOffset: 0,
        });
        if (header.type === FrameType.Notify) {
          const key = `${header.streamId}/${header.frameId}`;
          this.#outstanding.set(key, (this.#outstanding.get(key) ?? 0) + 1);
        } else if (header.type === FrameType.HaproxyHello && this.#offeredFrameSize === undefined) {
          // A test that offers a size HAProxy never would (below 256) checks against the default.
          const size = itemOf(decodeFrame(raw), "max-frame-size")?.value;
          this.#offeredFrameSize = typeof size === "number" && size >= 256 ? size : 16380;
        }
      }
    } catch {
      // Deliberately malformed bytes: from here on, which NOTIFYs await an ACK is unknown.
      this.#tracking = false;
    }
  }

  #receive(bytes: Uint8Array): void {
    // After a violation HAProxy would have closed: what follows is not looked at.
    if (this.#violations.length > 0) return;
    this.#reader.push(bytes);
    for (;;) {
      let raw: Uint8Array | undefined;
      let frame: Frame;
      try {
        raw = this.#reader.next();
        if (raw === undefined) break;
        const limit = this.#agentFrameSize ?? this.#offeredFrameSize ?? 16380;
        if (raw.length > limit) {
          this.#violate(`a frame of ${raw.length} bytes, over max-frame-size ${limit}`);
          return;
        }
        frame = decodeFrame(raw);
      } catch (error) {
        this.#violate(`an undecodable frame (${(error as Error).message})`);
        return;
      }
      const violation = this.#check(frame);
      if (violation !== undefined) {
        this.#violate(violation);
        return;
      }
      if (frame.type === FrameType.Ack) {
        const key = `${frame.streamId}/${frame.frameId}`;
        const waiters = this.#ackWaiters.get(key);
        const waiter = waiters?.shift();
        if (waiters?.length === 0) this.#ackWaiters.delete(key);
        if (waiter) {
          waiter.resolve(frame);
        } else {
          const ready = this.#acks.get(key);
          if (ready === undefined) this.#acks.set(key, [frame]);
          else ready.push(frame);
        }
      } else {
        const waiter = this.#frameWaiters.shift();
        if (waiter) waiter.resolve(frame);
        else this.#frames.push(frame);
      }
    }
    // HAProxy 3.2+ could reset a connection on an agent frame split over several writes
    // (NOTES §1): in memory, each write of the agent must end on a frame boundary.
    if (this.#inMemory && this.#reader.bufferedBytes > 0) {
      this.#violate("a write of the agent ends inside a frame (write each frame whole)");
    }
  }

  /** What real HAProxy would reject in a frame from the agent, if anything. */
  #check(frame: Frame): string | undefined {
    const name = frameTypeName(frame.type);
    if (this.#agentState === "disconnected") return `${name} after AGENT-DISCONNECT`;
    const control = frame.type === FrameType.AgentHello ||
      frame.type === FrameType.AgentDisconnect;
    if (control && (frame.streamId !== 0 || frame.frameId !== 0)) {
      return `${name} with stream-id ${frame.streamId} and frame-id ${frame.frameId} (must be 0)`;
    }
    if (frame.flags !== FrameFlags.Fin) {
      return `${name} with flags 0x${frame.flags.toString(16)} (HAProxy takes FIN only)`;
    }
    switch (frame.type) {
      case FrameType.AgentHello:
        if (this.#agentState !== "hello") return "a second AGENT-HELLO";
        this.#agentState = "ready";
        return this.#checkHello(frame);
      case FrameType.AgentDisconnect: {
        this.#agentState = "disconnected";
        const { status, message } = readDisconnect(frame.items ?? []);
        if (status === undefined) return "AGENT-DISCONNECT without a status-code";
        const bytes = new TextEncoder().encode(message).length;
        if (bytes > MAX_DISCONNECT_MESSAGE_BYTES) {
          return `AGENT-DISCONNECT message of ${bytes} bytes (HAProxy 2.6/3.0 take 255)`;
        }
        return undefined;
      }
      case FrameType.Ack: {
        if (this.#agentState === "hello") return "ACK before AGENT-HELLO";
        if (!this.#tracking) return undefined;
        const key = `${frame.streamId}/${frame.frameId}`;
        const count = this.#outstanding.get(key) ?? 0;
        if (count === 0) return `ACK ${key} for no NOTIFY awaiting one`;
        if (count === 1) this.#outstanding.delete(key);
        else this.#outstanding.set(key, count - 1);
        return undefined;
      }
      default:
        return `a frame of type ${name}`;
    }
  }

  #checkHello(frame: Frame): string | undefined {
    const version = itemOf(frame, "version");
    if (version?.type !== DataType.String || version.value !== "2.0") {
      return `AGENT-HELLO version ${JSON.stringify(version?.value)} (HAProxy takes "2.0")`;
    }
    const size = itemOf(frame, "max-frame-size");
    const offered = this.#offeredFrameSize ?? 16380;
    if (
      size === undefined || typeof size.value !== "number" ||
      size.type < DataType.Int32 || size.type > DataType.Uint64
    ) {
      return "AGENT-HELLO without an integer max-frame-size";
    }
    if (size.value < 256 || size.value > offered) {
      return `AGENT-HELLO max-frame-size ${size.value} outside 256 to ${offered}`;
    }
    this.#agentFrameSize = size.value;
    if (itemOf(frame, "capabilities")?.type !== DataType.String) {
      return "AGENT-HELLO without capabilities (HAProxy 3.1+ health checks require them)";
    }
    return undefined;
  }

  #violate(message: string): void {
    this.#violations.push(message);
    this.#error = new ProtocolViolationError(message);
    this.#failWaiters(this.#error);
  }

  #onClose(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#failWaiters(new Error("the agent closed the connection"));
    this.#resolveClosed();
  }

  #failWaiters(error: Error): void {
    for (const waiter of this.#frameWaiters.splice(0)) waiter.reject(error);
    for (const waiters of this.#ackWaiters.values()) {
      for (const waiter of waiters) waiter.reject(error);
    }
    this.#ackWaiters.clear();
  }

  #wait(
    what: string,
    register: (waiter: Waiter) => void,
    unregister: (waiter: Waiter) => void,
  ): Promise<Frame> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#isClosed) {
      return Promise.reject(new Error(`the agent closed the connection before ${what}`));
    }
    return new Promise<Frame>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        unregister(waiter);
        reject(new Error(`no answer from the agent: waited ${this.#timeout} ms for ${what}`));
      }, this.#timeout);
      register(waiter);
    });
  }
}
