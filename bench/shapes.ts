/**
 * Shapes benchmark (`deno task bench:shapes`): the agent on Deno, Bun and Node
 * side by side, against NOTIFYs of several shapes (bench/_shape.ts), each
 * answer checked by the load generator:
 *
 * - sync handler, 1 message of 1 argument (`ip`) per frame: the baseline;
 * - async handler (awaits one already-resolved promise);
 * - an unread STRING payload of 1 KiB, of 8 KiB;
 * - 20 arguments per message, of which the handler reads one (`ip`, the last);
 * - 4 messages per NOTIFY frame.
 *
 * Each shape varies one thing from the baseline; `--full` measures every
 * combination instead (handler × payload × arguments × messages per frame,
 * less those whose NOTIFY exceeds max-frame-size).
 *
 * The three agents run at once on core 1 (idle but one at a time), the
 * generator on core 0; the runtimes take turns within each shape, so that
 * drift on a shared machine lands on all of them alike. Per point: messages/s,
 * the agent's CPU per message (utime + stime from /proc/PID/stat), its RSS at
 * the end and its peak RSS (VmHWM, reset before the point), p99 latency.
 *
 * Options: --runtimes deno,bun,node  --duration 5  --warmup 2  -c 4  -p 64
 *          --loadgen bun  --full  --shapes NAME;NAME (names as printed)
 *          --agent bench/agent.ts  --results-dir bench/results  --quiet-wait 20
 *          --render-only   (redraw shapes.md and shapes.svg from bench/results/shapes.json)
 * Writes bench/results/shapes.json, shapes.md (the table, also printed) and
 * shapes.svg (a chart drawn by hand, no dependencies: messages/s and agent CPU
 * per message, a group of bars per shape, a bar per runtime), only when every
 * run passed: one failed run fails it all (exit 1).
 *
 * @module
 */

import {
  agentFile,
  agentLabel,
  argOf,
  fmt,
  type LoadResult,
  log,
  machine,
  memoryOf,
  resetPeakRss,
  RESULTS,
  runBenchmark,
  runLoadgen,
  type Runtime,
  saveResult,
  selectedRuntimes,
  sleep,
  startAgent,
  type Started,
  table,
  waitQuiet,
} from "./_lib.ts";
import { notifyTemplate, type Shape, shapeName } from "./_shape.ts";
import {
  colorOf,
  escapeXml,
  formatCount,
  legend,
  niceMax,
  note,
  plotFrame,
  svgDocument,
} from "./_svg.ts";
import { existsSync, readFileSync } from "node:fs";
import process from "node:process";

const AGENT_CORE = 1;
const LOADGEN_CORE = 0;
const BASE_PORT = Number(argOf("--port", "23481"));
const duration = argOf("--duration", "5");
const warmup = argOf("--warmup", "2");
const connections = argOf("-c", "4");
const pipeline = argOf("-p", "64");
const generator = argOf("--loadgen", "bun") as Runtime;
/** The largest NOTIFY the agent accepts (its max-frame-size), length prefix excluded. */
const MAX_FRAME = 16380;

const BASE: Shape = { messages: 1, payload: 0, args: 1, async: false };

function shapes(): Shape[] {
  let list: Shape[];
  if (process.argv.includes("--full")) {
    list = [];
    for (const async of [false, true]) {
      for (const payload of [0, 1024, 8192]) {
        for (const args of [1, 20]) {
          for (const messages of [1, 4]) list.push({ messages, payload, args, async });
        }
      }
    }
  } else {
    list = [
      BASE,
      { ...BASE, async: true },
      { ...BASE, payload: 1024 },
      { ...BASE, payload: 8192 },
      { ...BASE, args: 20 },
      { ...BASE, messages: 4 },
    ];
  }
  const fits = (shape: Shape) => notifyTemplate(shape).bytes.length + 11 <= MAX_FRAME;
  for (const shape of list) {
    if (!fits(shape)) log(`skipped: ${shapeName(shape)} (a NOTIFY over ${MAX_FRAME} bytes)`);
  }
  list = list.filter(fits);
  const wanted = argOf("--shapes", "");
  if (wanted) {
    const names = wanted.split(";").map((n) => n.trim());
    for (const name of names) {
      if (!list.some((s) => shapeName(s) === name)) {
        throw new Error(
          `unknown shape "${name}"; shapes: ${list.map((s) => `"${shapeName(s)}"`).join(", ")}`,
        );
      }
    }
    list = list.filter((s) => names.includes(shapeName(s)));
  }
  return list;
}

function shapeArgs(shape: Shape): string[] {
  const args = ["--messages", String(shape.messages), "--args", String(shape.args)];
  if (shape.payload > 0) args.push("--payload", String(shape.payload));
  if (shape.async) args.push("--async");
  return args;
}

interface Point {
  shape: Shape;
  name: string;
  runtime: string;
  result: LoadResult;
}

