/**
 * Fuzzes a listening agent over TCP: scripts/target_agent.ts runs on Deno, Bun
 * or Node (its own process, pinned to core 1, default options), and this script
 * opens many connections at once that send hostile streams
 * (tests/hostile/_streams.ts: captured HAProxy sessions damaged at the byte
 * level, random bytes, HTTP, TLS, huge lengths) in random chunkings and paces,
 * while well-behaved connections keep pipelining NOTIFYs beside them.
 *
 * Invariants, each a failure:
 *
 * - the agent process survives;
 * - a hostile connection gets exactly the bytes the same engine writes for the
 *   same stream in memory (the oracle: one chunk, no socket), so an
 *   AGENT-DISCONNECT with the right status when the stream earns one; a
 *   connection the agent closes ends with its FIN, never a reset; one it leaves
 *   open is closed by the peer (FIN or reset, at random);
 * - every well-behaved connection gets every ACK right, byte for byte, and its
 *   AGENT-DISCONNECT (status 0) after its HAPROXY-DISCONNECT at the end;
 * - afterwards the agent's open file descriptors are back to their level before
 *   the run; what its heap and the buffers its objects own (`external`) hold
 *   after a full garbage collection is within `--heap-bound` MiB of its level
 *   before (default 16); and its RSS within `--rss-bound` MiB (default 160:
 *   runtimes and their allocators keep memory they grew to under load rather
 *   than give it back at once; see BENCHMARKS.md).
 *
 * Usage (Linux: taskset, /proc; run with Node 24 from the repository root):
 *
 *   node scripts/fuzz.ts [--runtime deno|bun|node] [--duration 60] [--seed N]
 *        [--concurrency 48] [--good 8] [--rss-bound 160] [--heap-bound 16] [--json]
 *   node scripts/fuzz.ts --runtime deno --replay CASE_SEED
 *
 * Prints the seed first; a failure names the seed of its case, which
 * `--replay` runs alone (its bytes, chunks, and both answers in hex). Exit code
 * 0 when every invariant held, 1 otherwise, 2 on bad arguments.
 *
 * @module
 */

import * as net from "node:net";
import process from "node:process";
import fc from "fast-check";
import { Agent, silentLogger } from "../mod.ts";
import {
  ByteWriter,
  decodeFrame,
  FrameReader,
  FrameType,
  readDisconnect,
  writeHaproxyDisconnect,
} from "../src/codec/mod.ts";
import { memoryOf, type Runtime } from "../bench/_lib.ts";
import { fdsOf, heldAfterGc, liveMib, parseOptions, sleep, startTarget } from "./_target.ts";
import { anyChunking, chunked } from "../tests/codec/_arbitraries.ts";
import { prng, toHex } from "../tests/codec/_golden.ts";
import { registerFuzzHandlers } from "../tests/hostile/_fuzz_handlers.ts";
import { concat } from "../tests/adapters/_helpers.ts";
import { goodHello, hostileStream, runInMemory, scoreExchange } from "../tests/hostile/_streams.ts";

const USAGE = "usage: node scripts/fuzz.ts [--runtime deno|bun|node] [--duration S] [--seed N]\n" +
  "         [--concurrency N] [--good N] [--rss-bound MIB] [--heap-bound MIB] [--json]\n" +
  "       node scripts/fuzz.ts --runtime R --replay CASE_SEED";

// ---------------------------------------------------------------------------------------------
// One hostile case

/** Everything about one case follows from its seed. */
interface Case {
  seed: number;
  bytes: Uint8Array;
  chunks: Uint8Array[];
  /** Milliseconds to wait after each chunk, cycled (0: write the next at once). */
  pauses: number[];
  /** How the peer ends a connection the agent leaves open. */
  reset: boolean;
}

const caseArbitrary = fc.tuple(
  hostileStream,
  anyChunking,
  fc.array(fc.constantFrom(0, 0, 0, 1, 2, 5), { minLength: 1, maxLength: 8 }),
  fc.boolean(),
);

