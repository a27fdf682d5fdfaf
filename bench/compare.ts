/**
 * Side-by-side comparison (`deno task bench:compare`): two agent files (two
 * versions of the library, or the agent with and without an option) measured
 * in one run, in alternation, on the same runtime and load points, so that
 * the machine's drift falls on both alike. Each variant is started afresh for
 * every round (agent on core 1, the load generator on core 0), and its CPU
 * per message read from /proc.
 *
 *   deno run -A bench/compare.ts --a LABEL=FILE --b LABEL=FILE
 *        [--runtimes deno,bun,node] [--rounds 3] [--duration 5] [--warmup 2]
 *        [--points c4p64,rate20k] [--loadgen bun] [--name compare]
 *
 * FILE may lie in another checkout (a worktree of an older commit): it runs
 * from there, with that checkout's library. Points: `c4p64` (c=4 p=64,
 * closed loop: throughput), `rate20k` (a fixed 20,000 msg/s, c=8 p=16: CPU
 * per message at a set load), `c32p16`; append `:async`, `:payload1024` or
 * `:args20` for the shapes of bench/_shape.ts (e.g. `c4p64:async`).
 *
 * Prints a markdown table (medians over the rounds, and b/a) and writes
 * bench/results/NAME.json, only when every generator run passed.
 *
 * @module
 */

import {
  argOf,
  fmt,
  log,
  machine,
  memoryOf,
  runBenchmark,
  runLoadgen,
  type Runtime,
  saveResult,
  selectedRuntimes,
  startAgent,
  table,
  waitQuiet,
} from "./_lib.ts";

interface Variant {
  label: string;
  file: string;
}

function variant(flag: string): Variant {
  const value = argOf(flag, "");
  const eq = value.indexOf("=");
  if (eq <= 0) throw new Error(`${flag} LABEL=FILE is required`);
  return { label: value.slice(0, eq), file: value.slice(eq + 1) };
}

const POINTS: Record<string, string[]> = {
  c4p64: ["-c", "4", "-p", "64"],
  c32p16: ["-c", "32", "-p", "16"],
  rate20k: ["-c", "8", "-p", "16", "--rate", "20000"],
};

const SHAPES: Record<string, string[]> = {
  async: ["--async"],
  payload1024: ["--payload", "1024"],
  payload8192: ["--payload", "8192"],
  args20: ["--args", "20"],
  messages4: ["--messages", "4"],
};

function pointArgs(point: string): string[] {
  const [base, ...shapes] = point.split(":");
  const args = POINTS[base];
  if (args === undefined) throw new Error(`unknown point ${base}`);
  return [
    ...args,
    ...shapes.flatMap((shape) => {
      const extra = SHAPES[shape];
      if (extra === undefined) throw new Error(`unknown shape ${shape}`);
      return extra;
    }),
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Sample {
  messagesPerSec: number;
  usPerMessage: number;
  p99Us: number;
  rssMiB: number;
}

await runBenchmark(async () => {
  const a = variant("--a");
  const b = variant("--b");
  const runtimes = selectedRuntimes();
  const rounds = Number(argOf("--rounds", "3"));
  const duration = argOf("--duration", "5");
  const warmup = argOf("--warmup", "2");
  const points = argOf("--points", "c4p64,rate20k").split(",");
  const loadgen = argOf("--loadgen", "bun") as Runtime;
  const name = argOf("--name", "compare");
  const port = Number(argOf("--port", "23461"));
  const results: Record<string, Record<string, Record<string, Sample[]>>> = {};
  for (const runtime of runtimes) {
    for (const point of points) {
      for (let round = 0; round < rounds; round++) {
        // Alternate which variant goes first, so that drift within a round cancels out.
        const order = round % 2 === 0 ? [a, b] : [b, a];
        for (const v of order) {
          await waitQuiet();
          const agent = await startAgent(runtime, port, 1, v.file);
          try {
            const result = await runLoadgen(loadgen, 0, [
              "--target",
              `127.0.0.1:${port}`,
              "--agent-pid",
              String(agent.pid),
              "--duration",
              duration,
              "--warmup",
              warmup,
              ...pointArgs(point),
            ]);
            const sample: Sample = {
              messagesPerSec: result.messagesPerSec,
              usPerMessage: result.agent!.usPerMessage,
              p99Us: result.latencyUs.p99,
              rssMiB: memoryOf(agent.pid).rssKb / 1024,
            };
            ((results[runtime] ??= {})[point] ??= {})[v.label] ??= [];
            results[runtime][point][v.label].push(sample);
            log(
              `${runtime} ${point} ${v.label} round ${round + 1}: ` +
                `${fmt.k(sample.messagesPerSec)} msg/s, ${sample.usPerMessage.toFixed(2)} µs/msg`,
            );
          } finally {
            await agent.stop();
          }
        }
      }
    }
  }
  const rows: (string | number)[][] = [];
  for (const [runtime, byPoint] of Object.entries(results)) {
    for (const [point, byVariant] of Object.entries(byPoint)) {
      const ma = byVariant[a.label];
      const mb = byVariant[b.label];
      const rate = (s: Sample[]) => median(s.map((x) => x.messagesPerSec));
      const cpu = (s: Sample[]) => median(s.map((x) => x.usPerMessage));
      rows.push([
        runtime,
        point,
        fmt.k(rate(ma)),
        fmt.k(rate(mb)),
        (rate(mb) / rate(ma)).toFixed(2),
        cpu(ma).toFixed(2),
        cpu(mb).toFixed(2),
        (cpu(mb) / cpu(ma)).toFixed(2),
      ]);
    }
  }
  const head = [
    "runtime",
    "point",
    `${a.label} msg/s`,
    `${b.label} msg/s`,
    "b/a",
    `${a.label} µs/msg`,
    `${b.label} µs/msg`,
    "b/a",
  ];
  console.log(`\n${table(head, rows)}\n`);
  saveResult(`${name}.json`, {
    machine: machine(),
    a,
    b,
    rounds,
    duration,
    loadgen,
    points,
    results,
  });
  saveResult(`${name}.md`, `${table(head, rows)}\n`);
});
