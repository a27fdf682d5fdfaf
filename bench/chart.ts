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

const COLORS: Record<string, string> = { deno: "#1f77b4", bun: "#d62728", node: "#2ca02c" };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exponent = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * exponent >= value) return step * exponent;
  }
  return 10 * exponent;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
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
  const out: string[] = [];
  out.push(
    `<text x="${x0 + width / 2}" y="28" text-anchor="middle" font-size="14" font-weight="bold">${
      escape(title)
    }</text>`,
  );
  // Grid and y labels.
  for (let i = 0; i <= 5; i++) {
    const v = (maxY / 5) * i;
    const y = yOf(v);
    out.push(`<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#ddd"/>`);
    out.push(
      `<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${
        escape(label(v))
      }</text>`,
    );
  }
  // X axis.
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
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${
      top + plotH
    }" stroke="#333"/>`,
  );
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(
    `<text x="${left + plotW / 2}" y="${
      top + plotH + 38
    }" text-anchor="middle" font-size="12">NOTIFYs in flight per connection (c = ${CONNECTIONS})</text>`,
  );
  out.push(
    `<text x="${x0 + 14}" y="${
      top + plotH / 2
    }" text-anchor="middle" font-size="12" transform="rotate(-90 ${x0 + 14} ${top + plotH / 2})">${
      escape(unit)
    }</text>`,
  );
  for (const s of series) {
    const color = COLORS[s.runtime] ?? "#555";
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
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(
    panel(
      0,
      "Throughput",
      "messages/s",
      series,
      (r) => r.messagesPerSec,
      (v) => v === 0 ? "0" : v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : `${Math.round(v / 1000)}k`,
    ),
  );
  parts.push(
    panel(
      400,
      "p99 latency",
      "ms",
      series,
      (r) => r.latencyUs.p99 / 1000,
      (v) => v === 0 ? "0" : v.toFixed(v < 1 ? 2 : 1),
    ),
  );
  // Legend.
  series.forEach((s, i) => {
    const x = 250 + i * 110;
    const color = COLORS[s.runtime] ?? "#555";
    parts.push(
      `<line x1="${x}" y1="${height - 14}" x2="${x + 24}" y2="${
        height - 14
      }" stroke="${color}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${x + 30}" y="${height - 10}" font-size="12">${escape(s.runtime)}</text>`);
  });
  const note = `agent pinned to core 1, generator (${data.generator}) to core 0; ${
    data.date.slice(0, 10)
  }`;
  parts.push(
    `<text x="${width - 8}" y="${height - 30}" text-anchor="end" font-size="10" fill="#666">${
      escape(note)
    }</text>`,
  );
  parts.push("</svg>");
  return parts.join("\n") + "\n";
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