function makeCase(seed: number): Case {
  const [bytes, sizes, pauses, reset] = fc.sample(caseArbitrary, { seed, numRuns: 1 })[0];
  return { seed, bytes, chunks: chunked(bytes, sizes), pauses, reset };
}

/** What the peer saw on its socket. */
interface Seen {
  received: Uint8Array;
  fin: boolean;
  reset: boolean;
  closedByAgent: boolean;
}

/**
 * Plays one case against the agent: writes the chunks at their pace, reads everything, and waits
 * for the agent to close, or (when the oracle says it keeps the connection open) for the bytes
 * it must send and a short quiet period, then closes from the peer's side.
 */
function play(port: number, c: Case, expected: { length: number; closes: boolean }): Promise<Seen> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunks: Uint8Array[] = [];
    let received = 0;
    let fin = false;
    let reset = false;
    let closedByPeer = false;
    let sent = false;
    let quiet: ReturnType<typeof setTimeout> | undefined;
    // The agent's timeouts are 10 s: 6 s after the last write, a connection is stuck.
    let stuck: ReturnType<typeof setTimeout> | undefined;
    const closeFromPeer = () => {
      closedByPeer = true;
      if (c.reset) socket.resetAndDestroy();
      else socket.end();
    };
    const check = () => {
      if (!sent || expected.closes || closedByPeer || received < expected.length) return;
      clearTimeout(quiet);
      quiet = setTimeout(closeFromPeer, 20);
    };
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      chunks.push(new Uint8Array(chunk));
      received += chunk.length;
      check();
    });
    socket.on("end", () => fin = true);
    socket.on("error", (error: { code?: string }) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") reset = true;
    });
    socket.on("close", () => {
      clearTimeout(quiet);
      clearTimeout(stuck);
      resolve({ received: concat(chunks), fin, reset, closedByAgent: !closedByPeer });
    });
    socket.on("connect", async () => {
      // Pauses only for the first second: a stream cut into a thousand paced chunks would take
      // long enough under load to meet the agent's 10 s frame timeout, which the oracle has not.
      const pacedUntil = Date.now() + 1000;
      for (let i = 0; i < c.chunks.length; i++) {
        if (fin || socket.destroyed) break;
        socket.write(c.chunks[i]);
        const pause = c.pauses[i % c.pauses.length];
        if (pause > 0 && Date.now() < pacedUntil) await sleep(pause);
      }
      sent = true;
      stuck = setTimeout(() => {
        closedByPeer = true;
        socket.destroy();
      }, 6000);
      check();
    });
  });
}

/** The status-code of an AGENT-DISCONNECT frame (without its length prefix). */
function statusOf(frame: Uint8Array): number | undefined {
  return readDisconnect(decodeFrame(frame).items ?? []).status;
}

/** Where a case ended, for the tally: `status N`, `open`, or `health check`. */
function endOf(output: Uint8Array, closes: boolean): string {
  if (!closes) return "left open";
  const reader = new FrameReader({ maxFrameSize: 0xffff_ffff });
  reader.push(output);
  let last: Uint8Array | undefined;
  for (let frame = reader.next(); frame !== undefined; frame = reader.next()) last = frame;
  if (last === undefined || last[0] !== FrameType.AgentDisconnect) {
    return "closed after a health check";
  }
  return `AGENT-DISCONNECT status ${statusOf(last)}`;
}

