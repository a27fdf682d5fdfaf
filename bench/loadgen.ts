/**
 * SPOP load generator: plays HAProxy 3.x's side of the protocol over TCP.
 *
 * Each of C connections sends the HELLO HAProxy 3.x sends, then NOTIFY frames
 * (odd stream-ids 1, 3, 5… per connection, frame-id 1) carrying M messages
 * `get-ip-reputation` (`get-ip-reputation-async` with --async) with an IPv4
 * `ip` that changes every message, keeping P frames in flight (closed loop) or
 * sending at a fixed rate (--rate, open loop with at most P in flight per
 * connection). --args N gives each message N - 1 unread filler arguments before
 * `ip`, --payload N an unread STRING of N bytes after it (bench/_shape.ts).
 *
 * Every ACK is checked: its ids must match an outstanding NOTIFY and its
 * actions must decode to `set-var(sess.ip_score)` = the last byte of each
 * message's `ip`, in order. Only ACKs that checked out are counted. A run with
 * any error (wrong or unknown ACK, decode error, disconnect, unanswered NOTIFY,
 * from the first HELLO to the end of the drain) or without a single checked
 * ACK has failed: it reports no throughput, only `"ok": false`, the error
 * counts and the first few mismatches, and exits with 1.
 *
 * Usage (any runtime; Node 24 or Bun recommended, see BENCHMARKS.md):
 *
 *   node bench/loadgen.ts [--target 127.0.0.1:12345] [-c 4] [-p 64] [--rate 0]
 *        [--payload 0] [--messages 1] [--args 1] [--async] [--duration 5] [--warmup 2] [--json]
 *
 * Prints messages/s, latency percentiles and its own CPU use (user + system
 * over the measured window, as a fraction of one core) so that a saturated
 * generator is visible; with --json, one JSON line instead.
 * Exit code 0 when the run passed, 1 when it failed, 2 on bad arguments.
 *
 * @module
 */

import * as net from "node:net";
import { readFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import process from "node:process";
import {
  ByteWriter,
  DataType,
  decodeActions,
  decodeFrame,
  FrameType,
  writeFrame,
} from "../src/codec/mod.ts";
import { writeVarint } from "../src/codec/varint.ts";
import { actionPrefix, checkActions, notifyTemplate, type Shape } from "./_shape.ts";

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  host: string;
  port: number;
  connections: number;
  pipeline: number;
  rate: number;
  payload: number;
  messages: number;
  args: number;
  async: boolean;
  duration: number;
  warmup: number;
  json: boolean;
  drain: number;
  agentPid: number;
  clockTicks: number;
}