/** What bench/results/shapes.json holds. */
interface ShapesData {
  date: string;
  machine: Record<string, string | number>;
  agent: string;
  generator: string;
  connections: number;
  pipeline: number;
  duration: number;
  warmup: number;
  /** Per agent label, in the order the agents ran: its RSS one second after start. */
  idleRssKb: Record<string, number>;
  points: Point[];
  seconds: number;
}

async function main(): Promise<void> {
  if (process.argv.includes("--render-only")) {
    const path = `${RESULTS}/shapes.json`;
    if (!existsSync(path)) throw new Error(`${path} missing: run without --render-only first`);
    report(JSON.parse(readFileSync(path, "utf8")));
    return;
  }
  const started = Date.now();
  const info = machine();
  log(`machine: ${JSON.stringify(info)}`);
  const runtimes = selectedRuntimes();
  const file = agentFile();
  const list = shapes();
  log(
    `${list.length} shapes × ${runtimes.length} runtimes, c=${connections} p=${pipeline}, ` +
      `${warmup} s warmup + ${duration} s each, generator ${generator} on core ${LOADGEN_CORE}`,
  );
  const agents: { runtime: Runtime; label: string; agent: Started; idleKb: number }[] = [];
  const points: Point[] = [];
  try {
    for (const [i, runtime] of runtimes.entries()) {
      const agent = await startAgent(runtime, BASE_PORT + i, AGENT_CORE, file);
      agents.push({ runtime, label: agentLabel(runtime, file), agent, idleKb: 0 });
    }
    await sleep(1000);
    for (const a of agents) a.idleKb = memoryOf(a.agent.pid).rssKb;
    for (const shape of list) {
      const name = shapeName(shape);
      for (const [i, a] of agents.entries()) {
        await waitQuiet();
        resetPeakRss(a.agent.pid);
        const result = await runLoadgen(generator, LOADGEN_CORE, [
          "--target",
          `127.0.0.1:${BASE_PORT + i}`,
          "--agent-pid",
          String(a.agent.pid),
          "-c",
          connections,
          "-p",
          pipeline,
          "--duration",
          duration,
          "--warmup",
          warmup,
          ...shapeArgs(shape),
        ]);
        points.push({ shape, name, runtime: a.label, result });
        log(
          `  ${name.padEnd(28)} ${a.label.padEnd(5)} ${
            fmt.k(result.messagesPerSec).padStart(8)
          } msg/s  agent ${fmt.us(result.agent?.usPerMessage ?? 0)} µs/msg ${
            fmt.pct(result.agent?.cores ?? 0)
          }  RSS ${fmt.mib(result.agent?.rssKb ?? 0)} MiB (peak ${
            fmt.mib(result.agent?.hwmKb ?? 0)
          })  gen ${fmt.pct(result.cpu.cores)}`,
        );
      }
    }
  } finally {
    for (const a of agents) await a.agent.stop();
  }
  const data: ShapesData = {
    date: new Date().toISOString(),
    machine: info,
    agent: file,
    generator,
    connections: Number(connections),
    pipeline: Number(pipeline),
    duration: Number(duration),
    warmup: Number(warmup),
    idleRssKb: Object.fromEntries(agents.map((a) => [a.label, a.idleKb])),
    points,
    seconds: (Date.now() - started) / 1000,
  };
  saveResult("shapes.json", data);
  report(data);
}

/** Writes shapes.md and shapes.svg from the results and prints the table. */
function report(data: ShapesData): void {
  const md = renderTable(data);
  saveResult("shapes.md", md);
  log(`chart: ${saveResult("shapes.svg", renderChart(data))}`);
  console.log(md);
}

/** The shape names and agent labels of the results, in the order they ran. */
function axes(data: ShapesData): { names: string[]; labels: string[] } {
  return {
    names: [...new Set(data.points.map((p) => p.name))],
    labels: Object.keys(data.idleRssKb),
  };
}

function renderTable(data: ShapesData): string {
  const { names } = axes(data);
  const agents = Object.entries(data.idleRssKb).map(([label, idleKb]) => ({ label, idleKb }));
  const points = data.points;
  const head = ["shape"];
  for (const a of agents) {
    head.push(`${a.label} msg/s`, `${a.label} µs/msg (CPU)`, `${a.label} RSS / peak MiB`);
  }
  const rows = names.map((name) => {
    const row: (string | number)[] = [name];
    for (const a of agents) {
      const r = points.find((p) => p.name === name && p.runtime === a.label)!.result;
      row.push(
        fmt.k(r.messagesPerSec),
        `${fmt.us(r.agent?.usPerMessage ?? 0)} (${fmt.pct(r.agent?.cores ?? 0)})`,
        `${fmt.mib(r.agent?.rssKb ?? 0)} / ${fmt.mib(r.agent?.hwmKb ?? 0)}`,
      );
    }
    return row;
  });
  const idle = agents.map((a) => `${a.label} ${fmt.mib(a.idleKb)} MiB`).join(", ");
  return `${table(head, rows)}\n\nµs/msg: the agent's CPU (user + system) per message, and ` +
    "in brackets the share of its core it used; msg/s counts messages (4 per frame in the " +
    "4 msg/frame shape); " +
    `RSS at the end of the point / peak during it; idle RSS before the first point: ${idle}.\n`;
}

