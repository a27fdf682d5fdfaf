/**
 * Draws the samples of scripts/soak.ts runs (`--out FILE.json`, one per
 * runtime) as one SVG chart with three panels, RSS, V8 heap and open file
 * descriptors against time, a line per runtime. Drawn by hand, no
 * dependencies.
 *
 *   node scripts/soak_chart.ts OUT.svg soak-deno.json soak-bun.json soak-node.json
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import type { SoakSample } from "./soak.ts";

interface SoakRun {
  runtime: string;
  date: string;
  minutes: number;
  rate: number;
  connections: number;
  pipeline: number;
  messages: number;
  samples: SoakSample[];
}

const COLORS: Record<string, string> = { deno: "#1f77b4", bun: "#d62728", node: "#2ca02c" };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (value <= m * step) return m * step;
  return 10 * step;
}

function panel(
  x0: number,
  title: string,
  runs: SoakRun[],
  value: (sample: SoakSample) => number,
): string {
  const [left, top, width, height] = [x0 + 48, 30, 230, 190];
  const maxT = Math.max(...runs.flatMap((run) => run.samples.map((s) => s.t)));
  const maxY = niceMax(1.1 * Math.max(...runs.flatMap((run) => run.samples.map(value))));
  const xOf = (t: number) => left + (t / maxT) * width;
  const yOf = (v: number) => top + height - (v / maxY) * height;
  const out = [
    `<text x="${left + width / 2}" y="18" text-anchor="middle" font-size="13">${title}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (maxY / 4) * i;
    out.push(
      `<line x1="${left}" y1="${yOf(v)}" x2="${left + width}" y2="${yOf(v)}" stroke="#ddd"/>`,
    );
    out.push(
      `<text x="${left - 5}" y="${yOf(v) + 4}" text-anchor="end" font-size="10">${v}</text>`,
    );
  }
  const minutes = Math.ceil(maxT / 60);
  for (let m = 0; m <= minutes; m += Math.max(1, Math.ceil(minutes / 5))) {
    const x = xOf(Math.min(m * 60, maxT));
    out.push(
      `<text x="${x}" y="${top + height + 15}" text-anchor="middle" font-size="10">${m}</text>`,
    );
  }
  out.push(
    `<text x="${left + width / 2}" y="${
      top + height + 30
    }" text-anchor="middle" font-size="11">minutes</text>`,
  );
  out.push(
    `<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#333"/>`,
  );
  for (const run of runs) {
    const points = run.samples.map((s) => `${xOf(s.t).toFixed(1)},${yOf(value(s)).toFixed(1)}`);
    out.push(
      `<polyline fill="none" stroke="${COLORS[run.runtime] ?? "#555"}" stroke-width="1.5" points="${
        points.join(" ")
      }"/>`,
    );
  }
  return out.join("\n");
}

const [output, ...inputs] = process.argv.slice(2);
if (output === undefined || inputs.length === 0) {
  console.error("usage: node scripts/soak_chart.ts OUT.svg SOAK.json...");
  process.exit(2);
}
const runs: SoakRun[] = inputs.map((file) => JSON.parse(readFileSync(file, "utf8")));
const [width, height] = [850, 305];
const first = runs[0];
const note = `${first.minutes} min per runtime at ${first.rate} msg/s, ${first.connections} ` +
  `connections × ${first.pipeline} in flight, new connections every segment; ${
    first.date.slice(0, 10)
  }`;
const svg = [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
  `<rect width="${width}" height="${height}" fill="white"/>`,
  panel(0, "RSS (MiB)", runs, (s) => s.rssMib),
  panel(280, "V8/JSC heap used (MiB)", runs, (s) => s.heapMib),
  panel(560, "open file descriptors", runs, (s) => s.fds),
  ...runs.map((run, i) =>
    `<line x1="${60 + i * 100}" y1="${height - 14}" x2="${84 + i * 100}" y2="${
      height - 14
    }" stroke="${COLORS[run.runtime] ?? "#555"}" stroke-width="3"/>` +
    `<text x="${90 + i * 100}" y="${height - 10}" font-size="12">${run.runtime}</text>`
  ),
  `<text x="${width - 8}" y="${
    height - 32
  }" text-anchor="end" font-size="10" fill="#666">${note}</text>`,
  "</svg>",
].join("\n");
writeFileSync(output, svg + "\n");
console.error(`soak chart: ${output}`);
