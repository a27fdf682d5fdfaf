/**
 * Direct benchmark (`deno task bench:direct`): the load generator plays
 * HAProxy 3.x against bench/agent.ts on Deno, Bun and Node, agent pinned to
 * core 1 and generator to core 0.
 *
 * Points per runtime: c=32 p=16 (first, on a fresh agent, for the RSS above
 * idle), c=4 p=1, c=4 p=64, a fixed 20k msg/s with c=8 p=16, and c=4 p=64
 * with 1 KiB and 8 KiB payloads. Agent CPU per message from /proc/PID/stat,
 * peak RSS from VmHWM (reset before each point).
 *
 * Options: --runtimes deno,bun,node  --duration 5  --warmup 2
 *          --loadgen node|bun|deno (default: measured, the one with the least CPU per message)
 *          --reference bun|node|deno|none (the hand-written reference agent's runtime)
 *          --agent bench/agent.ts (the agent file measured; bench/wrong_agent.ts must fail)
 *          --results-dir bench/results
 * Writes bench/results/direct.json and bench/results/direct.md, only when every
 * load generator run passed (every ACK checked out): one failed run fails the
 * whole benchmark (exit 1, nothing written).
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
  RUNTIMES,
  saveResult,
  selectedRuntimes,
  startAgent,
  table,
  waitQuiet,
} from "./_lib.ts";

const AGENT_CORE = 1;
const LOADGEN_CORE = 0;
const PORT = Number(argOf("--port", "23451"));
const duration = argOf("--duration", "5");
const warmup = argOf("--warmup", "2");
const runtimes = selectedRuntimes();

interface Point {
  name: string;
  args: string[];
}

const POINTS: Point[] = [
  { name: "c=32 p=16", args: ["-c", "32", "-p", "16"] },
  { name: "c=4 p=1", args: ["-c", "4", "-p", "1"] },
  { name: "c=4 p=64", args: ["-c", "4", "-p", "64"] },
  { name: "20k/s c=8 p=16", args: ["-c", "8", "-p", "16", "--rate", "20000"] },
  { name: "c=4 p=64 1 KiB", args: ["-c", "4", "-p", "64", "--payload", "1024"] },
  { name: "c=4 p=64 8 KiB", args: ["-c", "4", "-p", "64", "--payload", "8192"] },
];

async function measure(
  generator: Runtime,
  pid: number,
  args: string[],
  seconds = duration,
  warm = warmup,
): Promise<LoadResult> {
  resetPeakRss(pid);
  return await runLoadgen(generator, LOADGEN_CORE, [
    "--target",
    `127.0.0.1:${PORT}`,
    "--agent-pid",
    String(pid),
    "--duration",
    seconds,
    "--warmup",
    warm,
    ...args,
  ]);
}

/**
 * Runs the generator on each runtime against the hand-written reference agent
 * (bench/minimal_agent.ts on Node), which answers several times faster than the
 * library, so that the generator is the bottleneck: the least CPU per message wins.
 */
async function pickGenerator(): Promise<{ pick: Runtime; trials: Record<string, LoadResult> }> {
  const given = argOf("--loadgen", "");
  if (given) return { pick: given as Runtime, trials: {} };
  log("choosing the load generator's runtime (reference agent on node, c=4 p=64, 3 s each)");
  const trials: Record<string, LoadResult> = {};
  const agent = await startAgent("node", PORT, AGENT_CORE, "bench/minimal_agent.ts");
  try {
    for (const generator of RUNTIMES) {
      await waitQuiet();
      const r = await measure(generator, agent.pid, ["-c", "4", "-p", "64"], "3", "1");
      trials[generator] = r;
      log(
        `  ${generator}: ${fmt.k(r.messagesPerSec)} msg/s, generator ${
          fmt.us(r.cpu.usPerMessage)
        } µs/msg (${fmt.pct(r.cpu.cores)} of core ${LOADGEN_CORE})`,
      );
    }
  } finally {
    await agent.stop();
  }
  const ranked = Object.entries(trials);
  ranked.sort((a, b) => a[1].cpu.usPerMessage - b[1].cpu.usPerMessage);
  return { pick: ranked[0][0] as Runtime, trials };
}

interface RuntimeResult {
  runtime: string;
  idle: { rssKb: number; hwmKb: number };
  points: { name: string; result: LoadResult }[];
}