function usage(message?: string): never {
  if (message) console.error(`loadgen: ${message}`);
  console.error(
    "usage: loadgen [--target HOST:PORT] [-c CONNS] [-p IN_FLIGHT] [--rate MSG_PER_S]\n" +
      "               [--payload BYTES] [--messages PER_FRAME] [--args PER_MESSAGE] [--async]\n" +
      "               [--duration S] [--warmup S] [--json]\n" +
      "               [--agent-pid PID [--clock-ticks 100]]   (Linux: also report the agent's CPU and RSS)",
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    host: "127.0.0.1",
    port: 12345,
    connections: 4,
    pipeline: 64,
    rate: 0,
    payload: 0,
    messages: 1,
    args: 1,
    async: false,
    duration: 5,
    warmup: 2,
    json: false,
    drain: 2,
    agentPid: 0,
    clockTicks: 100,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const key = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${key} needs a value`);
      return argv[++i];
    };
    const num = (min: number) => {
      const v = Number(value());
      if (!Number.isFinite(v) || v < min) usage(`${key} must be a number ≥ ${min}`);
      return v;
    };
    switch (key) {
      case "--target": {
        const t = value();
        const colon = t.lastIndexOf(":");
        if (colon < 0) usage("--target is HOST:PORT");
        o.host = t.slice(0, colon).replace(/^\[|\]$/g, "");
        o.port = Number(t.slice(colon + 1));
        break;
      }
      case "-c":
      case "--connections":
        o.connections = Math.floor(num(1));
        break;
      case "-p":
      case "--pipeline":
        o.pipeline = Math.floor(num(1));
        break;
      case "--rate":
        o.rate = num(0);
        break;
      case "--payload":
        o.payload = Math.floor(num(0));
        break;
      case "--messages":
        o.messages = Math.floor(num(1));
        break;
      case "--args":
        o.args = Math.floor(num(1));
        break;
      case "--async":
        o.async = true;
        break;
      case "--duration":
        o.duration = num(0.1);
        break;
      case "--warmup":
        o.warmup = num(0);
        break;
      case "--drain":
        o.drain = num(0.1);
        break;
      case "--agent-pid":
        o.agentPid = Math.floor(num(1));
        break;
      case "--clock-ticks":
        o.clockTicks = num(1);
        break;
      case "--json":
        o.json = true;
        break;
      case "-h":
      case "--help":
        usage();
        break;
      default:
        usage(`unknown option ${arg}`);
    }
  }
  if (o.messages > 255) usage("--messages is at most 255");
  if (o.args > 254) usage("--args is at most 254");
  if (o.duration + o.warmup > 600) usage("--warmup + --duration is at most 600 s");
  return o;
}

// ---------------------------------------------------------------------------------------------
// Latency histogram: 1 µs buckets below 128 µs, then 64 sub-buckets per power of two (≤ 1.6 %).

class Histogram {
  counts = new Float64Array(128 + 64 * 40);
  total = 0;
  max = 0;

  record(us: number): void {
    const v = us < 0 ? 0 : Math.floor(us);
    let index: number;
    if (v < 128) index = v;
    else {
      const e = 31 - Math.clz32(v > 0x7fffffff ? 0x7fffffff : v);
      index = 128 + (e - 7) * 64 + ((v >>> (e - 6)) & 63);
    }
    this.counts[index]++;
    this.total++;
    if (us > this.max) this.max = us;
  }

  /** The upper edge of the bucket holding the q-quantile, in µs. */
  quantile(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        if (i < 128) return i + 1;
        const e = 7 + ((i - 128) >> 6);
        const m = (i - 128) & 63;
        return Math.min((64 + m + 1) * 2 ** (e - 6), this.max);
      }
    }
    return this.max;
  }
}

// ---------------------------------------------------------------------------------------------
// Frames

const ENGINE_ID = "5e7c2f0a-8c1b-4d7e-9a3f-0b1c2d3e4f50";
const SLOT_BITS = 16;
const SLOTS = 1 << SLOT_BITS;
const SLOT_MASK = SLOTS - 1;

function helloFrame(): Uint8Array {
  const w = new ByteWriter(256);
  writeFrame(w, {
    type: FrameType.HaproxyHello,
    items: [
      { name: "supported-versions", type: DataType.String, value: "2.0" },
      { name: "max-frame-size", type: DataType.Uint32, value: 16380 },
      { name: "capabilities", type: DataType.String, value: "pipelining" },
      { name: "engine-id", type: DataType.String, value: ENGINE_ID },
    ],
  });
  return w.take();
}

// ---------------------------------------------------------------------------------------------
// Run state

const opts = parseOptions(process.argv.slice(2));
const SHAPE: Shape = {
  messages: opts.messages,
  payload: opts.payload,
  args: opts.args,
  async: opts.async,
};
const TEMPLATE = notifyTemplate(SHAPE);
const IP_AT = TEMPLATE.ipAt;
const ACTION_PREFIX = actionPrefix();
const ACTION_LENGTH = ACTION_PREFIX.length + 1;
const MAX_NOTIFY = 4 + 1 + 4 + 5 + 1 + TEMPLATE.bytes.length;
const M = opts.messages;

const histogram = new Histogram();
const errors = {
  unknownId: 0,
  badAck: 0,
  decode: 0,
  disconnect: 0,
  unanswered: 0,
  connect: 0,
};
/** The first few errors, in full (a failed run reports them). */
const firstErrors: string[] = [];
const FIRST_ERRORS = 5;
let sending = true;
let measuring = false;
let ackFrames = 0; // ACKs received and checked out while measuring
let sentFrames = 0; // NOTIFYs sent while measuring
let totalSent = 0;
let rateBacklogMax = 0;
let rateDeferred = 0;

function fail(kind: keyof typeof errors, text: string, count = 1): void {
  errors[kind] += count;
  if (firstErrors.length < FIRST_ERRORS) firstErrors.push(`${kind}: ${text}`);
}

class Conn {
  readonly index: number;
  readonly socket: net.Socket;
  nextSid = 1;
  inFlight = 0;
  ipCounter = 0;
  ready = false;
  closed = false;
  carry: Uint8Array | undefined;
  readonly sentAt = new Float64Array(SLOTS);
  readonly sidAt = new Float64Array(SLOTS);
  readonly ipBase = new Uint8Array(SLOTS);
  onReady: (() => void) | undefined;
  onFail: ((e: Error) => void) | undefined;

  constructor(index: number, socket: net.Socket) {
    this.index = index;
    this.socket = socket;
  }

  /** Encodes `count` NOTIFY frames into one buffer and writes it. */
  send(count: number, now: number): void {
    if (count <= 0 || this.closed) return;
    const out = Buffer.allocUnsafe(count * MAX_NOTIFY);
    const tpl = TEMPLATE.bytes;
    const tplLength = tpl.length;
    let pos = 0;
    for (let k = 0; k < count; k++) {
      const sid = this.nextSid;
      this.nextSid += 2;
      const slot = ((sid - 1) / 2) & SLOT_MASK;
      if (this.sidAt[slot] !== 0) {
        fail("unanswered", `stream ${this.sidAt[slot]} still unanswered ${SLOTS} frames later`);
        this.sidAt[slot] = 0;
        this.inFlight--;
      }
      const start = pos;
      pos += 4;
      out[pos++] = FrameType.Notify;
      out[pos++] = 0;
      out[pos++] = 0;
      out[pos++] = 0;
      out[pos++] = 1; // FIN
      pos = writeVarint(out, pos, sid);
      out[pos++] = 1; // frame-id
      out.set(tpl, pos);
      const ipBase = this.ipCounter & 0xff;
      for (let m = 0; m < M; m++) {
        const n = this.ipCounter++;
        const at = pos + IP_AT[m];
        out[at] = 10;
        out[at + 1] = this.index & 0xff;
        out[at + 2] = (n >>> 8) & 0xff;
        out[at + 3] = n & 0xff;
      }
      pos += tplLength;
      const length = pos - start - 4;
      out[start] = length >>> 24;
      out[start + 1] = (length >>> 16) & 0xff;
      out[start + 2] = (length >>> 8) & 0xff;
      out[start + 3] = length & 0xff;
      this.sidAt[slot] = sid;
      this.sentAt[slot] = now;
      this.ipBase[slot] = ipBase;
    }
    this.inFlight += count;
    totalSent += count;
    if (measuring) sentFrames += count;
    this.socket.write(out.subarray(0, pos));
  }

  /** Handles inbound bytes; returns the number of ACKs completed. */
  receive(chunk: Uint8Array, now: number): number {
    let bytes = chunk;
    if (this.carry !== undefined) {
      const joined = new Uint8Array(this.carry.length + chunk.length);
      joined.set(this.carry);
      joined.set(chunk, this.carry.length);
      bytes = joined;
      this.carry = undefined;
    }
    let pos = 0;
    let done = 0;
    const end = bytes.length;
    while (end - pos >= 4) {
      const length = ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) |
        bytes[pos + 3]) >>> 0;
      if (length < 7 || length > 1 << 20) {
        fail("decode", `frame length ${length}`);
        this.socket.destroy();
        return done;
      }
      if (end - pos - 4 < length) break;
      const frameStart = pos + 4;
      const frameEnd = frameStart + length;
      pos = frameEnd;
      if (!this.ready) {
        this.handleHello(bytes.subarray(frameStart, frameEnd));
        continue;
      }
      if (this.handleAck(bytes, frameStart, frameEnd, now)) done++;
    }
    if (pos < end) this.carry = bytes.slice(pos);
    return done;
  }

  handleHello(frame: Uint8Array): void {
    try {
      const decoded = decodeFrame(frame);
      if (decoded.type !== FrameType.AgentHello) {
        throw new Error(`expected AGENT-HELLO, got frame type ${decoded.type}`);
      }
      const items = new Map(decoded.items!.map((item) => [item.name, item.value]));
      if (items.get("version") !== "2.0") throw new Error(`version ${items.get("version")}`);
      const mfs = Number(items.get("max-frame-size"));
      if (!(mfs >= 256 && mfs <= 16380)) throw new Error(`max-frame-size ${mfs}`);
      if (MAX_NOTIFY - 4 > mfs) {
        throw new Error(`a NOTIFY of ${MAX_NOTIFY - 4} bytes exceeds max-frame-size ${mfs}`);
      }
      this.ready = true;
      this.onReady?.();
    } catch (error) {
      this.onFail?.(error as Error);
    }
  }

  handleAck(bytes: Uint8Array, start: number, end: number, now: number): boolean {
    // Header: type, flags, stream-id, frame-id.
    if (bytes[start] !== FrameType.Ack) {
      if (bytes[start] === FrameType.AgentDisconnect) {
        fail("disconnect", describeDisconnect(bytes.subarray(start, end)));
      } else fail("decode", `unexpected frame type ${bytes[start]}`);
      return false;
    }
    const flags = ((bytes[start + 1] << 24) | (bytes[start + 2] << 16) | (bytes[start + 3] << 8) |
      bytes[start + 4]) >>> 0;
    let pos = start + 5;
    let sid = bytes[pos++];
    if (sid >= 240) {
      let multiplier = 16;
      for (let i = 0; i < 5; i++) {
        const b = bytes[pos++];
        sid += b * multiplier;
        if (b < 128) break;
        multiplier *= 128;
      }
    }
    const fid = bytes[pos++];
    if (flags !== 1) {
      fail("badAck", `ACK ${sid}/${fid} has flags ${flags}, not FIN`);
      return false;
    }
    const slot = ((sid - 1) / 2) & SLOT_MASK;
    if (fid !== 1 || (sid & 1) === 0 || this.sidAt[slot] !== sid) {
      fail(
        "unknownId",
        `ACK ${sid}/${fid} matches no outstanding NOTIFY on connection ${this.index}`,
      );
      return false;
    }
    this.sidAt[slot] = 0;
    this.inFlight--;
    // A wrong answer is counted as an error, not as a message; the NOTIFY is
    // answered all the same, so the load goes on (the run has failed anyway).
    if (this.check(bytes, pos, end, this.ipBase[slot], sid) && measuring) {
      histogram.record((now - this.sentAt[slot]) * 1000);
      ackFrames++;
    }
    return true;
  }

  /** Whether the actions in `bytes[pos, end)` are the right answer to the NOTIFY of `sid`. */
  check(bytes: Uint8Array, pos: number, end: number, base: number, sid: number): boolean {
    // Fast path: the exact bytes of M set-var actions; otherwise decode and compare values.
    if (end - pos === M * ACTION_LENGTH) {
      let ok = true;
      const prefix = ACTION_PREFIX;
      for (let m = 0, at = pos; m < M && ok; m++, at += ACTION_LENGTH) {
        for (let i = 0; i < prefix.length; i++) {
          if (bytes[at + i] !== prefix[i]) {
            ok = false;
            break;
          }
        }
        // One value byte: a varint below 240.
        const score = (base + m) & 0xff;
        if (score >= 240 || bytes[at + prefix.length] !== score) ok = false;
      }
      if (ok) return true;
    }
    let actions;
    try {
      actions = decodeActions(bytes, pos, end);
    } catch (error) {
      fail("decode", `ACK ${sid} on connection ${this.index}: ${(error as Error).message}`);
      return false;
    }
    const scores = Array.from({ length: M }, (_, m) => (base + m) & 0xff);
    const wrong = checkActions(actions, scores);
    if (wrong !== undefined) {
      fail("badAck", `ACK ${sid} on connection ${this.index}: ${wrong}`);
      return false;
    }
    return true;
  }
}

function describeDisconnect(frame: Uint8Array): string {
  try {
    const items = decodeFrame(frame).items ?? [];
    return "AGENT-DISCONNECT " + items.map((i) => `${i.name}=${String(i.value)}`).join(" ");
  } catch {
    return "AGENT-DISCONNECT (undecodable)";
  }
}

// ---------------------------------------------------------------------------------------------
// /proc sampling (Linux): the agent's CPU time and memory, and every core's busy time

/** utime + stime of a process (all its threads), in clock ticks. */
function processTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** VmRSS and VmHWM of a process, in KiB. */
function processMemory(pid: number): { rssKb: number; hwmKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1]);
  return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
}

/** Busy and total ticks per core from /proc/stat. */
function coreTicks(): { busy: number; total: number }[] {
  const out: { busy: number; total: number }[] = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    if (!/^cpu\d/.test(line)) continue;
    const v = line.split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out.push({ busy: total - v[3] - v[4], total });
  }
  return out;
}

interface ProcSample {
  agentTicks: number;
  cores: { busy: number; total: number }[];
}

function sampleProc(): ProcSample | undefined {
  try {
    return { agentTicks: opts.agentPid ? processTicks(opts.agentPid) : 0, cores: coreTicks() };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Driving

const HELLO = helloFrame();
const conns: Conn[] = [];
const now = () => performance.now();

function connectOne(index: number, deadline: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: opts.host, port: opts.port });
    socket.setNoDelay(true);
    const conn = new Conn(index, socket);
    let settled = false;
    conn.onReady = () => {
      settled = true;
      resolve(conn);
    };
    conn.onFail = (error) => {
      if (settled) return;
      settled = true;
      conn.closed = true;
      socket.destroy();
      reject(error);
    };
    socket.once("connect", () => socket.write(HELLO));
    socket.on("data", (chunk: Buffer) => {
      const t = now();
      const done = conn.receive(chunk, t);
      if (done > 0) onAcks(conn, done, t);
    });
    socket.on("error", (error) => {
      if (!settled) {
        settled = true;
        conn.closed = true; // Not connected: its close is no disconnect.
        if (Date.now() < deadline && (error as { code?: string }).code === "ECONNREFUSED") {
          setTimeout(() => connectOne(index, deadline).then(resolve, reject), 100);
        } else reject(error);
        return;
      }
      if (!conn.closed && sending) fail("disconnect", `connection ${index}: ${error.message}`);
    });
    socket.on("close", () => {
      if (settled && !conn.closed && sending) {
        fail("disconnect", `connection ${index} closed by the agent`);
      }
      conn.closed = true;
    });
  });
}

// Closed loop: one new NOTIFY per ACK. Fixed rate: ACKs free slots for owed frames.
let owed = 0;
let rr = 0;

function onAcks(conn: Conn, done: number, t: number): void {
  if (!sending) return;
  if (opts.rate === 0) conn.send(done, t);
  else if (owed > 0) {
    const n = Math.min(owed, opts.pipeline - conn.inFlight);
    if (n > 0) {
      owed -= n;
      conn.send(n, t);
    }
  }
}

function rateTick(startedAt: number, perFrameMs: number): void {
  const t = now();
  const due = Math.floor((t - startedAt) / perFrameMs) - totalSent - owed;
  if (due > 0) owed += due;
  if (owed > rateBacklogMax) rateBacklogMax = owed;
  // Spread the owed frames round-robin, each connection bounded by its in-flight limit.
  const counts = new Array<number>(conns.length).fill(0);
  let progress = true;
  while (owed > 0 && progress) {
    progress = false;
    for (let k = 0; k < conns.length && owed > 0; k++) {
      const i = (rr + k) % conns.length;
      if (conns[i].inFlight + counts[i] < opts.pipeline) {
        counts[i]++;
        owed--;
        progress = true;
      }
    }
  }
  if (owed > 0 && measuring) rateDeferred += owed;
  rr = (rr + 1) % conns.length;
  for (let i = 0; i < conns.length; i++) conns[i].send(counts[i], t);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const connectDeadline = Date.now() + 5000;
  try {
    for (let i = 0; i < opts.connections; i++) conns.push(await connectOne(i, connectDeadline));
  } catch (error) {
    fail("connect", (error as Error).message);
    for (const c of conns) c.socket.destroy();
    report(0, { user: 0, system: 0 }, undefined, undefined, undefined);
    return;
  }
  const startedAt = now();
  let ticker: ReturnType<typeof setInterval> | undefined;
  if (opts.rate > 0) {
    const perFrameMs = 1000 / (opts.rate / M);
    ticker = setInterval(() => rateTick(startedAt, perFrameMs), 1);
  } else {
    for (const conn of conns) conn.send(opts.pipeline, startedAt);
  }
  await sleep(opts.warmup * 1000);
  const proc0 = sampleProc();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  measuring = true;
  await sleep(opts.duration * 1000);
  measuring = false;
  const elapsed = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const proc1 = sampleProc();
  let memory: { rssKb: number; hwmKb: number } | undefined;
  try {
    if (opts.agentPid) memory = processMemory(opts.agentPid);
  } catch {
    // The agent is gone.
  }
  sending = false;
  if (ticker !== undefined) clearInterval(ticker);
  // Wait (bounded) for the ACKs still in flight.
  const drainUntil = now() + opts.drain * 1000;
  while (now() < drainUntil && conns.some((c) => c.inFlight > 0 && !c.closed)) await sleep(10);
  for (const c of conns) {
    if (c.inFlight > 0) {
      fail("unanswered", `${c.inFlight} NOTIFY on connection ${c.index}`, c.inFlight);
    }
    c.closed = true;
    c.socket.destroy();
  }
  report(elapsed, cpu, proc0, proc1, memory);
}

function report(
  elapsedMs: number,
  cpu: { user: number; system: number },
  proc0: ProcSample | undefined,
  proc1: ProcSample | undefined,
  memory: { rssKb: number; hwmKb: number } | undefined,
): void {
  const seconds = elapsedMs / 1000;
  const messages = ackFrames * M;
  const totalErrors = Object.values(errors).reduce((a, b) => a + b, 0);
  const head = {
    target: `${opts.host}:${opts.port}`,
    connections: opts.connections,
    pipeline: opts.pipeline,
    rate: opts.rate,
    payload: opts.payload,
    messagesPerFrame: M,
    args: opts.args,
    async: opts.async,
    duration: seconds,
    runtime: runtimeName(),
  };
  const shape = `${head.target} c=${opts.connections} p=${opts.pipeline}` +
    `${opts.rate ? ` rate=${opts.rate}/s` : ""} payload=${opts.payload} messages=${M} ` +
    `args=${opts.args}${opts.async ? " async" : ""} (${head.runtime})`;
  if (totalErrors > 0 || messages === 0) {
    // A failed run: no throughput, latency or CPU figure, so that none can be published.
    const failed = {
      ...head,
      ok: false,
      status: "failed",
      reason: totalErrors > 0
        ? `${totalErrors} error${totalErrors === 1 ? "" : "s"}`
        : "no ACK checked out while measuring",
      checkedMessages: messages,
      errors: { total: totalErrors, ...errors },
      firstErrors,
    };
    if (opts.json) console.log(JSON.stringify(failed));
    else {
      console.log(
        `${shape}\n  FAILED: ${failed.reason}; no figures reported\n` +
          `  errors: ${
            Object.entries(failed.errors).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`)
              .join(", ") || "none"
          }\n` +
          firstErrors.map((e) => `  ${e}\n`).join(""),
      );
    }
    process.exitCode = 1;
    return;
  }
  let agent;
  if (opts.agentPid && proc0 && proc1) {
    const cpuMs = (proc1.agentTicks - proc0.agentTicks) * 1000 / opts.clockTicks;
    agent = {
      pid: opts.agentPid,
      cpuMs,
      cores: elapsedMs > 0 ? cpuMs / elapsedMs : 0,
      usPerMessage: messages > 0 ? cpuMs * 1000 / messages : 0,
      rssKb: memory?.rssKb,
      hwmKb: memory?.hwmKb,
    };
  }
  // How busy each core was while measuring (everything on it: agent, generator, other processes).
  const coreBusy = proc0 && proc1
    ? proc1.cores.map((c, i) => {
      const total = c.total - proc0.cores[i].total;
      return total > 0 ? Math.round((c.busy - proc0.cores[i].busy) / total * 1000) / 1000 : 0;
    })
    : undefined;
  const cpuUs = cpu.user + cpu.system;
  const result = {
    ...head,
    ok: true,
    status: "passed",
    frames: ackFrames,
    messages,
    messagesPerSec: seconds > 0 ? messages / seconds : 0,
    framesSentPerSec: seconds > 0 ? sentFrames / seconds : 0,
    latencyUs: {
      p50: histogram.quantile(0.5),
      p90: histogram.quantile(0.9),
      p99: histogram.quantile(0.99),
      p999: histogram.quantile(0.999),
      max: histogram.max,
    },
    rateDeferred,
    rateBacklogMax,
    errors: { total: 0, ...errors },
    cpu: {
      userMs: cpu.user / 1000,
      systemMs: cpu.system / 1000,
      // Fraction of one core the generator used while measuring (≈1 means it was the limit).
      cores: elapsedMs > 0 ? cpuUs / 1000 / elapsedMs : 0,
      usPerMessage: messages > 0 ? cpuUs / messages : 0,
    },
    agent,
    coreBusy,
  };
  if (opts.json) console.log(JSON.stringify(result));
  else {
    const l = result.latencyUs;
    const ms = (us: number) => (us / 1000).toFixed(3);
    console.log(
      `${shape}\n` +
        `  ${
          Math.round(result.messagesPerSec)
        } messages/s, every ACK checked (${result.frames} frames in ${seconds.toFixed(2)} s)\n` +
        `  latency ms: p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${
          ms(l.p999)
        }  max ${ms(l.max)}\n` +
        `  generator CPU: ${(result.cpu.cores * 100).toFixed(0)}% of a core, ${
          result.cpu.usPerMessage.toFixed(2)
        } µs/message${result.cpu.cores > 0.9 ? "  ← generator saturated" : ""}` +
        (opts.rate ? `\n  rate backlog max ${rateBacklogMax} frames` : "") +
        (agent
          ? `\n  agent CPU: ${(agent.cores * 100).toFixed(0)}% of a core, ${
            agent.usPerMessage.toFixed(2)
          } µs/message; RSS ${((agent.rssKb ?? 0) / 1024).toFixed(1)} MiB, peak ${
            ((agent.hwmKb ?? 0) / 1024).toFixed(1)
          } MiB`
          : "") +
        (coreBusy
          ? `\n  core busy: ${coreBusy.map((b) => `${Math.round(b * 100)}%`).join(" ")}`
          : ""),
    );
  }
  process.exitCode = 0;
}

function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}

await main();
