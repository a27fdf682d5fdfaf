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
 * Writes bench/results/shapes.json and bench/results/shapes.md and prints the
 * table, only when every run passed: one failed run fails it all (exit 1).
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

async function main(): Promise<void> {
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
  const data = {
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
  const md = render(
    agents.map((a) => ({ label: a.label, idleKb: a.idleKb })),
    list.map(shapeName),
    points,
  );
  saveResult("shapes.md", md);
  console.log(md);
}

function render(
  agents: { label: string; idleKb: number }[],
  names: string[],
  points: Point[],
): string {
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

await runBenchmark(main);
