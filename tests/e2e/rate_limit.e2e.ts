// The rate-limit example (examples/rate_limit.ts) behind real HAProxy, with a real redis-server
// (scripts/install_redis.sh) that the test starts on a free port. Per HAProxy version, two agent
// processes on different runtimes sit behind one backend, in the configuration the example
// writes with --print-config for both addresses:
//   - a burst of 2N requests of one key and N of another: exactly N of the first allowed, each
//     `remaining` value once (one counter, not one per agent), every request of the second key
//     allowed; Redis's MONITOR shows both agents counting the first key;
//   - Redis paused (SIGSTOP), then killed and started again, under load: every request answered
//     within `timeout processing` (no set-on-error), the degraded ones in the failure mode
//     (fail-open on 3.2, --fail-closed on 2.6) with `degraded`, then counted again;
//   - the window ends: the first key is allowed again.
// 3.2 runs Deno and Node agents, 2.6 Bun and Node (other runtimes fill in when
// SPOA_E2E_RUNTIMES leaves one out). Run: node_modules/.bin/node --test tests/e2e/rate_limit.e2e.ts
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { type MonitoredCommand, RedisServer } from "../_redis_server.ts";
import { Agent, agentCommand } from "./_agents.ts";
import { missingFor, type Runtime, RUNTIMES, type Version, VERSIONS } from "./_env.ts";
import { checkConfig, startHaproxy } from "./_haproxy.ts";
import { freePorts, parseKv, request } from "./_net.ts";
import { type Proc, sleep, waitFor } from "./_proc.ts";
import { suite } from "./_generated.ts";

/** Requests allowed per key and window. */
const LIMIT = 10;
/** The window, s: long enough for the burst, short enough to wait for. */
const WINDOW_S = 2;
/** The agents' Redis deadline (ms) and HAProxy's `timeout processing` that follows from it. */
const REDIS_TIMEOUT = 250;
const TIMEOUT_PROCESSING = 600;

interface Setup {
  version: Version;
  runtimes: [Runtime, Runtime];
  failClosed: boolean;
}

/** Two runtimes, the preferred ones where selected. */
function pickRuntimes(preferred: Runtime[]): [Runtime, Runtime] {
  const chosen = preferred.filter((r) => RUNTIMES.includes(r));
  for (const r of RUNTIMES) if (chosen.length < 2 && !chosen.includes(r)) chosen.push(r);
  return [chosen[0], chosen[1] ?? chosen[0]];
}

const SETUPS: Setup[] = [
  { version: "3.2" as const, runtimes: pickRuntimes(["deno", "node"]), failClosed: false },
  { version: "2.6" as const, runtimes: pickRuntimes(["bun", "node"]), failClosed: true },
].filter((s) => VERSIONS.includes(s.version) && RUNTIMES.length > 0);

/** What the trial frontend answers: the agent's variables. */
interface Answer {
  key: string;
  status: number;
  allowed: string;
  remaining: string;
  degraded: string;
  error: string;
  /** When it was sent (ms since the epoch) and how long it took. */
  at: number;
  ms: number;
}

async function ask(port: number, key: string): Promise<Answer> {
  const at = Date.now();
  const r = await request({ port, path: "/", headers: { "x-api-key": key }, timeoutMs: 5_000 });
  const kv = parseKv(r.body);
  return {
    key,
    status: r.status,
    allowed: kv["txn.ratelimit.allowed"],
    remaining: kv["txn.ratelimit.remaining"],
    degraded: kv["txn.ratelimit.degraded"],
    error: kv["txn.ratelimit.error"],
    at,
    ms: r.ms,
  };
}

/** Requests of `key`, one after another (20 ms apart), while `during` runs, then until Redis
 * has answered 6 in a row again (at most 10 s). */
async function underLoad(port: number, key: string, during: () => Promise<void>) {
  const answers: Answer[] = [];
  let stop = false;
  const loop = (async () => {
    const deadline = Date.now() + 30_000; // a bound, whatever happens
    while (!stop && Date.now() < deadline) {
      answers.push(await ask(port, key));
      await sleep(20);
    }
  })();
  try {
    await sleep(200);
    await during();
    await waitFor("6 answers in a row from Redis", 10_000, () => {
      const last = answers.slice(-6);
      return last.length === 6 && last.every((a) => a.degraded === "");
    });
  } finally {
    stop = true;
    await loop;
  }
  return answers;
}

