// Shared helpers of the engine tests: a recording logger, a tap on the agent's transport (to count
// writes and see every frame the agent sends), a transport the test drives write by write,
// deferred promises and small timing helpers.
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { decodeFrame, encodeFrame, type Frame, FrameType } from "../../src/codec/frame.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { type MessageInit, writeMessages } from "../../src/codec/message.ts";
import { DataType, toTypedValue } from "../../src/codec/typed_value.ts";
import type { SpopValue } from "../../src/codec/typed_value.ts";
import type { Agent } from "../../src/engine/agent.ts";
import type { LogFields, Logger } from "../../src/engine/logger.ts";
import type { Transport, TransportSink } from "../../src/engine/transport.ts";
import { FrameReader } from "../../src/reader/frame_reader.ts";
import type { HaproxySimulator } from "../../src/testing/simulator.ts";
import { delay, within } from "../_timing.ts";
export { delay, within };

/** One logged line. */
export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: LogFields | undefined;
}

/** A logger that keeps every line, to assert on what the agent reported. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: "debug", message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: "info", message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: "error", message, fields });
  }
  /** The lines of one level. */
  at(level: LogLine["level"]): LogLine[] {
    return this.lines.filter((line) => line.level === level);
  }
}

/** Waits for the next macrotask (every pending microtask has run). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** Creates a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Closes simulators from HAProxy's side and lets the agent see it (its timers are cleared), then
 * checks that the agent sent nothing real HAProxy would reject.
 */
export async function shut(...simulators: HaproxySimulator[]): Promise<void> {
  for (const simulator of simulators) simulator.close();
  await tick();
  for (const simulator of simulators) {
    assert.deepEqual(simulator.violations, [], "the agent sent what HAProxy would reject");
  }
}

/** Waits until the agent has closed the simulator's connection (or fails after `ms`). */
export function closedWithin(simulator: HaproxySimulator, ms = 2000): Promise<void> {
  return within(simulator.closed, ms, "the agent to close the connection");
}

/** The value of a KV item of a HELLO or DISCONNECT frame. */
export function item(frame: Frame, name: string): SpopValue | undefined {
  return frame.items?.find((entry) => entry.name === name)?.value;
}

/** Asserts that a frame is AGENT-DISCONNECT with this status and a non-empty message. */
export function assertDisconnect(frame: Frame, status: number): void {
  assert.equal(
    frame.type,
    FrameType.AgentDisconnect,
    `expected AGENT-DISCONNECT, got ${frame.type}`,
  );
  assert.equal(frame.streamId, 0);
  assert.equal(frame.frameId, 0);
  assert.equal(item(frame, "status-code"), status, `message: ${item(frame, "message")}`);
  const message = item(frame, "message");
  assert.equal(typeof message, "string");
  assert.ok((message as string).length > 0, "AGENT-DISCONNECT carries a message");
}

/**
 * Splits one agent write into frames, asserting it holds whole frames only (no frame is split
 * across writes).
 */
export function framesOf(write: Uint8Array): Frame[] {
  const reader = new FrameReader({ maxFrameSize: 0xffff_ffff });
  reader.push(write);
  const frames: Frame[] = [];
  for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
    frames.push(decodeFrame(raw));
  }
  assert.equal(reader.bufferedBytes, 0, "an agent write ends on a frame boundary");
  return frames;
}

/** What a tap on the agent's transports saw. */
export interface Tap {
  /** Pass this to `HaproxySimulator.connect` instead of the agent. */
  readonly agent: Agent;
  /** Every write of the agent, in order, over all tapped connections. */
  readonly writes: Uint8Array[];
  /** Every chunk handed to the agent while it had paused its transport. */
  readonly receivedWhilePaused: Uint8Array[];
  /** Every frame the agent wrote, in order. */
  frames(): Frame[];
  /** The ACK frames the agent wrote for these ids. */
  acks(streamId: number, frameId: number): Frame[];
}

/**
 * Wraps an agent so that every transport it gets is tapped: writes are recorded, and chunks
 * delivered while the agent has paused reading are noted.
 */
export function tap(agent: Agent): Tap {
  const writes: Uint8Array[] = [];
  const receivedWhilePaused: Uint8Array[] = [];
  const proxy = {
    accept(transport: Transport): TransportSink | undefined {
      let paused = false;
      const tapped: Transport = {
        get remoteAddress() {
          return transport.remoteAddress;
        },
        write(bytes) {
          writes.push(bytes.slice());
          return transport.write(bytes);
        },
        close() {
          transport.close();
        },
        pause() {
          paused = true;
          transport.pause();
        },
        resume() {
          paused = false;
          transport.resume();
        },
      };
      const sink = agent.accept(tapped);
      if (sink === undefined) return undefined;
      return {
        receive(chunk) {
          if (paused) receivedWhilePaused.push(chunk);
          sink.receive(chunk);
        },
        closed(error) {
          sink.closed(error);
        },
      };
    },
  };
  const frames = () => writes.flatMap(framesOf);
  return {
    agent: proxy as unknown as Agent,
    writes,
    receivedWhilePaused,
    frames,
    acks: (streamId, frameId) =>
      frames().filter((frame) =>
        frame.type === FrameType.Ack && frame.streamId === streamId && frame.frameId === frameId
      ),
  };
}

/** Encodes a list of messages (plain values typed as HAProxy would), to build raw NOTIFY payloads. */
export function messagesPayload(
  messages: ReadonlyArray<{ name: string; args?: Record<string, SpopValue> }>,
): Uint8Array {
  const writer = new ByteWriter(256);
  const inits: MessageInit[] = messages.map((message) => ({
    name: message.name,
    args: Object.entries(message.args ?? {}).map(([name, value]) => {
      const typed = toTypedValue(value);
      return new NamedValue(name, typed.type, typed.value);
    }),
  }));
  writeMessages(writer, inits);
  return writer.take();
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A socket the test drives: it records writes, and holds or fails them when told. */
export class TestTransport implements Transport {
  readonly remoteAddress = "198.51.100.1:4000";
  readonly writes: Uint8Array[] = [];
  readonly held: Deferred<void>[] = [];
  mode: "instant" | "held" | "fail" = "instant";
  pauses = 0;
  resumes = 0;
  closes = 0;

  write(bytes: Uint8Array): Promise<void> | undefined {
    // A copy: the engine reuses the memory once the write is done.
    this.writes.push(bytes.slice());
    if (this.mode === "instant") return undefined;
    if (this.mode === "fail") return Promise.reject(new Error("write EIO"));
    const write = deferred();
    this.held.push(write);
    return write.promise;
  }
  close(): void {
    this.closes++;
  }
  pause(): void {
    this.pauses++;
  }
  resume(): void {
    this.resumes++;
  }
  /** Every frame written so far. */
  frames(): Frame[] {
    return this.writes.flatMap(framesOf);
  }
  /** Lets every held write complete, one turn each. */
  async release(): Promise<void> {
    while (this.held.length > 0) {
      this.held.shift()!.resolve();
      await tick();
    }
  }
}

/** A HAPROXY-HELLO frame (with its length) offering these capabilities, as HAProxy 3.x sends it. */
export function haproxyHello(capabilities = "pipelining", maxFrameSize = 16380): Uint8Array {
  return encodeFrame({
    type: FrameType.HaproxyHello,
    items: [
      new NamedValue("supported-versions", DataType.String, "2.0"),
      new NamedValue("max-frame-size", DataType.Uint32, maxFrameSize),
      new NamedValue("capabilities", DataType.String, capabilities),
    ],
  });
}
