/**
 * Through-HAProxy benchmark (`deno task bench:haproxy`): wrk → HAProxy 3.2
 * (nbthread 1) → SPOE → bench/agent.ts, for Deno, Bun and Node. HAProxy and
 * wrk share core 0, the agent has core 1. One HAProxy per runtime with two
 * frontends: `fe_plain` (no filter) and `fe_spoe` (SPOE filter sending
 * `get-ip-reputation ip=req.hdr_ip(x-real-ip)`); both are measured back to
 * back in the same run, and both answer `ip=<X-Real-IP> score=<sess.bench.ip_score>`.
 *
 * Every answer is checked: wrk's Lua script (bench/_wrk_check.lua) sends a new
 * client address in X-Real-IP with every request and checks every response
 * body: through the SPOE filter the score must be the last byte of the address
 * the same body echoes, so a constant or stale answer cannot pass. A request
 * whose SPOE exchange failed gets a 503 (`set-on-error`). Any mismatch, non-2xx
 * answer or socket error fails the benchmark (exit 1, nothing written).
 *
 * Options: --runtimes deno,bun,node  --duration 5  --warmup 2  --connections 32
 *          --haproxy .cache/haproxy/bin/haproxy-3.2
 *          --out haproxy (name of the results files) --reference bun|none
 *          --agent bench/agent.ts (the agent file measured; bench/wrong_agent.ts must fail)
 *          --results-dir bench/results
 * Needs wrk (`apt-get install -y wrk`) and HAProxy 3.2 (`bash scripts/install_haproxy.sh 3.2`).
 * Writes bench/results/haproxy.json and bench/results/haproxy.md.
 *
 * @module
 */

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import {
  agentFile,
  agentLabel,
  argOf,
  CLOCK_TICKS,
  cpuTicksOf,
  fmt,
  log,
  machine,
  memoryOf,
  ROOT,
  runBenchmark,
  type Runtime,
  saveResult,
  selectedRuntimes,
  sleep,
  startAgent,
  startPinned,
  table,
  waitQuiet,
} from "./_lib.ts";

const HAPROXY_CORE = 0;
const AGENT_CORE = 1;
const haproxyBin = argOf("--haproxy", `${ROOT}/.cache/haproxy/bin/haproxy-3.2`);
const duration = Number(argOf("--duration", "5"));
const warmup = Number(argOf("--warmup", "2"));
const wrkConnections = Number(argOf("--connections", "32"));
const basePort = Number(argOf("--port", "23471"));
const P_PLAIN = basePort;
const P_SPOE = basePort + 1;
const P_AGENT = basePort + 2;
const runtimes = selectedRuntimes();
/** Extra lines for the SPOP backend, e.g. "http-reuse always" (semicolon-separated). */
const backendExtra = argOf("--backend-extra", "").split(";").map((l) => l.trim()).filter(Boolean);

function haproxyConfig(dir: string): string {
  const spoe = `${dir}/spoe.conf`;
  writeFileSync(
    spoe,
    `[bench]
spoe-agent bench
    messages get-ip-reputation
    option var-prefix bench
    option set-on-error err
    timeout processing 1s
    use-backend spoe-agents

spoe-message get-ip-reputation
    args ip=req.hdr_ip(x-real-ip)
    event on-frontend-http-request
`,
  );
  const cfg = `${dir}/haproxy.cfg`;
  writeFileSync(
    cfg,
    `global
    nbthread 1
    maxconn 4000

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s

frontend fe_plain
    bind 127.0.0.1:${P_PLAIN}
    http-request return status 200 content-type text/plain lf-string "ip=%[req.hdr(x-real-ip)] score=%[var(sess.bench.ip_score)]\\n"

frontend fe_spoe
    bind 127.0.0.1:${P_SPOE}
    filter spoe engine bench config ${spoe}
    http-request return status 503 content-type text/plain lf-string "spoe error %[var(txn.bench.err)]\\n" if { var(txn.bench.err) -m found }
    http-request return status 200 content-type text/plain lf-string "ip=%[req.hdr(x-real-ip)] score=%[var(sess.bench.ip_score)]\\n"

backend spoe-agents
    mode spop
    option spop-check
    timeout connect 1s
    timeout server 30s
    server agent 127.0.0.1:${P_AGENT} check inter 2s
${backendExtra.map((line) => `    ${line}\n`).join("")}`,
  );
  return cfg;
}

interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: string;
  /** Responses whose body the Lua script checked, and how many were wrong. */
  checked: number;
  mismatches: number;
  firstMismatch: string;
}

const WRK_SCRIPT = `${ROOT}/bench/_wrk_check.lua`;

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "ms" ? v : m[2] === "s" ? v * 1000 : v * 60000;
}

/**
 * Runs wrk pinned to the HAProxy core (bounded by its own -d plus a margin),
 * with the Lua script that varies X-Real-IP and checks every body: `spoe`
 * expects the score of the address, `plain` an empty score.
 */