/** Every request answered by an agent in time, the degraded ones in the failure mode. */
function checkOutage(answers: Answer[], failClosed: boolean, what: string): Answer[] {
  for (const a of answers) {
    assert.equal(a.status, 200, `${what}: ${JSON.stringify(a)}`);
    assert.equal(a.error, "", `${what}: HAProxy got no answer in time: ${JSON.stringify(a)}`);
    assert.ok(a.ms < TIMEOUT_PROCESSING, `${what}: ${a.ms} ms: ${JSON.stringify(a)}`);
  }
  const degraded = answers.filter((a) => a.degraded === "1");
  assert.ok(degraded.length >= 3, `${what}: ${degraded.length} degraded answers`);
  for (const a of degraded) {
    assert.deepEqual(
      [a.allowed, a.remaining],
      [failClosed ? "0" : "1", ""],
      `${what}: degraded answer ${JSON.stringify(a)}`,
    );
  }
  const counted = answers.filter((a) => a.degraded === "");
  for (const a of counted) assert.match(a.remaining, /^\d+$/, `${what}: ${JSON.stringify(a)}`);
  assert.ok(counted[0].at < degraded[0].at, `${what}: counted before the outage`);
  return degraded;
}

/** For the test's output: how many answers, how many degraded, and how long they took. */
function summary(answers: Answer[], degraded: Answer[]): string {
  const ms = degraded.map((a) => a.ms);
  return `${answers.length} requests, ${degraded.length} answered without Redis in ` +
    `${Math.min(...ms)}-${Math.max(...ms)} ms (the slowest of all: ` +
    `${Math.max(...answers.map((a) => a.ms))} ms)`;
}

/** The Redis clients (one per agent process) that ran a command on the counter of `key`. */
function countingClients(commands: MonitoredCommand[], key: string): Set<string> {
  const counter = `rate-limit:fixed:${key}`;
  return new Set(
    commands.filter((c) => c.client !== "lua" && c.args.includes(counter)).map((c) => c.client),
  );
}

/** Runs the example to write haproxy.cfg and the SPOE file for both agents. */
function printConfig(runtime: Runtime, args: string[]): Promise<void> {
  const [cmd, ...rest] = agentCommand(runtime, "rate_limit", args[0], args.slice(1));
  return new Promise((resolve, reject) => {
    execFile(cmd, rest, { timeout: 30_000 }, (error, out, err) => {
      if (error || err.trim()) {
        reject(new Error(`${cmd} ${rest.join(" ")}: ${error}\n${out}${err}`));
      } else resolve();
    });
  });
}

