/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, `deno run --cpu-prof`
 * or Bun's `--cpu-prof`): self and inclusive time per function, top N.
 *
 *   deno run -A bench/cpuprofile.ts FILE.cpuprofile [--top 30] [--filter src/]
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith("--"));
if (!file) {
  console.error("usage: cpuprofile FILE.cpuprofile [--top N] [--filter TEXT]");
  process.exit(2);
}
const topIndex = args.indexOf("--top");
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 30;
const filterIndex = args.indexOf("--filter");
const filter = filterIndex >= 0 ? args[filterIndex + 1] : "";

const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map<number, Node>();
const parent = new Map<number, number>();
for (const node of profile.nodes) {
  byId.set(node.id, node);
  for (const child of node.children ?? []) parent.set(child, node.id);
}

const selfTime = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  selfTime.set(profile.samples[i], (selfTime.get(profile.samples[i]) ?? 0) + dt);
}

function key(node: Node): string {
  const f = node.callFrame;
  const url = f.url.replace(/^file:\/\//, "").replace(process.cwd() + "/", "");
  return `${f.functionName || "(anonymous)"} ${url}${url ? `:${f.lineNumber + 1}` : ""}`;
}

const self = new Map<string, number>();
const total = new Map<string, number>();
let sum = 0;
let idle = 0;
for (const [id, time] of selfTime) {
  sum += time;
  const node = byId.get(id)!;
  const name = node.callFrame.functionName;
  if (name === "(idle)" || name === "(program)") idle += name === "(idle)" ? time : 0;
  const k = key(node);
  self.set(k, (self.get(k) ?? 0) + time);
  // Inclusive time: count each function once per sample stack.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const kk = key(byId.get(cur)!);
    if (seen.has(kk)) continue;
    seen.add(kk);
    total.set(kk, (total.get(kk) ?? 0) + time);
  }
}

const busy = sum - idle;
const pct = (t: number) => `${(t / busy * 100).toFixed(1).padStart(5)}%`;
console.log(
  `${file}: ${(sum / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms not idle`,
);
console.log("\nself time (% of non-idle):");
for (
  const [k, t] of [...self].filter(([k]) => k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(
    0,
    top,
  )
) {
  console.log(`  ${pct(t)}  ${k}`);
}
console.log("\ninclusive time (% of non-idle):");
for (
  const [k, t] of [...total].filter(([k]) => k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(
    0,
    top,
  )
) {
  console.log(`  ${pct(t)}  ${k}`);
}