function wrk(port: number, seconds: number, mode: "plain" | "spoe"): Promise<WrkResult> {
  const args = [
    "-c",
    String(HAPROXY_CORE),
    "wrk",
    "-t1",
    `-c${wrkConnections}`,
    `-d${seconds}s`,
    "--latency",
    "-s",
    WRK_SCRIPT,
    `http://127.0.0.1:${port}/`,
    "--",
    mode,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 30) * 1000);
    child.stdout.on("data", (c: Uint8Array) => out += new TextDecoder().decode(c));
    child.stderr.on("data", (c: Uint8Array) => out += new TextDecoder().decode(c));
    child.once("exit", (code) => {
      clearTimeout(timer);
      const requests = /(\d+) requests in ([\d.]+)(\w+)/.exec(out);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const check = /^checked (\d+) mismatches (\d+)$/m.exec(out);
      if (code !== 0 || !requests || !rps || !check) {
        return reject(new Error(`wrk failed:\n${out}`));
      }
      resolve({
        requests: Number(requests[1]),
        seconds: toMs(`${requests[2]}${requests[3]}`) / 1000,
        requestsPerSec: Number(rps[1]),
        p50Ms: toMs(/ 50%\s+(\S+)/.exec(out)?.[1] ?? ""),
        p99Ms: toMs(/ 99%\s+(\S+)/.exec(out)?.[1] ?? ""),
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
        socketErrors: /Socket errors: (.*)/.exec(out)?.[1] ?? "",
        checked: Number(check[1]),
        mismatches: Number(check[2]),
        firstMismatch: /^first mismatch: (.*)$/m.exec(out)?.[1] ?? "",
      });
    });
  });
}

/**
 * Fails unless a wrk run saw only right answers: every body checked and
 * right, no non-2xx answer, no socket error.
 */
function assertRight(what: string, r: WrkResult): void {
  const problems: string[] = [];
  if (r.mismatches > 0) {
    problems.push(`${r.mismatches} of ${r.checked} bodies wrong (first: ${r.firstMismatch})`);
  }
  if (r.checked === 0) problems.push("no body checked");
  if (r.checked !== r.requests) {
    problems.push(`${r.checked} bodies checked of ${r.requests} requests`);
  }
  if (r.non2xx > 0) problems.push(`${r.non2xx} non-2xx answers`);
  if (r.socketErrors) problems.push(`socket errors: ${r.socketErrors}`);
  if (problems.length > 0) throw new Error(`wrk ${what} FAILED: ${problems.join("; ")}`);
}

async function httpGet(
  port: number,
  ip: string,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { "X-Real-IP": ip },
      signal: AbortSignal.timeout(2000),
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

/** Established TCP connections from HAProxy to the agent's port (/proc/net/tcp). */
function spopConnections(): number {
  const port = P_AGENT.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8").split("\n").filter((line) => {
    const f = line.trim().split(/\s+/);
    return f[2]?.endsWith(`:${port}`) && f[3] === "01";
  }).length;
}

interface RuntimeResult {
  runtime: string;
  plain: WrkResult;
  spoe: WrkResult;
  haproxyUsPerRequestPlain: number;
  haproxyUsPerRequestSpoe: number;
  spopConnections: number;
  agentCpuMs: number;
  agentUsPerRequest: number;
  agentCores: number;
  agentPeakRssKb: number;
  check: string;
}

async function runOne(runtime: Runtime, cfg: string, file: string): Promise<RuntimeResult> {
  const agent = await startAgent(runtime, P_AGENT, AGENT_CORE, file);
  const haproxy = await startPinned(
    HAPROXY_CORE,
    [haproxyBin, "-db", "-f", cfg],
    () => true,
    5000,
  );
  try {
    // Wait (bounded) until a request through the SPOE filter carries an answer of
    // the agent; whether the answers are right is wrk's script's job, on every request.
    const answered = /^ip=10\.1\.2\.3 score=\d+$/;
    let check: { status: number; body: string } | undefined;
    for (let i = 0; i < 50; i++) {
      check = await httpGet(P_SPOE, "10.1.2.3");
      if (check?.status === 200 && answered.test(check.body.trim())) break;
      await sleep(100);
    }
    if (check?.status !== 200 || !answered.test(check.body.trim())) {
      throw new Error(`fe_spoe answered ${JSON.stringify(check)}\n${haproxy.output()}`);
    }
    const usPer = (ticks: number, requests: number) => ticks * 1e6 / CLOCK_TICKS / requests;
    assertRight("no SPOE warmup", await wrk(P_PLAIN, warmup, "plain"));
    const h0 = cpuTicksOf(haproxy.pid);
    const plain = await wrk(P_PLAIN, duration, "plain");
    const h1 = cpuTicksOf(haproxy.pid);
    assertRight("no SPOE", plain);
    assertRight("SPOE warmup", await wrk(P_SPOE, warmup, "spoe"));
    writeFileSync(`/proc/${agent.pid}/clear_refs`, "5");
    const ticks0 = cpuTicksOf(agent.pid);
    const h2 = cpuTicksOf(haproxy.pid);
    const spoe = await wrk(P_SPOE, duration, "spoe");
    const ticks1 = cpuTicksOf(agent.pid);
    const h3 = cpuTicksOf(haproxy.pid);
    assertRight("SPOE", spoe);
    const connections = spopConnections();
    const agentCpuMs = (ticks1 - ticks0) * 1000 / CLOCK_TICKS;
    return {
      runtime: agentLabel(runtime, file),
      plain,
      spoe,
      haproxyUsPerRequestPlain: usPer(h1 - h0, plain.requests),
      haproxyUsPerRequestSpoe: usPer(h3 - h2, spoe.requests),
      spopConnections: connections,
      agentCpuMs,
      agentUsPerRequest: agentCpuMs * 1000 / spoe.requests,
      agentCores: agentCpuMs / (spoe.seconds * 1000),
      agentPeakRssKb: memoryOf(agent.pid).hwmKb,
      check: check.body.trim(),
    };
  } finally {
    await haproxy.stop();
    await agent.stop();
  }
}

