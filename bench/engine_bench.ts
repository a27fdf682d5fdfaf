/**
 * In-process engine benchmark: the CPU cost of the agent's own code per
 * NOTIFY (frame reader, codec, engine, handler, ACK encoding), without
 * sockets. A fake transport takes the ACK bytes; HAProxy's side is a chunk of
 * pre-encoded NOTIFY frames fed again and again. Used to measure each hot-path
 * change in src/ before and after (see BENCHMARKS.md).
 *
 *   deno run -A bench/engine_bench.ts [--frames 64] [--seconds 3] [--rounds 5]
 *        [--payload 0] [--messages 1] [--args 1] [--async] [--agent bench/agent.ts]
 *   bun bench/engine_bench.ts …      node bench/engine_bench.ts …
 *
 * The NOTIFY shape options are those of bench/loadgen.ts (bench/_shape.ts);
 * --agent names the file whose exported `register(agent)` installs the
 * handlers (bench/wrong_agent.ts must fail).
 *
 * The ACKs it measures are checked: every chunk must be answered with one ACK
 * per NOTIFY and the same number of bytes as the first, and each round starts
 * with a chunk whose ACKs are decoded in full (stream-id, frame-id, flags,
 * actions) and compared with the right answers, outside the timed window. A
 * wrong answer stops it: `"ok": false` and exit code 1, no figure.
 *
 * Prints CPU ns per NOTIFY for each round, then the median and minimum as JSON.
 *
 * @module
 */

import process from "node:process";
import { Agent, DataType, silentLogger } from "../mod.ts";
import { ByteWriter, decodeFrame, FrameFlags, FrameType, writeFrame } from "../src/codec/mod.ts";
import type { Transport } from "../src/engine/transport.ts";
import { checkActions, notifyTemplate, type Shape } from "./_shape.ts";
import { benchRuntime } from "./_serve.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a number ≥ 0`);
  return value;
}

const FRAMES = arg("--frames", 64);
const SECONDS = arg("--seconds", 3);
const ROUNDS = arg("--rounds", 5);
const SHAPE: Shape = {
  messages: arg("--messages", 1),
  payload: arg("--payload", 0),
  args: arg("--args", 1),
  async: process.argv.includes("--async"),
};
const agentArg = process.argv.indexOf("--agent");
const AGENT_FILE = agentArg >= 0 ? process.argv[agentArg + 1] : "bench/agent.ts";
const runtime = benchRuntime();

/** Stops the benchmark without a figure. */
function fail(reason: string): never {
  console.error(`engine_bench FAILED: ${reason}`);
  console.log(JSON.stringify({ ok: false, runtime, agent: AGENT_FILE, reason }));
  process.exit(1);
}

const { register } = await import(new URL(`../${AGENT_FILE}`, import.meta.url).href) as {
  register: (agent: Agent) => void;
};
const agent = new Agent({ logger: silentLogger, maxInFlight: Math.max(64, FRAMES) });
register(agent);

let ackBytes = 0;
let ackFrames = 0;
let capture: Uint8Array[] | undefined;
const transport: Transport = {
  remoteAddress: "bench",
  write(out) {
    ackBytes += out.length;
    // Count the frames by their length prefixes: a few ns per ACK.
    for (let pos = 0; pos + 4 <= out.length; ackFrames++) {
      pos += 4 + ((out[pos] << 24 | out[pos + 1] << 16 | out[pos + 2] << 8 | out[pos + 3]) >>> 0);
    }
    capture?.push(out.slice());
    return undefined;
  },
  close() {},
  pause() {},
  resume() {},
};
const sink = agent.accept(transport)!;

const hello = new ByteWriter(256);
writeFrame(hello, {
  type: FrameType.HaproxyHello,
  items: [
    { name: "supported-versions", type: DataType.String, value: "2.0" },
    { name: "max-frame-size", type: DataType.Uint32, value: 16380 },
    { name: "capabilities", type: DataType.String, value: "pipelining" },
    { name: "engine-id", type: DataType.String, value: "bench" },
  ],
});
sink.receive(hello.take());
await Promise.resolve();
ackBytes = 0;
ackFrames = 0;