for (const { version, runtimes, failClosed } of SETUPS) {
  const missing = [...new Set(runtimes)].map((r) => missingFor(version, r)).find(Boolean);
  const mode = failClosed ? "--fail-closed" : "fail-open";
  const name = `rate_limit, HAProxy ${version}: ${runtimes.join(" and ")} agents, Redis, ${mode}`;
  suite(name, missing, () => {
    const dir = mkdtempSync(join(tmpdir(), "spoa-e2e-rate-limit-"));
    let redis: RedisServer | undefined;
    let agents: Agent[] = [];
    let haproxy: Proc | undefined;
    let port = 0;
    const logs = () =>
      [...agents.map((a) => a.logs()), `--- haproxy\n${haproxy?.tail(30) ?? "(not started)"}`]
        .join("\n");
    /** Runs a case; on failure, the logs of every process come with the error. */
    const withLogs = <C>(body: (context: C) => Promise<void>) => async (context: C) => {
      try {
        await body(context);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${logs()}`);
      }
    };

    before(withLogs(async () => {
      redis = await RedisServer.start();
      const [frontend, p1, p2] = await freePorts(3);
      port = frontend;
      const addresses = [`127.0.0.1:${p1}`, `127.0.0.1:${p2}`];
      const flags = [
        "--redis",
        redis.url,
        "--limit",
        String(LIMIT),
        "--window",
        String(WINDOW_S),
        "--redis-timeout",
        String(REDIS_TIMEOUT),
        "--key",
        "req.hdr(x-api-key)",
        ...(failClosed ? ["--fail-closed"] : []),
      ];
      await printConfig(runtimes[0], [
        ...addresses,
        ...flags,
        ...["--print-config", dir, "--haproxy", version, "--frontend", String(port)],
      ]);
      await checkConfig(version, join(dir, "haproxy.cfg"));
      assert.match(
        readFileSync(join(dir, "ratelimit-spoe.conf"), "utf8"),
        new RegExp(`^ {4}timeout processing ${TIMEOUT_PROCESSING}ms$`, "m"),
      );
      agents = runtimes.map((r, i) =>
        new Agent(`agent${i + 1}`, r, "rate_limit", addresses[i], flags)
      );
      await Promise.all(agents.map((a) => a.start()));
      haproxy = await startHaproxy(version, join(dir, "haproxy.cfg"), port);
      // Until both agents have counted in Redis (their connections are up, HAProxy uses both).
      const monitor = await redis.monitor();
      try {
        await waitFor("both agents to count in Redis", 15_000, async () => {
          const answer = await ask(port, "warm-up");
          return answer.degraded === "" && answer.error === "" &&
            countingClients(monitor.commands, "warm-up").size === 2;
        });
      } finally {
        monitor.stop();
      }
    }));

    after(async () => {
      await haproxy?.stop();
      await Promise.all(agents.map((a) => a.stop()));
      await redis?.stop();
      if (process.env.SPOA_E2E_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
    });

    let burstStarted = 0;
    test(
      `exactly ${LIMIT} requests of a key per window, counted by both agents; other keys apart`,
      withLogs(async (t: TestContext) => {
        const monitor = await redis!.monitor();
        burstStarted = Date.now();
        const keys = Array.from({ length: 3 * LIMIT }, (_, i) => i % 3 === 2 ? "k2" : "k1");
        const answers = await Promise.all(keys.map((key) => ask(port, key)));
        const took = Date.now() - burstStarted;
        // MONITOR's stream can trail the answers by a moment: let it catch up (bounded).
        for (let waited = 0; waited < 2000; waited += 20) {
          if (countingClients(monitor.commands, "k1").size >= 2) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        monitor.stop();
        t.diagnostic(`${answers.length} requests at once, answered in ${took} ms`);
        assert.ok(
          took < WINDOW_S * 1000 - 300,
          `the burst took ${took} ms: too long for one window`,
        );
        for (const a of answers) {
          assert.deepEqual([a.status, a.error, a.degraded], [200, "", ""], JSON.stringify(a));
        }
        const range = Array.from({ length: LIMIT }, (_, i) => String(i));
        const k1 = answers.filter((a) => a.key === "k1");
        const allowed = k1.filter((a) => a.allowed === "1");
        assert.equal(allowed.length, LIMIT, "allowed requests of k1");
        assert.deepEqual(allowed.map((a) => a.remaining).sort((a, b) => +a - +b), range);
        for (const a of k1.filter((a) => a.allowed !== "1")) {
          assert.deepEqual([a.allowed, a.remaining], ["0", "0"], JSON.stringify(a));
        }
        const k2 = answers.filter((a) => a.key === "k2");
        assert.ok(k2.every((a) => a.allowed === "1"), "every request of k2 is allowed");
        assert.deepEqual(k2.map((a) => a.remaining).sort((a, b) => +a - +b), range);
        // Both agent processes counted k1 (one Redis connection each).
        const counting = countingClients(monitor.commands, "k1");
        assert.equal(counting.size, 2, `clients that counted k1: ${[...counting].join(", ")}`);
      }),
    );

    test(
      "Redis paused under load: answered by the deadline, then at once, then counted again",
      withLogs(async (t: TestContext) => {
        const answers = await underLoad(port, "k3", async () => {
          redis!.pause();
          await sleep(1_000);
          redis!.resume();
        });
        const degraded = checkOutage(answers, failClosed, "paused");
        t.diagnostic(summary(answers, degraded));
        // The first answers of the outage waited for the deadline; none waited much longer.
        assert.ok(
          degraded.some((a) => a.ms >= REDIS_TIMEOUT - 20),
          `no answer waited for the deadline: ${degraded.map((a) => a.ms).join(", ")} ms`,
        );
      }),
    );

    test(
      "the window ends: the first key is allowed again",
      withLogs(async () => {
        await sleep(Math.max(0, burstStarted + WINDOW_S * 1000 + 100 - Date.now()));
        const a = await ask(port, "k1");
        assert.deepEqual(
          [a.allowed, a.remaining, a.degraded, a.error],
          ["1", String(LIMIT - 1), "", ""],
          JSON.stringify(a),
        );
      }),
    );

    test(
      "Redis killed and started again under load: answered at once, then counted again",
      withLogs(async (t: TestContext) => {
        const answers = await underLoad(port, "k4", async () => {
          await redis!.kill();
          await sleep(800);
          await redis!.restart(); // empty: the windows start again
        });
        const degraded = checkOutage(answers, failClosed, "killed");
        t.diagnostic(summary(answers, degraded));
        assert.ok(
          degraded.every((a) => a.ms < REDIS_TIMEOUT),
          `answers without Redis took ${degraded.map((a) => a.ms).join(", ")} ms`,
        );
        const lines = agents.map((a) => a.proc!.output()).join("\n");
        assert.match(lines, /Redis unavailable \(timeout: no answer within 250 ms\)/);
        assert.match(lines, /Redis unavailable \(offline: /);
        assert.match(lines, /Redis answers again/);
        for (const agent of agents) {
          const problems = agent.proc!.flaggedSince().filter((l) =>
            !l.includes("rate_limit: Redis unavailable")
          );
          assert.deepEqual(problems, [], `${agent.name} logged a problem`);
        }
        assert.deepEqual(haproxy!.flaggedSince(), [], "HAProxy logged a problem");
      }),
    );
  });
}
