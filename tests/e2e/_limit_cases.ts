// The cases of the limits agent (_limits_agent.ts): what the unit tests show with the simulator,
// shown again through real HAProxy. Each request goes through fe_lim, whose response prints the
// handler's variable (v), the agent's fallback (fallback) and HAProxy's set-on-error (err).
import assert from "node:assert/strict";
import type { Case } from "./_cases.ts";
import type { Combo } from "./_combo.ts";
import { LIMITS } from "./_limits.ts";
import { type HttpResult, parseKv, request } from "./_net.ts";
import { waitFor } from "./_proc.ts";

const always = () => true;

/** What fe_lim printed, plus the request's duration. */
interface LimResult {
  v: string;
  fallback: string;
  err: string;
  ms: number;
}

function limResult(r: HttpResult): LimResult {
  assert.equal(r.status, 200, `fe_lim answered ${r.status}: ${r.body}`);
  const kv = parseKv(r.body);
  return { v: kv.v, fallback: kv.fallback, err: kv.err, ms: r.ms };
}

/** One request through fe_lim: the handler waits `ms`, then answers `value`. */
async function limRequest(c: Combo, value: string, ms: number): Promise<LimResult> {
  const headers = { "x-val": value, "x-ms": String(ms) };
  return limResult(await request({ port: c.ports.lim, headers, timeoutMs: 10_000 }));
}

/** The limits agent's log lines that contain `text`. */
function agentLines(c: Combo, text: string | RegExp): string[] {
  return c.agents.lim.proc!.output().split("\n").filter((line) =>
    typeof text === "string" ? line.includes(text) : text.test(line)
  );
}

const DEADLINE_LOG = `missed the ${LIMITS.processingTimeout} ms processing deadline`;
const OVERLOAD_LOG = `came with maxInFlight (${LIMITS.maxInFlight}) handlers running`;

/**
 * The agent's processingTimeout (300 ms) passes before HAProxy's `timeout processing` (3 s): the
 * request gets the fallback actions, at the agent's deadline, and HAProxy reports no error.
 */
const deadline: Case = {
  name: "processing deadline",
  timeoutMs: 30_000,
  appliesTo: always,
  async run(c) {
    const tag = `dl-${Date.now()}`;
    const logged = agentLines(c, DEADLINE_LOG).length;
    // The same request with a handler that answers in time gets the handler's value.
    assert.deepEqual(
      { ...(await limRequest(c, `${tag}-fast`, 0)), ms: 0 },
      { v: `${tag}-fast`, fallback: "", err: "", ms: 0 },
      "a handler that answers in time",
    );
    const took: number[] = [];
    for (let i = 0; i < 3; i++) {
      // The handler would take 2 s: the agent answers with the fallback at 300 ms.
      const r = await limRequest(c, `${tag}-${i}`, 2000);
      assert.deepEqual(
        { v: r.v, fallback: r.fallback, err: r.err },
        { v: "", fallback: "1", err: "" },
        `request ${i}: the fallback, not the handler's value, and no set-on-error`,
      );
      assert.ok(
        r.ms >= LIMITS.processingTimeout && r.ms < 1500,
        `request ${i} took ${r.ms} ms: not at the agent's ${LIMITS.processingTimeout} ms deadline`,
      );
      took.push(r.ms);
    }
    await waitFor(
      "the agent to log the three missed deadlines",
      3000,
      () => agentLines(c, DEADLINE_LOG).length - logged === 3,
    );
    return `3 slow handlers answered with the fallback in ${took.join(", ")} ms; no err`;
  },
};

/**
 * A burst of 60 requests whose handler takes 200 ms, against maxInFlight 2: every request gets
 * either its answer or the fallback, none an error or a hang, and every fallback the clients saw
 * is one the agent logged (shed past maxInFlight, or a missed deadline on a loaded machine).
 */