// FRAMES NOTIFYs, stream-ids 1, 3, 5…; message k of the chunk carries ip 10.0.(k >> 8).(k & 255).
const template = notifyTemplate(SHAPE);
const chunk = new ByteWriter(FRAMES * (template.bytes.length + 16));
const ipAt: number[] = [];
/** The right scores of each frame's messages, by stream-id. */
const expected = new Map<number, number[]>();
for (let i = 0; i < FRAMES; i++) {
  const start = chunk.length;
  const streamId = 2 * i + 1;
  chunk.u32(0);
  chunk.u8(FrameType.Notify);
  chunk.u32(FrameFlags.Fin);
  chunk.varint(streamId);
  chunk.varint(1);
  const payloadAt = chunk.length;
  chunk.bytes(template.bytes);
  chunk.patchU32(start, chunk.length - start - 4);
  for (const at of template.ipAt) ipAt.push(payloadAt + at);
  expected.set(streamId, template.ipAt.map((_, m) => (i * SHAPE.messages + m) & 0xff));
}
const bytes = chunk.take();
ipAt.forEach((at, k) => bytes.set([10, 0, (k >> 8) & 0xff, k & 0xff], at));

let chunkAckBytes = -1;

/** Feeds one chunk and waits (bounded) for its ACKs; checks their count and size. */
async function feed(): Promise<void> {
  const frames0 = ackFrames;
  const bytes0 = ackBytes;
  // A fresh copy, as a socket read would deliver (frames are views of it).
  sink.receive(bytes.slice());
  await Promise.resolve();
  // An async handler answers a few microtasks later.
  for (let spins = 0; ackFrames - frames0 < FRAMES && spins < 1000; spins++) {
    await Promise.resolve();
  }
  if (ackFrames - frames0 !== FRAMES) {
    fail(`${ackFrames - frames0} ACK frames for a chunk of ${FRAMES} NOTIFYs`);
  }
  if (chunkAckBytes < 0) chunkAckBytes = ackBytes - bytes0;
  else if (ackBytes - bytes0 !== chunkAckBytes) {
    fail(`${ackBytes - bytes0} ACK bytes for a chunk, ${chunkAckBytes} for the first`);
  }
}

/** Feeds one chunk and decodes its ACKs in full against the right answers. */
async function feedChecked(): Promise<void> {
  capture = [];
  await feed();
  const written = capture;
  capture = undefined;
  const seen = new Set<number>();
  for (const out of written) {
    for (let pos = 0; pos + 4 <= out.length;) {
      const length = (out[pos] << 24 | out[pos + 1] << 16 | out[pos + 2] << 8 | out[pos + 3]) >>> 0;
      const frame = decodeFrame(out.subarray(pos + 4, pos + 4 + length));
      pos += 4 + length;
      const scores = expected.get(frame.streamId);
      const what = `ACK ${frame.streamId}/${frame.frameId}`;
      if (frame.type !== FrameType.Ack) fail(`frame type ${frame.type}, expected ACK`);
      if (scores === undefined || seen.has(frame.streamId) || frame.frameId !== 1) {
        fail(`${what} matches no NOTIFY of the chunk`);
      }
      if (frame.flags !== FrameFlags.Fin) fail(`${what} has flags ${frame.flags}`);
      const wrong = checkActions(frame.actions ?? [], scores);
      if (wrong !== undefined) fail(`${what}: ${wrong}`);
      seen.add(frame.streamId);
    }
  }
  if (seen.size !== FRAMES) fail(`${seen.size} right ACKs for ${FRAMES} NOTIFYs`);
}

/** CPU time (user + system, all threads) per NOTIFY: robust to other processes on the core. */
async function round(): Promise<number> {
  await feedChecked();
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let frames = 0;
  while (performance.now() - start < SECONDS * 1000) {
    for (let k = 0; k < 100; k++) {
      await feed();
      frames += FRAMES;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) * 1000 / frames;
}

const results: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const ns = await round();
  results.push(ns);
  console.error(`round ${r + 1}: ${ns.toFixed(0)} CPU ns/NOTIFY`);
}
results.sort((a, b) => a - b);
console.log(JSON.stringify({
  ok: true,
  runtime,
  agent: AGENT_FILE,
  frames: FRAMES,
  ...SHAPE,
  medianNs: Math.round(results[Math.floor(results.length / 2)]),
  minNs: Math.round(results[0]),
  ackFrames,
  ackBytes,
}));