/** Bar chart layout (pixels): the least width of a group of bars, the plot height, a label line. */
const GROUP_W = 76;
const PLOT_H = 170;
const LINE_H = 13;

/**
 * One panel of grouped bars from `y0` down: a group per shape (named below
 * it, a line per part of its name), a bar per agent; each bar carries its
 * value when the text fits on it. Returns the SVG and the panel's height.
 */
function barPanel(
  data: ShapesData,
  width: number,
  y0: number,
  title: string,
  unit: string,
  value: (r: LoadResult) => number | undefined,
  axisLabel: (v: number) => string,
  barLabel: (v: number) => string,
): { svg: string; height: number } {
  const { names, labels } = axes(data);
  const left = 80;
  const top = y0 + 50;
  const plotW = width - left - 20;
  const bottom = top + PLOT_H;
  const groupW = plotW / names.length;
  const barW = (groupW * 0.76) / labels.length;
  const valueOf = (name: string, label: string) => {
    const point = data.points.find((p) => p.name === name && p.runtime === label);
    return point === undefined ? undefined : value(point.result);
  };
  const values = names.flatMap((n) => labels.map((l) => valueOf(n, l) ?? 0));
  const maxY = niceMax(Math.max(...values));
  const out = plotFrame({
    left,
    top,
    width: plotW,
    height: PLOT_H,
    title,
    titleX: width / 2,
    titleY: y0 + 28,
    unit,
    unitX: 20,
    maxY,
    label: axisLabel,
  });
  // About 5.5 px per character at font-size 9.
  const labelsFit = values.every((v) => barLabel(v).length * 5.5 + 2 <= barW);
  for (const [g, name] of names.entries()) {
    const x0 = left + g * groupW + groupW * 0.12;
    for (const [b, label] of labels.entries()) {
      const v = valueOf(name, label);
      if (v === undefined) continue;
      const x = x0 + b * barW;
      const h = (v / maxY) * PLOT_H;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${
          (barW - 2).toFixed(1)
        }" height="${h.toFixed(1)}" fill="${colorOf(label)}"/>`,
      );
      if (labelsFit) {
        out.push(
          `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${
            (bottom - h - 3).toFixed(1)
          }" text-anchor="middle" font-size="9" fill="#333">${escapeXml(barLabel(v))}</text>`,
        );
      }
    }
    const cx = (left + (g + 0.5) * groupW).toFixed(1);
    const lines = name.split(", ").map((part, i) =>
      `<tspan x="${cx}" dy="${i === 0 ? 0 : LINE_H}">${escapeXml(part)}</tspan>`
    );
    out.push(
      `<text x="${cx}" y="${bottom + 16}" text-anchor="middle" font-size="11">${
        lines.join("")
      }</text>`,
    );
  }
  const lineCount = Math.max(...names.map((n) => n.split(", ").length));
  return { svg: out.join("\n"), height: 50 + PLOT_H + 12 + lineCount * LINE_H };
}

/** The chart of the results: messages/s above, agent CPU per message below. */
function renderChart(data: ShapesData): string {
  const { names, labels } = axes(data);
  const width = Math.max(800, 100 + names.length * GROUP_W);
  const throughput = barPanel(
    data,
    width,
    0,
    "Throughput per shape",
    "messages/s",
    (r) => r.messagesPerSec,
    formatCount,
    (v) => `${Math.round(v / 1000)}k`,
  );
  const cpu = barPanel(
    data,
    width,
    throughput.height,
    "Agent CPU per message",
    "µs (user + system)",
    (r) => r.agent?.usPerMessage,
    (v) => v === 0 ? "0" : v.toFixed(v < 1 ? 2 : 1),
    (v) => v.toFixed(2),
  );
  const height = throughput.height + cpu.height + 44;
  const spacing = 40 + Math.max(...labels.map((l) => l.length)) * 7;
  const text = `c = ${data.connections}, ${data.pipeline} NOTIFYs in flight per connection, ` +
    `${data.warmup} s warmup + ${data.duration} s per bar; agents on core 1, generator (${data.generator}) ` +
    `on core 0; ${data.date.slice(0, 10)}`;
  return svgDocument(width, height, [
    throughput.svg,
    cpu.svg,
    ...legend(
      labels.map((label) => ({ label, color: colorOf(label) })),
      (width - labels.length * spacing) / 2,
      height - 10,
      spacing,
      "box",
    ),
    note(width - 8, height - 30, text),
  ]);
}

await runBenchmark(main);
