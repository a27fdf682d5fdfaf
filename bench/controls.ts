/**
 * Negative and positive controls of the benchmarks' answer checks
 * (`deno task bench:controls`, about 2-3 minutes): every benchmark runs
 * briefly against bench/wrong_agent.ts (answers 7 whatever the address) and
 * must fail without writing any result, then against bench/agent.ts and must
 * pass and write its results. Results go to a temporary directory, never to
 * bench/results.
 *
 * - bench/loadgen.ts against each runtime's agent: exit 1 and `"ok": false`
 *   with the mismatches, no throughput; exit 0 against the right agent;
 * - bench/engine_bench.ts on each runtime: the same, in-process;
 * - bench/direct.ts, bench/chart.ts, bench/shapes.ts (Bun only) and
 *   bench/haproxy.ts (Node only, real HAProxy 3.2 and wrk): exit 1, nothing
 *   written; exit 0 and their files written with the right agent.
 *
 * Ends with `N passed, N failed` and exit code 1 if any control went the wrong way.
 *
 * Options: --runtimes deno,bun,node (for the loadgen and engine_bench controls)
 *
 * @module
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import {
  LoadgenFailed,
  log,
  ROOT,
  runCommand,
  runLoadgen,
  selectedRuntimes,
  startAgent,
  type Started,
} from "./_lib.ts";

const WRONG = "bench/wrong_agent.ts";
const RIGHT = "bench/agent.ts";
const PORT = 23495;
let passed = 0;
let failed = 0;

function verdict(ok: boolean, what: string, detail: string): void {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}\n     ${detail.split("\n").join("\n     ")}`);
}

/** Runs a command to its end (bounded); returns its exit code and output. */
function run(argv: string[], timeoutMs = 240_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (c: Uint8Array) => out += new TextDecoder().decode(c));
    child.stderr.on("data", (c: Uint8Array) => out += new TextDecoder().decode(c));
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out });
    });
  });
}

const lastLines = (text: string, n: number) => text.trim().split("\n").slice(-n).join("\n");

/** The failure line of a run's output and the `n` lines after it. */
function failure(text: string, n = 2): string {
  const lines = text.trim().split("\n");
  const at = lines.findIndex((l) => l.includes("FAILED"));
  return at < 0 ? lastLines(text, n + 1) : lines.slice(at, at + n + 1).join("\n");
}

async function loadgenControls(): Promise<void> {
  const shapes = [[], ["--messages", "4", "--args", "20", "--async"]];
  for (const runtime of selectedRuntimes()) {
    for (const file of [WRONG, RIGHT]) {
      let agent: Started | undefined;
      try {
        agent = await startAgent(runtime, PORT, 1, file);
        for (const shape of shapes) {
          const what = `loadgen (bun)${shape.map((a) => ` ${a}`).join("")} → ${file} on ${runtime}`;
          try {
            const result = await runLoadgen("bun", 0, [
              "--target",
              `127.0.0.1:${PORT}`,
              "--agent-pid",
              String(agent.pid),
              "--duration",
              "1",
              "--warmup",
              "0.5",
              ...shape,
            ]);
            verdict(
              file === RIGHT,
              `${what} passed`,
              `${Math.round(result.messagesPerSec)} msg/s, every ACK checked`,
            );
          } catch (error) {
            verdict(
              file === WRONG && error instanceof LoadgenFailed && error.result?.ok === false &&
                !("messagesPerSec" in error.result),
              `${what} failed`,
              failure((error as Error).message),
            );
          }
        }
      } finally {
        await agent?.stop();
      }
    }
  }
}

async function engineControls(): Promise<void> {
  for (const runtime of selectedRuntimes()) {
    for (const file of [WRONG, RIGHT]) {
      const { code, out } = await run([
        ...runCommand(runtime, "bench/engine_bench.ts"),
        "--agent",
        file,
        "--seconds",
        "0.3",
        "--rounds",
        "1",
      ]);
      const json = JSON.parse(out.trim().split("\n").pop() ?? "{}");
      const ok = file === WRONG
        ? code === 1 && json.ok === false && json.medianNs === undefined
        : code === 0 && json.ok === true;
      verdict(ok, `engine_bench on ${runtime} with ${file}: exit ${code}`, lastLines(out, 1));
    }
  }
}

/** A benchmark script with the wrong agent, then the right one, each into a fresh results dir. */
async function scriptControl(script: string, args: string[], files: string[]): Promise<void> {
  for (const file of [WRONG, RIGHT]) {
    const dir = mkdtempSync(`${tmpdir()}/spoa-controls-`);
    try {
      const { code, out } = await run([
        ...runCommand("deno", script),
        ...args,
        "--agent",
        file,
        "--results-dir",
        `${dir}/results`,
        "--quiet-wait",
        "2",
      ]);
      const written = existsSync(`${dir}/results`) ? readdirSync(`${dir}/results`).sort() : [];
      const what = `${script} with ${file}: exit ${code}, wrote [${written.join(", ")}]`;
      if (file === WRONG) {
        verdict(
          code === 1 && written.length === 0 && out.includes("BENCHMARK FAILED"),
          what,
          failure(out),
        );
      } else {
        const complete = files.every((f) => written.includes(f));
        verdict(code === 0 && complete, what, lastLines(out, 2));
        // A written result holds no failed run: the generator's passed results only.
        if (
          complete && readFileSync(`${dir}/results/${files[0]}`, "utf8").includes('"ok": false')
        ) {
          verdict(false, `${script} wrote a failed run`, "");
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  log("loadgen: the wrong agent must fail, the right one pass");
  await loadgenControls();
  log("engine_bench: the same, in-process");
  await engineControls();
  const short = ["--duration", "0.5", "--warmup", "0.2"];
  log("the benchmark scripts: nothing written with the wrong agent");
  await scriptControl(
    "bench/direct.ts",
    [...short, "--runtimes", "bun", "--reference", "none", "--loadgen", "bun"],
    ["direct.json", "direct.md"],
  );
  await scriptControl("bench/chart.ts", [...short, "--runtimes", "bun", "--loadgen", "bun"], [
    "depth.json",
    "depth.md",
    "chart.svg",
  ]);
  await scriptControl("bench/shapes.ts", [...short, "--runtimes", "bun"], [
    "shapes.json",
    "shapes.md",
  ]);
  await scriptControl(
    "bench/haproxy.ts",
    ["--duration", "1", "--warmup", "1", "--runtimes", "node", "--reference", "none"],
    ["haproxy.json", "haproxy.md"],
  );
  console.log(`\ncontrols took ${Math.round((Date.now() - started) / 1000)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

await main();
