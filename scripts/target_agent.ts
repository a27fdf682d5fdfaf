/**
 * The agent that scripts/fuzz.ts and scripts/soak.ts attack and load, with the
 * library's default options: the benchmark handlers (`get-ip-reputation`,
 * bench/agent.ts), and the fuzz handlers (the captured messages echoed back,
 * `score`; tests/hostile/_streams.ts). Runs on Deno, Bun and Node 24:
 *
 *   deno run -A scripts/target_agent.ts [HOST:PORT] [--report]
 *   bun scripts/target_agent.ts [HOST:PORT] [--report]
 *   node scripts/target_agent.ts [HOST:PORT] [--report]
 *
 * Prints `{"ready":true,"pid":…,"address":…}` once listening (bench/_serve.ts);
 * with `--report`, also one line `{"memory":{"rss":…,"heapUsed":…,…}}` per
 * second, the process's own view of its memory (`process.memoryUsage()`). On
 * SIGUSR2 it collects garbage, then prints such a line with `"afterGc":true`.
 *
 * @module
 */

import process from "node:process";
import { register } from "../bench/agent.ts";
import { serve } from "../bench/_serve.ts";
import { registerFuzzHandlers } from "../tests/hostile/_fuzz_handlers.ts";
import { collectGarbage } from "../tests/hostile/_gc.ts";

/** Prints the process's view of its memory as one JSON line. */
function report(afterGc: boolean): void {
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  console.log(JSON.stringify({ memory: { rss, heapTotal, heapUsed, external }, afterGc }));
}

if (process.argv.includes("--report")) {
  const timer = setInterval(() => report(false), 1000);
  (timer as { unref?(): void }).unref?.();
}
// SIGUSR2: collect garbage, then report what is still live.
process.on("SIGUSR2", () => {
  collectGarbage();
  setTimeout(() => {
    collectGarbage();
    report(true);
  }, 10);
});

await serve((agent) => {
  register(agent);
  registerFuzzHandlers(agent);
});