/** Runs one case against the oracle and the agent; returns a failure text or the end. */
async function runCase(
  port: number,
  oracle: Agent,
  c: Case,
): Promise<{ end: string; failure?: string }> {
  const expected = await runInMemory(oracle, [c.bytes]);
  const seen = await play(port, c, {
    length: expected.output.length,
    closes: expected.closedByAgent,
  });
  const end = endOf(expected.output, expected.closedByAgent);
  const problems: string[] = [];
  if (toHex(seen.received) !== toHex(expected.output)) problems.push("different bytes");
  if (expected.closedByAgent) {
    if (!seen.closedByAgent) problems.push("the agent did not close the connection within 6 s");
    else if (!seen.fin || seen.reset) {
      problems.push(`closed without a clean FIN (reset: ${seen.reset})`);
    }
  } else if (seen.closedByAgent) {
    problems.push("the agent closed a connection it should have kept");
  }
  if (problems.length === 0) return { end };
  return {
    end,
    failure: `case ${c.seed}: ${problems.join("; ")} (${end} expected)\n` +
      `  sent     ${toHex(c.bytes)}\n  chunks   ${c.chunks.map((k) => k.length).join(",")}\n` +
      `  expected ${toHex(expected.output)}\n  received ${toHex(seen.received)}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Well-behaved connections

/** A connection that pipelines `score` NOTIFYs and checks every ACK byte for byte. */
class GoodConnection {
  acks = 0;
  failure: string | undefined;
  readonly #socket: net.Socket;
  readonly #reader = new FrameReader({ maxFrameSize: 0xffff_ffff });
  readonly #outstanding: Uint8Array[] = [];
  readonly #random: (n: number) => number;
  #nextStream = 1;
  #running = true;
  #helloSeen = false;
  #goodbye: ((frame: Uint8Array) => void) | undefined;
  readonly closed: Promise<void>;

  readonly #agentHello: string;
  readonly #inFlight: number;

  constructor(port: number, seed: number, agentHello: string, inFlight = 8) {
    this.#agentHello = agentHello;
    this.#inFlight = inFlight;
    this.#random = prng(seed);
    this.#socket = net.connect({ host: "127.0.0.1", port });
    this.#socket.setNoDelay(true);
    this.closed = new Promise((resolve) => this.#socket.on("close", () => resolve()));
    this.#socket.on("error", (error) => this.#fail(`socket error ${error}`));
    this.#socket.on("close", () => {
      if (this.#running) this.#fail("the agent closed a well-behaved connection");
    });
    this.#socket.on("connect", () => this.#socket.write(goodHello()));
    this.#socket.on("data", (chunk: Uint8Array) => this.#receive(new Uint8Array(chunk)));
  }

  #fail(text: string): void {
    this.failure ??= `well-behaved connection: ${text}`;
    this.#running = false;
  }

  #send(): void {
    const batch: Uint8Array[] = [];
    while (this.#running && this.#outstanding.length < this.#inFlight) {
      const ip = Uint8Array.of(10, this.#random(256), this.#random(256), this.#random(256));
      const { notify, ack } = scoreExchange(this.#nextStream, ip);
      this.#nextStream = this.#nextStream >= 2 ** 31 ? 1 : this.#nextStream + 2;
      this.#outstanding.push(ack.subarray(4));
      batch.push(notify);
    }
    if (batch.length > 0) this.#socket.write(concat(batch));
  }

  #receive(chunk: Uint8Array): void {
    this.#reader.push(chunk);
    for (let frame = this.#reader.next(); frame !== undefined; frame = this.#reader.next()) {
      if (!this.#helloSeen) {
        this.#helloSeen = true;
        if (toHex(frame) !== this.#agentHello) return this.#fail(`AGENT-HELLO ${toHex(frame)}`);
        continue;
      }
      if (this.#goodbye !== undefined && frame[0] === FrameType.AgentDisconnect) {
        this.#goodbye(frame);
        continue;
      }
      const expected = this.#outstanding.shift();
      if (expected === undefined || toHex(frame) !== toHex(expected)) {
        return this.#fail(`got ${toHex(frame)}, expected ${expected && toHex(expected)}`);
      }
      this.acks++;
    }
    this.#send();
  }

  /** Stops sending, waits for what is in flight, then says HAPROXY-DISCONNECT and checks the answer. */
  async stop(): Promise<void> {
    this.#running = false;
    for (let i = 0; i < 200 && this.#outstanding.length > 0 && this.failure === undefined; i++) {
      await sleep(10);
    }
    if (this.#outstanding.length > 0) this.#fail(`${this.#outstanding.length} NOTIFYs unanswered`);
    const goodbye = new Promise<Uint8Array>((resolve) => this.#goodbye = resolve);
    const writer = new ByteWriter(64);
    writeHaproxyDisconnect(writer, 0, "bye");
    this.#socket.write(writer.take());
    const frame = await Promise.race([goodbye, sleep(3000).then(() => undefined)]);
    if (frame === undefined) this.#fail("no AGENT-DISCONNECT after HAPROXY-DISCONNECT");
    else if (statusOf(frame) !== 0) this.#fail(`goodbye ${toHex(frame)}`);
    await Promise.race([this.closed, sleep(3000)]);
    this.#socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The agent process

// ---------------------------------------------------------------------------------------------
// Main

const options = parseOptions({
  runtime: "node",
  duration: 60,
  seed: Math.floor(Math.random() * 2 ** 31),
  concurrency: 48,
  good: 8,
  rssBound: 160,
  heapBound: 16,
  json: false,
  replay: undefined as number | undefined,
}, USAGE);
const oracle = registerFuzzHandlers(new Agent({ logger: silentLogger }));
const target = await startTarget(options.runtime as Runtime);
const { agent, port } = target;
const log = (line: string) => console.error(line);

if (options.replay !== undefined) {
  const c = makeCase(options.replay);
  const result = await runCase(port, oracle, c);
  console.log(
    result.failure ?? `case ${c.seed}: ${result.end}, as expected\n  sent ${toHex(c.bytes)}`,
  );
  await agent.stop();
  process.exit(result.failure === undefined ? 0 : 1);
}

log(
  `fuzz: ${options.runtime}, seed ${options.seed}, ${options.duration} s, ` +
    `${options.concurrency} hostile + ${options.good} well-behaved connections at once`,
);
const agentHello = toHex((await runInMemory(oracle, [goodHello()])).output.subarray(4));

// Warm up (lazily opened descriptors), then take the levels to return to.
const warm = new GoodConnection(port, 1, agentHello);
await sleep(300);
await warm.stop();
await sleep(500);
// Memory is read after a full garbage collection, before and after: what is still live.
const baselineHeap = liveMib(await heldAfterGc(agent));
const baseline = { fds: fdsOf(agent.pid), rssKb: memoryOf(agent.pid).rssKb, heapMib: baselineHeap };

const failures: string[] = [];
const ends = new Map<string, number>();
let cases = 0;
let bytesSent = 0;
const samples: Array<{ t: number; fds: number; rssKb: number }> = [];
const started = Date.now();
const deadline = started + options.duration * 1000;
const random = prng(options.seed);
const good = Array.from(
  { length: options.good },
  (_, i) => new GoodConnection(port, options.seed + i + 1, agentHello),
);
const sampler = setInterval(() => {
  if (target.exited()) return;
  samples.push({
    t: Date.now() - started,
    fds: fdsOf(agent.pid),
    rssKb: memoryOf(agent.pid).rssKb,
  });
}, 1000);

const worker = async () => {
  const healthy = () => failures.length < 5 && good.every((g) => g.failure === undefined);
  while (Date.now() < deadline && !target.exited() && healthy()) {
    const c = makeCase(random(2 ** 31));
    const result = await runCase(port, oracle, c);
    cases++;
    bytesSent += c.bytes.length;
    ends.set(result.end, (ends.get(result.end) ?? 0) + 1);
    if (result.failure !== undefined) failures.push(result.failure);
  }
};
await Promise.all(Array.from({ length: options.concurrency }, worker));
clearInterval(sampler);
await Promise.all(good.map((g) => g.stop()));
for (const g of good) if (g.failure !== undefined) failures.push(g.failure);
if (target.exited()) failures.push(`the agent process exited:\n${agent.output()}`);

// Levels: descriptors back to the baseline (closing connections linger up to 2 s), RSS within bound.
let final = baseline;
if (!target.exited()) {
  const settleUntil = Date.now() + 10_000;
  do {
    await sleep(250);
    final = { fds: fdsOf(agent.pid), rssKb: memoryOf(agent.pid).rssKb, heapMib: 0 };
  } while (final.fds > baseline.fds && Date.now() < settleUntil);
  if (final.fds !== baseline.fds) {
    failures.push(`open file descriptors: ${final.fds} after the run, ${baseline.fds} before`);
  }
  final.heapMib = liveMib(await heldAfterGc(agent));
  final.rssKb = memoryOf(agent.pid).rssKb;
  if (final.heapMib > baseline.heapMib + options.heapBound) {
    failures.push(
      `heap and external memory after a full GC: ${final.heapMib.toFixed(1)} MiB after the run, ` +
        `${baseline.heapMib.toFixed(1)} MiB before (bound: +${options.heapBound} MiB)`,
    );
  }
  if (final.rssKb > baseline.rssKb + options.rssBound * 1024) {
    failures.push(
      `RSS ${(final.rssKb / 1024).toFixed(1)} MiB after the run, ` +
        `${(baseline.rssKb / 1024).toFixed(1)} MiB before (bound: +${options.rssBound} MiB)`,
    );
  }
}
await agent.stop();

const mib = (kb: number) => Math.round(kb / 102.4) / 10;
const summary = {
  ok: failures.length === 0,
  runtime: options.runtime,
  seed: options.seed,
  seconds: Math.round((Date.now() - started) / 100) / 10,
  cases,
  bytesSent,
  ends: Object.fromEntries([...ends].sort()),
  goodAcks: good.reduce((sum, g) => sum + g.acks, 0),
  fds: { before: baseline.fds, peak: Math.max(0, ...samples.map((s) => s.fds)), after: final.fds },
  rssMib: {
    before: mib(baseline.rssKb),
    peak: mib(Math.max(0, ...samples.map((s) => s.rssKb))),
    after: mib(final.rssKb),
    // Whether it levels off: the highest of the first and of the last third of the samples.
    firstThird: mib(Math.max(0, ...samples.slice(0, samples.length / 3).map((s) => s.rssKb))),
    lastThird: mib(
      Math.max(0, ...samples.slice(-Math.floor(samples.length / 3)).map((s) => s.rssKb)),
    ),
  },
  liveHeapMib: {
    before: Math.round(baseline.heapMib * 10) / 10,
    after: Math.round(final.heapMib * 10) / 10,
  },
};
if (options.json) console.log(JSON.stringify(summary));
else {
  log(
    `fuzz: ${summary.cases} hostile connections (${summary.bytesSent} bytes), ` +
      `${summary.goodAcks} ACKs checked on ${options.good} well-behaved ones`,
  );
  for (const [end, count] of Object.entries(summary.ends)) log(`  ${count}\t${end}`);
  log(
    `  open fds: ${summary.fds.before} before, ${summary.fds.peak} at most, ${summary.fds.after} after`,
  );
  log(
    `  RSS: ${summary.rssMib.before} MiB before, ${summary.rssMib.peak} at most ` +
      `(${summary.rssMib.firstThird} in the first third of the run, ${summary.rssMib.lastThird} ` +
      `in the last), ${summary.rssMib.after} after`,
  );
  log(
    `  heap and external memory after a full GC: ${summary.liveHeapMib.before} MiB before, ` +
      `${summary.liveHeapMib.after} after`,
  );
}
if (failures.length > 0) {
  log(
    `\nFUZZ FAILED on ${options.runtime}, seed ${options.seed} (rerun: --seed ${options.seed}; ` +
      `one case: --replay CASE_SEED):`,
  );
  for (const failure of failures.slice(0, 5)) log(failure);
  process.exit(1);
}
log(`fuzz: ${options.runtime} passed (seed ${options.seed})`);
process.exit(0);