async function main(): Promise<void> {
  const started = Date.now();
  const info = machine();
  log(`machine: ${JSON.stringify(info)}`);
  const { pick: generator, trials } = await pickGenerator();
  log(`load generator runtime: ${generator}`);
  const results: RuntimeResult[] = [];
  // The library on each runtime, then the hand-written reference agent (not the library).
  const reference = argOf("--reference", "bun");
  const file = agentFile();
  const runs = runtimes.map((runtime) => ({ runtime, file, points: POINTS }));
  if (reference !== "none") {
    runs.push({
      runtime: reference as Runtime,
      file: "bench/minimal_agent.ts",
      points: POINTS.filter((p) => p.name === "c=4 p=1" || p.name === "c=4 p=64"),
    });
  }
  for (const run of runs) {
    const runtime = run.runtime;
    const name = agentLabel(runtime, run.file);
    await waitQuiet();
    log(`agent: ${name}`);
    const agent = await startAgent(runtime, PORT, AGENT_CORE, run.file);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const idle = memoryOf(agent.pid);
      log(`  idle RSS ${fmt.mib(idle.rssKb)} MiB`);
      const points: RuntimeResult["points"] = [];
      for (const point of run.points) {
        await waitQuiet();
        const result = await measure(generator, agent.pid, point.args);
        points.push({ name: point.name, result });
        log(
          `  ${point.name.padEnd(16)} ${fmt.k(result.messagesPerSec).padStart(7)} msg/s  p50 ${
            fmt.ms(result.latencyUs.p50)
          }  p99 ${fmt.ms(result.latencyUs.p99)} ms  agent ${
            fmt.us(result.agent?.usPerMessage ?? 0)
          } µs/msg  peak RSS ${fmt.mib(result.agent?.hwmKb ?? 0)} MiB  gen ${
            fmt.pct(result.cpu.cores)
          }`,
        );
      }
      results.push({ runtime: name, idle, points });
    } finally {
      await agent.stop();
    }
  }
  const data = {
    date: new Date().toISOString(),
    machine: info,
    agent: file,
    generator,
    generatorTrials: trials,
    duration: Number(duration),
    warmup: Number(warmup),
    results,
    seconds: (Date.now() - started) / 1000,
  };
  saveResult("direct.json", data);
  const md = render(data);
  saveResult("direct.md", md);
  console.log(md);
}

function render(data: {
  generator: string;
  generatorTrials: Record<string, LoadResult>;
  results: RuntimeResult[];
}): string {
  const out: string[] = [];
  if (Object.keys(data.generatorTrials).length > 0) {
    out.push("Load generator runtime (reference agent on Node, c=4 p=64, 3 s):\n");
    out.push(table(
      ["generator", "msg/s", "generator µs/msg", "generator CPU", "errors"],
      Object.entries(data.generatorTrials).map(([rt, r]) => [
        rt,
        fmt.k(r.messagesPerSec),
        fmt.us(r.cpu.usPerMessage),
        fmt.pct(r.cpu.cores),
        r.errors.total,
      ]),
    ));
    out.push(`\nChosen: **${data.generator}**.\n`);
  }
  for (const rr of data.results) {
    out.push(`#### ${rr.runtime} (idle RSS ${fmt.mib(rr.idle.rssKb)} MiB)\n`);
    out.push(table(
      [
        "point",
        "msg/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "agent µs/msg",
        "agent CPU",
        "peak RSS MiB (Δ idle)",
        "generator CPU",
        "core busy 0/1",
        "errors",
      ],
      rr.points.map(({ name, result: r }) => [
        name,
        fmt.k(r.messagesPerSec),
        fmt.ms(r.latencyUs.p50),
        fmt.ms(r.latencyUs.p99),
        fmt.ms(r.latencyUs.p999),
        fmt.us(r.agent?.usPerMessage ?? 0),
        fmt.pct(r.agent?.cores ?? 0),
        `${fmt.mib(r.agent?.hwmKb ?? 0)} (+${fmt.mib((r.agent?.hwmKb ?? 0) - rr.idle.rssKb)})`,
        fmt.pct(r.cpu.cores),
        (r.coreBusy ?? []).map(fmt.pct).join(" / "),
        r.errors.total,
      ]),
    ));
    out.push("");
  }
  return out.join("\n");
}

await runBenchmark(main);
