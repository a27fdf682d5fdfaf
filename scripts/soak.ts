/**
 * Soak: drives scripts/target_agent.ts (library defaults, pinned to core 1) on
 * Deno, Bun or Node with the project's load generator (bench/loadgen.ts on
 * Node 24, core 0, every ACK checked) for N minutes, in segments of new
 * connections, while sampling the agent's RSS and open file descriptors
 * (/proc) and its V8 heap (its own report) every second.
 *
 * It passes when:
 *
 * 1. every load generator segment passed (every ACK right, none missing);
 * 2. open file descriptors stay within the baseline + 2 per connection + 8,
 *    and are back to the baseline afterwards;
 * 3. the heap and the buffers its objects own (`external`), after a full
 *    garbage collection at the end, are within `--heap-bound` MiB (default 8)
 *    of their level before the load;
 * 4. RSS stays below the baseline + `--rss-ceiling` MiB (default 128) all
 *    along, and after a full garbage collection at the end it is back within
 *    `--rss-after` MiB (default 32) of the baseline. Under load RSS grows in
 *    steps as V8 sizes its heap up (on Deno by some 60 MiB over 10 minutes at
 *    20,000 messages/s); a leak would survive the collection, which that does
 *    not. The highest RSS of the first and last thirds of the run are reported.
 *
 * Usage (Linux: taskset, /proc; from the repository root, with Node 24):
 *
 *   node scripts/soak.ts [--runtime deno|bun|node] [--minutes 1] [--rate 20000]
 *        [--connections 8] [--pipeline 16] [--segment 20] [--heap-bound 8] [--rss-ceiling 128]
 *        [--rss-after 32]
 *        [--out FILE.json]
 *
 * `--out` keeps every sample and the verdict (scripts/soak_chart.ts draws
 * them). Exit code 0 when every bound held, 1 otherwise, 2 on bad arguments.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import process from "node:process";
import { memoryOf, runLoadgen, type Runtime } from "../bench/_lib.ts";
import {
  fdsOf,
  heldAfterGc,
  liveMib,
  parseOptions,
  reported,
  sleep,
  startTarget,
} from "./_target.ts";

const USAGE =
  "usage: node scripts/soak.ts [--runtime deno|bun|node] [--minutes M] [--rate MSG_PER_S]\n" +
  "         [--connections N] [--pipeline N] [--segment S] [--heap-bound MIB]\n" +
  "         [--rss-ceiling MIB] [--rss-after MIB] [--out FILE.json]";

/** One second of the run. */
export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  rssMib: number;
  heapMib: number;
  fds: number;
}

const round = (n: number) => Math.round(n * 10) / 10;

const options = parseOptions({
  runtime: "node",
  minutes: 1,
  rate: 20000,
  connections: 8,
  pipeline: 16,
  segment: 20,
  heapBound: 8,
  rssCeiling: 128,
  rssAfter: 32,
  out: "",
}, USAGE);
const log = (line: string) => console.error(line);
const target = await startTarget(options.runtime as Runtime, true);
const { agent, port } = target;
const loadArgs = (seconds: number) => [
  "--target",
  `127.0.0.1:${port}`,
  "-c",
  String(options.connections),
  "-p",
  String(options.pipeline),
  "--rate",
  String(options.rate),
  "--duration",
  String(seconds),
  "--warmup",
  "0",
];

log(
  `soak: ${options.runtime}, ${options.minutes} min at ${options.rate || "full"} msg/s, ` +
    `${options.connections} connections × ${options.pipeline} in flight, new ones every ` +
    `${options.segment} s`,
);
const failures: string[] = [];
// A short warm-up (code paths compiled, buffers grown), then the levels to return to.
await runLoadgen("node", 0, loadArgs(3));
await sleep(1000);
const baseline = {
  heapMib: liveMib(await heldAfterGc(agent)),
  rssMib: memoryOf(agent.pid).rssKb / 1024,
  fds: fdsOf(agent.pid),
};

const samples: SoakSample[] = [];
const started = Date.now();
const sampler = setInterval(() => {
  if (target.exited()) return;
  samples.push({
    t: round((Date.now() - started) / 1000),
    rssMib: round(memoryOf(agent.pid).rssKb / 1024),
    heapMib: round(reported(agent, false, Math.max(0, agent.output().length - 4000))?.heapMib ?? 0),
    fds: fdsOf(agent.pid),
  });
}, 1000);

