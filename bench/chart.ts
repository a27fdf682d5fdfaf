/**
 * In-flight depth sweep and chart (`deno task bench:chart`): throughput and
 * p99 latency against the number of NOTIFYs in flight per connection (p = 1,
 * 4, 16, 64 at c = 4) for the agent on Deno, Bun and Node (agent on core 1,
 * generator on core 0). Writes bench/results/depth.json and an SVG chart drawn
 * by hand (no dependencies) to bench/results/chart.svg.
 *
 * Options: --runtimes deno,bun,node  --duration 5  --warmup 2  --loadgen bun
 *          --agent bench/agent.ts  --results-dir bench/results
 *          --render-only   (redraw the chart from bench/results/depth.json)
 *
 * Writes nothing unless every load generator run passed (every ACK checked
 * out): one failed run fails the whole sweep (exit 1).
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import process from "node:process";
import {
  agentFile,
  agentLabel,
  argOf,
  fmt,
  type LoadResult,
  log,
  machine,
  RESULTS,
  runBenchmark,
  runLoadgen,
  type Runtime,
  saveResult,
  selectedRuntimes,
  startAgent,
  waitQuiet,
} from "./_lib.ts";
import { colorOf, formatCount, legend, niceMax, note, plotFrame, svgDocument } from "./_svg.ts";

const DEPTHS = [1, 4, 16, 64];
const CONNECTIONS = 4;
const AGENT_CORE = 1;
const LOADGEN_CORE = 0;
const PORT = Number(argOf("--port", "23461"));

interface Series {
  runtime: string;
  points: { pipeline: number; result: LoadResult }[];
}

interface DepthData {
  date: string;
  machine: Record<string, string | number>;
  generator: string;
  connections: number;
  series: Series[];
}

async function sweep(): Promise<DepthData> {
  // Default: the generator bench:direct chose, else Bun.
  let chosen = "bun";
  try {
    chosen = JSON.parse(readFileSync(`${RESULTS}/direct.json`, "utf8")).generator ?? chosen;
  } catch {
    // No direct results yet.
  }
  const generator = argOf("--loadgen", chosen) as Runtime;
  const duration = argOf("--duration", "5");
  const warmup = argOf("--warmup", "2");
  const series: Series[] = [];
  const file = agentFile();
  for (const runtime of selectedRuntimes()) {
    const agent = await startAgent(runtime, PORT, AGENT_CORE, file);
    const points: Series["points"] = [];
    try {
      for (const pipeline of DEPTHS) {
        await waitQuiet();
        const result = await runLoadgen(generator, LOADGEN_CORE, [
          "--target",
          `127.0.0.1:${PORT}`,
          "--agent-pid",
          String(agent.pid),
          "-c",
          String(CONNECTIONS),
          "-p",
          String(pipeline),
          "--duration",
          duration,
          "--warmup",
          warmup,
        ]);
        points.push({ pipeline, result });
        log(
          `  ${runtime} p=${pipeline}: ${fmt.k(result.messagesPerSec)} msg/s, p99 ${
            fmt.ms(result.latencyUs.p99)
          } ms`,
        );
      }
    } finally {
      await agent.stop();
    }
    series.push({ runtime: agentLabel(runtime, file), points });
  }
  return {
    date: new Date().toISOString(),
    machine: machine(),
    generator,
    connections: CONNECTIONS,
    series,
  };
}

/** One panel: y against log2(p), a line per runtime. */
function panel(
  x0: number,
  title: string,
  unit: string,
  series: Series[],
  value: (r: LoadResult) => number,
  label: (v: number) => string,
): string {
  const width = 380;
  const height = 260;
  const left = x0 + 60;
  const top = 50;
  const plotW = width - 80;
  const plotH = height - 90;
  const maxY = niceMax(Math.max(...series.flatMap((s) => s.points.map((p) => value(p.result)))));
  const xOf = (p: number) => left + (Math.log2(p) / Math.log2(DEPTHS[DEPTHS.length - 1])) * plotW;
  const yOf = (v: number) => top + plotH - (v / maxY) * plotH;
  const out = plotFrame({
    left,
    top,
    width: plotW,
    height: plotH,
    title,
    titleX: x0 + width / 2,
    titleY: 28,
    unit,
    unitX: x0 + 14,
    maxY,
    label,
  });
  for (const p of DEPTHS) {
    const x = xOf(p);
    out.push(
      `<line x1="${x}" y1="${top + plotH}" x2="${x}" y2="${top + plotH + 4}" stroke="#333"/>`,
    );
    out.push(
      `<text x="${x}" y="${top + plotH + 18}" text-anchor="middle" font-size="11">${p}</text>`,
    );
  }
  out.push(
    `<text x="${left + plotW / 2}" y="${
      top + plotH + 38
    }" text-anchor="middle" font-size="12">NOTIFYs in flight per connection (c = ${CONNECTIONS})</text>`,
  );
  for (const s of series) {
    const color = colorOf(s.runtime);
    const pts = s.points.map((p) =>
      `${xOf(p.pipeline).toFixed(1)},${yOf(value(p.result)).toFixed(1)}`
    );
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(" ")}"/>`,
    );
    for (const p of s.points) {
      out.push(
        `<circle cx="${xOf(p.pipeline).toFixed(1)}" cy="${
          yOf(value(p.result)).toFixed(1)
        }" r="3" fill="${color}"/>`,
      );
    }
  }
  return out.join("\n");
}

function render(data: DepthData): string {
  const series = data.series;
  const width = 800;
  const height = 330;
  const text = `agent pinned to core 1, generator (${data.generator}) to core 0; ${
    data.date.slice(0, 10)
  }`;
  return svgDocument(width, height, [
    panel(0, "Throughput", "messages/s", series, (r) => r.messagesPerSec, formatCount),
    panel(
      400,
      "p99 latency",
      "ms",
      series,
      (r) => r.latencyUs.p99 / 1000,
      (v) => v === 0 ? "0" : v.toFixed(v < 1 ? 2 : 1),
    ),
    ...legend(
      series.map((s) => ({ label: s.runtime, color: colorOf(s.runtime) })),
      250,
      height - 10,
      110,
      "line",
    ),
    note(width - 8, height - 30, text),
  ]);
}

async function main(): Promise<void> {
  let data: DepthData;
  if (process.argv.includes("--render-only")) {
    const path = `${RESULTS}/depth.json`;
    if (!existsSync(path)) throw new Error(`${path} missing: run without --render-only first`);
    data = JSON.parse(readFileSync(path, "utf8"));
  } else {
    data = await sweep();
    saveResult("depth.json", data);
  }
  const path = saveResult("chart.svg", render(data));
  const rows = data.series.flatMap((s) =>
    s.points.map((p) =>
      `| ${s.runtime} | ${p.pipeline} | ${fmt.k(p.result.messagesPerSec)} | ${
        fmt.ms(p.result.latencyUs.p50)
      } | ${fmt.ms(p.result.latencyUs.p99)} | ${
        fmt.us(p.result.agent?.usPerMessage ?? 0)
      } | ${p.result.errors.total} |`
    )
  );
  const md = [
    "| agent | p (c=4) | msg/s | p50 ms | p99 ms | agent µs/msg | errors |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
  saveResult("depth.md", md + "\n");
  console.log(md);
  log(`chart: ${path}`);
}

await runBenchmark(main);
