/**
 * In-process engine benchmark: the CPU cost of the agent's own code per
 * NOTIFY (frame reader, codec, engine, handler, ACK encoding), without
 * sockets. A fake transport takes the ACK bytes; HAProxy's side is a chunk of
 * pre-encoded NOTIFY frames fed again and again. Used to measure each hot-path
 * change in src/ before and after (see BENCHMARKS.md).
 *
 *   deno run -A bench/engine_bench.ts [--frames 64] [--seconds 3] [--payload 0] [--rounds 5]
 *   bun bench/engine_bench.ts …      node bench/engine_bench.ts …
 *
 * Prints CPU ns per NOTIFY for each round, then the median and minimum as JSON.
 *
 * @module
 */

import process from "node:process";
import { Agent, DataType, Ipv4Address, silentLogger } from "../mod.ts";
import { ByteWriter, FrameType, writeFrame } from "../src/codec/mod.ts";
import type { Transport } from "../src/engine/transport.ts";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const FRAMES = arg("--frames", 64);
const SECONDS = arg("--seconds", 3);
const PAYLOAD = arg("--payload", 0);
const ROUNDS = arg("--rounds", 5);

const agent = new Agent({ logger: silentLogger, maxInFlight: Math.max(64, FRAMES) });
agent.on("get-ip-reputation", (message, context) => {
  const ip = message.get("ip");
  if (ip instanceof Ipv4Address) context.setVar("sess", "ip_score", ip.bytes[3]);
});

let acked = 0;
const transport: Transport = {
  remoteAddress: "bench",
  write(bytes) {
    acked += bytes.length;
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

const chunk = new ByteWriter(FRAMES * (64 + PAYLOAD));
for (let i = 0; i < FRAMES; i++) {
  const args = [
    { name: "ip", type: DataType.Ipv4, value: new Ipv4Address(new Uint8Array([10, 0, i >> 8, i])) },
  ] as { name: string; type: DataType; value: Ipv4Address | string }[];
  if (PAYLOAD > 0) {
    args.push({ name: "payload", type: DataType.String, value: "x".repeat(PAYLOAD) });
  }
  writeFrame(chunk, {
    type: FrameType.Notify,
    streamId: 2 * i + 1,
    frameId: 1,
    messages: [{ name: "get-ip-reputation", args }],
  });
}
const bytes = chunk.take();

/** CPU time (user + system, all threads) per NOTIFY: robust to other processes on the core. */
async function round(): Promise<number> {
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let frames = 0;
  while (performance.now() - start < SECONDS * 1000) {
    for (let k = 0; k < 100; k++) {
      // A fresh copy, as a socket read would deliver (frames are views of it).
      sink.receive(bytes.slice());
      await Promise.resolve();
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
const runtime = (globalThis as { Deno?: unknown }).Deno
  ? "deno"
  : (globalThis as { Bun?: unknown }).Bun
  ? "bun"
  : "node";
console.log(JSON.stringify({
  runtime,
  frames: FRAMES,
  payload: PAYLOAD,
  medianNs: Math.round(results[Math.floor(results.length / 2)]),
  minNs: Math.round(results[0]),
  ackBytes: acked,
}));