let messages = 0;
let segments = 0;
const end = started + options.minutes * 60_000;
while (Date.now() < end - 1000 && !target.exited()) {
  const seconds = Math.max(1, Math.min(options.segment, (end - Date.now()) / 1000));
  try {
    const result = await runLoadgen("node", 0, loadArgs(Math.round(seconds * 10) / 10));
    messages += result.messages;
    segments++;
  } catch (error) {
    failures.push(`load generator segment ${segments + 1}: ${(error as Error).message}`);
    break;
  }
}
clearInterval(sampler);
if (target.exited()) failures.push(`the agent process exited:\n${agent.output().slice(-2000)}`);

let final = { heapMib: NaN, rssMib: NaN, fds: NaN };
if (!target.exited()) {
  const settleUntil = Date.now() + 10_000;
  while (fdsOf(agent.pid) > baseline.fds && Date.now() < settleUntil) await sleep(250);
  final = {
    heapMib: liveMib(await heldAfterGc(agent)),
    rssMib: memoryOf(agent.pid).rssKb / 1024,
    fds: fdsOf(agent.pid),
  };
}
await agent.stop();

// The bounds.
const fdLimit = baseline.fds + 2 * options.connections + 8;
const fdPeak = Math.max(...samples.map((s) => s.fds));
if (fdPeak > fdLimit) failures.push(`open fds reached ${fdPeak} (bound ${fdLimit})`);
if (final.fds !== baseline.fds) {
  failures.push(`open fds: ${final.fds} after, ${baseline.fds} before`);
}
if (!(final.heapMib <= baseline.heapMib + options.heapBound)) {
  failures.push(
    `heap and external memory after a full GC: ${final.heapMib.toFixed(1)} MiB after, ` +
      `${baseline.heapMib.toFixed(1)} MiB before (bound +${options.heapBound} MiB)`,
  );
}
const third = Math.max(1, Math.floor(samples.length / 3));
const firstPeak = Math.max(...samples.slice(0, third).map((s) => s.rssMib));
const lastPeak = Math.max(...samples.slice(-third).map((s) => s.rssMib));
const rssPeak = Math.max(...samples.map((s) => s.rssMib));
if (rssPeak > baseline.rssMib + options.rssCeiling) {
  failures.push(
    `RSS reached ${rssPeak} MiB, ${baseline.rssMib.toFixed(1)} MiB before ` +
      `(bound +${options.rssCeiling} MiB)`,
  );
}
if (!(final.rssMib <= baseline.rssMib + options.rssAfter)) {
  failures.push(
    `RSS after a full GC: ${final.rssMib.toFixed(1)} MiB, ${baseline.rssMib.toFixed(1)} MiB ` +
      `before (bound +${options.rssAfter} MiB)`,
  );
}

const summary = {
  ok: failures.length === 0,
  runtime: options.runtime,
  date: new Date().toISOString(),
  minutes: options.minutes,
  rate: options.rate,
  connections: options.connections,
  pipeline: options.pipeline,
  segments,
  messages,
  baseline: {
    heapMib: round(baseline.heapMib),
    rssMib: round(baseline.rssMib),
    fds: baseline.fds,
  },
  final: { heapMib: round(final.heapMib), rssMib: round(final.rssMib), fds: final.fds },
  peaks: {
    rssMib: Math.max(...samples.map((s) => s.rssMib)),
    heapMib: Math.max(...samples.map((s) => s.heapMib)),
    fds: fdPeak,
  },
  rssFirstThirdPeakMib: firstPeak,
  rssLastThirdPeakMib: lastPeak,
  failures,
};
if (options.out !== "") {
  writeFileSync(options.out, JSON.stringify({ ...summary, samples }) + "\n");
}
log(`soak: ${segments} segments, ${messages} messages checked`);
log(
  `  RSS:  ${summary.baseline.rssMib} MiB before, peak ${summary.peaks.rssMib} ` +
    `(first third ${firstPeak}, last third ${lastPeak}), ${summary.final.rssMib} after`,
);
log(
  `  heap (+ external after a GC): ${summary.baseline.heapMib} MiB before, peak ${summary.peaks.heapMib}, ` +
    `${summary.final.heapMib} after GC after`,
);
log(`  fds:  ${baseline.fds} before, peak ${fdPeak} (bound ${fdLimit}), ${final.fds} after`);
if (failures.length > 0) {
  log(`\nSOAK FAILED on ${options.runtime}:`);
  for (const failure of failures) log(`  ${failure}`);
  process.exit(1);
}
log(`soak: ${options.runtime} passed`);
process.exit(0);
