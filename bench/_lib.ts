/**
 * Shared plumbing of the benchmark scripts: starting pinned processes,
 * reading /proc, running the load generator, machine facts, tables.
 * Linux only (taskset, /proc). Runs on Deno (the `deno task bench:*` entries)
 * and on Node 24.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolve as resolvePath } from "node:path";
import process from "node:process";

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** Where results go: bench/results, or `--results-dir DIR` (for trial runs). */
export const RESULTS = resolvePath(argOf("--results-dir", `${ROOT}/bench/results`));
const BIN = `${ROOT}/node_modules/.bin`;

/** The runtimes the agent is measured on. */
export const RUNTIMES = ["deno", "bun", "node"] as const;
export type Runtime = typeof RUNTIMES[number];

/** The command that runs a TypeScript file on a runtime. */
export function runCommand(runtime: Runtime, file: string): string[] {
  switch (runtime) {
    case "deno":
      return [`${BIN}/deno`, "run", "-A", "--no-check", file];
    case "bun":
      return [`${BIN}/bun`, file];
    case "node":
      return [`${BIN}/node`, "--no-warnings", file];
  }
}

/** Reads an option `--name value` from argv. */
export function argOf(name: string, fallback: string): string {
  const argv = process.argv;
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

/** The runtimes to measure, from `--runtimes deno,bun,node`. */
export function selectedRuntimes(): Runtime[] {
  const list = argOf("--runtimes", RUNTIMES.join(",")).split(",").filter(Boolean);
  for (const r of list) {
    if (!(RUNTIMES as readonly string[]).includes(r)) throw new Error(`unknown runtime ${r}`);
  }
  return list as Runtime[];
}

/** The agent file to measure, from `--agent FILE` (default bench/agent.ts, the library's agent). */
export function agentFile(): string {
  return argOf("--agent", "bench/agent.ts");
}

/** How a table names an agent: its runtime, and the file when it is not bench/agent.ts. */
export function agentLabel(runtime: string, file: string): string {
  if (file === "bench/agent.ts") return runtime;
  if (file === "bench/minimal_agent.ts") return `reference (minimal_agent.ts on ${runtime})`;
  return `${runtime} (${file})`;
}

/**
 * Runs a benchmark's main function. Any failure (a load generator run with a
 * wrong ACK, a wrong HTTP answer, a crash) ends the benchmark with a loud
 * message and exit code 1, before anything is written to the results.
 */
export async function runBenchmark(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    console.error(`\nBENCHMARK FAILED, no results written:\n${text}`);
    process.exit(1);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A started background process. */
export interface Started {
  readonly pid: number;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a command pinned to one core; `ready` decides from its output when it is up.
 * Bounded: fails after `timeoutMs`.
 */
export function startPinned(
  core: number,
  argv: string[],
  ready: (output: string) => boolean,
  timeoutMs = 15000,
): Promise<Started> {
  const child = spawn("taskset", ["-c", String(core), ...argv], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    })
  );
  const started: Started = {
    pid: child.pid!,
    child,
    output: () => output,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const killed = await Promise.race([
        exitedPromise.then(() => true),
        sleep(3000).then(() => false),
      ]);
      if (!killed) {
        child.kill("SIGKILL");
        await exitedPromise;
      }
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      started.stop();
      reject(new Error(`${argv.join(" ")} not ready after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      if (ready(output)) {
        clearTimeout(timer);
        resolve(started);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(" ")} exited with ${code}:\n${output}`));
    });
    if (ready("")) {
      clearTimeout(timer);
      resolve(started);
    }
  });
}

/**
 * Starts the benchmark agent on a runtime, pinned to `core`; resolves once it
 * listens. `file` may name bench/minimal_agent.ts, the hand-written reference.
 */
export async function startAgent(
  runtime: Runtime,
  port: number,
  core: number,
  file = "bench/agent.ts",
): Promise<Started> {
  const agent = await startPinned(
    core,
    [...runCommand(runtime, file), `127.0.0.1:${port}`],
    (out) => out.includes('"ready":true'),
  );
  const line = agent.output().split("\n").find((l) => l.includes('"ready":true'))!;
  const pid = JSON.parse(line).pid as number;
  if (pid !== agent.pid) throw new Error(`agent pid ${pid} is not the spawned pid ${agent.pid}`);
  return agent;
}

/** The per-point result of a bench/loadgen.ts --json run that passed (every ACK checked out). */
export interface LoadResult {
  ok: true;
  connections: number;
  pipeline: number;
  rate: number;
  payload: number;
  messagesPerFrame: number;
  args: number;
  async: boolean;
  runtime: string;
  frames: number;
  messages: number;
  messagesPerSec: number;
  latencyUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  rateBacklogMax: number;
  errors: Record<string, number> & { total: 0 };
  cpu: { cores: number; usPerMessage: number };
  agent?: { cpuMs: number; cores: number; usPerMessage: number; rssKb: number; hwmKb: number };
  coreBusy?: number[];
}

/** A load generator run that failed: wrong ACKs, errors, or no JSON result at all. */
export class LoadgenFailed extends Error {
  /** The generator's failed result (`"ok": false`), if it printed one. */
  readonly result: Record<string, unknown> | undefined;