async function main(): Promise<void> {
  if (!existsSync(haproxyBin)) {
    throw new Error(`${haproxyBin} missing: run 'bash scripts/install_haproxy.sh 3.2' (as root)`);
  }
  const haproxyVersion = execFileSync(haproxyBin, ["-v"]).toString().split("\n")[0];
  const wrkVersion = (() => {
    try {
      return execFileSync("wrk", ["-v"], { stdio: ["ignore", "pipe", "pipe"] }).toString().split(
        "\n",
      )[0];
    } catch (error) {
      const out = String((error as { stdout?: unknown }).stdout ?? "");
      if (out.includes("wrk")) return out.split("\n")[0];
      throw new Error("wrk missing: apt-get install -y wrk");
    }
  })();
  const info = { ...machine(), haproxy: haproxyVersion, wrk: wrkVersion.trim() };
  log(`machine: ${JSON.stringify(info)}`);
  const dir = mkdtempSync(`${tmpdir()}/spoa-bench-`);
  const results: RuntimeResult[] = [];
  try {
    const cfg = haproxyConfig(dir);
    execFileSync(haproxyBin, ["-c", "-q", "-f", cfg]);
    const file = agentFile();
    const runs = runtimes.map((runtime) => ({ runtime, file }));
    // The hand-written reference agent shows what HAProxy allows with a near-zero-cost agent.
    const reference = argOf("--reference", "bun");
    if (reference !== "none") {
      runs.push({ runtime: reference as Runtime, file: "bench/minimal_agent.ts" });
    }
    for (const { runtime, file } of runs) {
      await waitQuiet();
      log(`agent: ${agentLabel(runtime, file)}`);
      const r = await runOne(runtime, cfg, file);
      results.push(r);
      log(
        `  no SPOE ${fmt.k(r.plain.requestsPerSec)} req/s p99 ${r.plain.p99Ms} ms | SPOE ${
          fmt.k(r.spoe.requestsPerSec)
        } req/s p99 ${r.spoe.p99Ms} ms (${
          (r.spoe.requestsPerSec / r.plain.requestsPerSec).toFixed(2)
        }×) ` +
          `${r.spoe.checked} bodies checked | agent ${fmt.us(r.agentUsPerRequest)} µs/req, ${
            fmt.pct(r.agentCores)
          } of a core | HAProxy ${fmt.us(r.haproxyUsPerRequestPlain)} → ${
            fmt.us(r.haproxyUsPerRequestSpoe)
          } µs/req, ${r.spopConnections} SPOP connections`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const data = {
    date: new Date().toISOString(),
    machine: info,
    duration,
    warmup,
    wrkConnections,
    results,
  };
  const out = argOf("--out", "haproxy");
  saveResult(`${out}.json`, data);
  const md = table(
    [
      "agent runtime",
      "no SPOE req/s",
      "no SPOE p99 ms",
      "SPOE req/s",
      "SPOE p99 ms",
      "SPOE / no SPOE",
      "agent µs/req",
      "agent CPU",
      "HAProxy µs/req no SPOE → SPOE",
      "SPOP conns",
      "bodies checked (SPOE)",
    ],
    results.map((r) => [
      r.runtime,
      fmt.k(r.plain.requestsPerSec),
      r.plain.p99Ms.toFixed(2),
      fmt.k(r.spoe.requestsPerSec),
      r.spoe.p99Ms.toFixed(2),
      (r.spoe.requestsPerSec / r.plain.requestsPerSec).toFixed(2),
      fmt.us(r.agentUsPerRequest),
      fmt.pct(r.agentCores),
      `${fmt.us(r.haproxyUsPerRequestPlain)} → ${fmt.us(r.haproxyUsPerRequestSpoe)}`,
      r.spopConnections,
      r.spoe.checked,
    ]),
  );
  saveResult(`${out}.md`, md + "\n");
  console.log(md);
}

await runBenchmark(main);