const burst: Case = {
  name: "burst past maxInFlight",
  timeoutMs: 40_000,
  appliesTo: always,
  async run(c) {
    const n = 60;
    const tag = `bp-${Date.now()}`;
    const before = agentLines(c, OVERLOAD_LOG).length + agentLines(c, DEADLINE_LOG).length;
    const overloadBefore = agentLines(c, OVERLOAD_LOG).length;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => limRequest(c, `${tag}-${i}`, 200)),
    );
    let answered = 0;
    let fallback = 0;
    results.forEach((r, i) => {
      if (r.v === `${tag}-${i}` && r.fallback === "" && r.err === "") answered++;
      else if (r.v === "" && r.fallback === "1" && r.err === "") fallback++;
      else assert.fail(`request ${i}: neither its answer nor the fallback: ${JSON.stringify(r)}`);
    });
    const slowest = Math.max(...results.map((r) => r.ms));
    const note = `${n} requests: ${answered} answered, ${fallback} fallback; slowest ${slowest} ms`;
    assert.ok(answered >= LIMITS.maxInFlight, `${note}: too few answered`);
    assert.ok(fallback > 0, `${note}: maxInFlight was never reached`);
    assert.ok(slowest < 2500, `${note}: a request waited for HAProxy's timeout`);
    await waitFor(
      `${note}: the agent to log every fallback`,
      3000,
      () =>
        agentLines(c, OVERLOAD_LOG).length + agentLines(c, DEADLINE_LOG).length - before ===
          fallback,
    );
    const shed = agentLines(c, OVERLOAD_LOG).length - overloadBefore;
    assert.ok(shed > 0, `${note}: no NOTIFY was shed past maxInFlight`);
    return `${note}; ${shed} shed past maxInFlight ${LIMITS.maxInFlight}`;
  },
};

/**
 * The agent meets a frame it cannot decode (the relay in front of it damaged the type byte of one
 * value) and answers with AGENT-DISCONNECT status 4 (invalid frame); HAProxy's set-on-error
 * shows it. The agent serves the next request.
 */
const disconnect: Case = {
  name: "AGENT-DISCONNECT with an error status",
  timeoutMs: 30_000,
  appliesTo: always,
  async run(c) {
    const tag = `ad-${Date.now()}`;
    const protocolErrors = /protocol error: .*\(status 4\); closing the connection/;
    const damaged = "relay: damaged the type byte";
    const logged = agentLines(c, protocolErrors).length;
    const damagedBefore = agentLines(c, damaged).length;
    const headers = { "x-val": tag, "x-ms": "0", "x-corrupt": "CORRUPT-ME" };
    const r = limResult(await request({ port: c.ports.lim, headers, timeoutMs: 10_000 }));
    await waitFor(
      "the agent to log the protocol error, status 4",
      3000,
      () => agentLines(c, protocolErrors).length - logged === 1,
    );
    assert.equal(agentLines(c, damaged).length - damagedBefore, 1, "frames damaged by the relay");
    // Every version ends the request at once with 256 + the agent's status (2.6 and 3.0 too: their
    // log shows st=260).
    assert.deepEqual(
      { v: r.v, fallback: r.fallback, err: r.err },
      { v: "", fallback: "", err: "260" },
      "set-on-error is 256 + the agent's status 4",
    );
    assert.ok(r.ms < 1500, `err=260 came after ${r.ms} ms, not at once`);
    // The agent closed that one connection only: the next request is served.
    const next = await waitFor("a request to be served after the disconnect", 10_000, async () => {
      const after = await limRequest(c, `${tag}-after`, 0);
      return after.err === "" && after;
    }, 100);
    assert.deepEqual(
      { v: next.v, fallback: next.fallback },
      { v: `${tag}-after`, fallback: "" },
    );
    return `damaged NOTIFY → AGENT-DISCONNECT 4 → err=260 after ${r.ms} ms; next request served`;
  },
};

export const LIMIT_CASES: Case[] = [deadline, burst, disconnect];