  constructor(message: string, result?: Record<string, unknown>) {
    super(message);
    this.name = "LoadgenFailed";
    this.result = result;
  }
}

/**
 * Runs the load generator pinned to `core` and returns its JSON result
 * (bounded). Rejects with {@linkcode LoadgenFailed} when the run failed (any
 * wrong ACK or other error, a non-zero exit, no result): a failed run has no
 * figures, and the benchmark scripts stop on it without writing results.
 */
export function runLoadgen(
  runtime: Runtime,
  core: number,
  args: string[],
): Promise<LoadResult> {
  const argv = ["-c", String(core), ...runCommand(runtime, "bench/loadgen.ts"), ...args, "--json"];
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.stdout.on("data", (c: Uint8Array) => out += new TextDecoder().decode(c));
    child.stderr.on("data", (c: Uint8Array) => err += new TextDecoder().decode(c));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      let result: Record<string, unknown> | undefined;
      try {
        result = JSON.parse(line);
      } catch {
        // Reported below.
      }
      const what = `load generator (${args.join(" ")})`;
      if (result?.ok === true && code === 0) return resolve(result as unknown as LoadResult);
      if (result?.ok === false) {
        const errors = result.errors as Record<string, number>;
        const counts = Object.entries(errors).filter(([k, n]) => k !== "total" && n > 0).map((
          [k, n],
        ) => `${k} ${n}`);
        const first = (result.firstErrors as string[] ?? []).map((e) => `\n  ${e}`).join("");
        return reject(
          new LoadgenFailed(
            `${what} FAILED: ${result.reason} (${counts.join(", ")})${first}`,
            result,
          ),
        );
      }
      reject(
        new LoadgenFailed(
          `${what} FAILED: exit ${code ?? signal}, no result${out ? `\n${out}` : ""}${
            err ? `\n${err}` : ""
          }`,
          result,
        ),
      );
    });
  });
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0). */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** VmRSS and VmHWM in KiB. */
export function memoryOf(pid: number): { rssKb: number; hwmKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1]);
  return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") };
}

/** utime + stime of a process (all threads), in clock ticks. */
export function cpuTicksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

export const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/** Busy fraction of each core over `ms` milliseconds. */
export async function coreLoad(ms: number): Promise<number[]> {
  const read = () =>
    readFileSync("/proc/stat", "utf8").split("\n").filter((l) => /^cpu\d/.test(l)).map((l) => {
      const v = l.split(/\s+/).slice(1).map(Number);
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
      return { busy: total - v[3] - v[4], total };
    });
  const a = read();
  await sleep(ms);
  const b = read();
  return b.map((c, i) => (c.busy - a[i].busy) / Math.max(1, c.total - a[i].total));
}

/**
 * Waits (bounded, `--quiet-wait` seconds, default 20) until both cores are
 * mostly idle, so that other work on the machine does not land in a
 * measurement. Returns the load seen last.
 */
export async function waitQuiet(
  maxMs = Number(argOf("--quiet-wait", "20")) * 1000,
  threshold = 0.15,
): Promise<number[]> {
  const until = Date.now() + maxMs;
  let load = await coreLoad(500);
  while (load.some((l) => l > threshold) && Date.now() < until) load = await coreLoad(1000);
  if (load.some((l) => l > threshold)) {
    log(`  (machine busy: core load ${load.map((l) => `${Math.round(l * 100)}%`).join(" ")})`);
  }
  return load;
}

function versionOf(argv: string[]): string {
  try {
    return execFileSync(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] })
      .toString().split("\n")[0].trim();
  } catch {
    return "unavailable";
  }
}

/** Machine and tool facts for the report. */
export function machine(): Record<string, string | number> {
  return {
    nproc: Number(execFileSync("nproc").toString().trim()),
    cpu: cpus()[0]?.model ?? "unknown",
    kernel: execFileSync("uname", ["-r"]).toString().trim(),
    deno: versionOf([`${BIN}/deno`, "--version"]),
    bun: versionOf([`${BIN}/bun`, "--version"]),
    node: versionOf([`${BIN}/node`, "--version"]),
  };
}

/**
 * Writes a results file under bench/results/; Markdown, JSON and SVG go
 * through `deno fmt`, which CI checks.
 */
export function saveResult(name: string, data: unknown): string {
  if (!existsSync(RESULTS)) mkdirSync(RESULTS, { recursive: true });
  const path = `${RESULTS}/${name}`;
  writeFileSync(path, typeof data === "string" ? data : JSON.stringify(data, null, 2) + "\n");
  if (/\.(md|json|svg)$/.test(name)) {
    try {
      execFileSync(`${BIN}/deno`, ["fmt", "-q", path], { cwd: ROOT, stdio: "ignore" });
    } catch {
      // Formatting is cosmetic.
    }
  }
  return path;
}

export function log(text: string): void {
  console.error(text);
}

/** A Markdown table. */
export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export const fmt = {
  k: (n: number) => `${(n / 1000).toFixed(1)}k`,
  ms: (us: number) => (us / 1000).toFixed(2),
  us: (n: number) => n.toFixed(2),
  mib: (kb: number) => (kb / 1024).toFixed(1),
  pct: (f: number) => `${Math.round(f * 100)}%`,
};
