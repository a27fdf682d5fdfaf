// The cases run against every HAProxy version × runtime, in this order, on one shared Combo.
// Each returns a short note for the result table and throws (assert) on failure.
import assert from "node:assert/strict";
import type { Agent } from "./_agents.ts";
import { type AgentName, ALL_SERVERS, type Combo, SERVER_OF } from "./_combo.ts";
import { isLegacy, type Version } from "./_env.ts";
import { showServers, waitServersUp } from "./_haproxy.ts";
import { parseKv, rawRequest, request } from "./_net.ts";
import { burst, countKinds, echoValue, type Outcome, sampleFailures, startLoad } from "./_load.ts";
import { sleep, waitFor } from "./_proc.ts";
import { expectedScore } from "./_iprep.ts";
import { LIMIT_CASES } from "./_limit_cases.ts";

export interface CaseResult {
  note: string;
  /** Compact request counts for the counts table. */
  counts?: string;
}

export interface Case {
  name: string;
  timeoutMs: number;
  appliesTo(v: Version): boolean;
  run(c: Combo): Promise<string | CaseResult>;
}

const always = () => true;

/** Asserts that no process of these agents logged an error (after `marks`, if given). */
function assertNoAgentErrors(agents: Agent[], marks?: Map<Agent, number>): void {
  for (const a of agents) {
    for (const p of a.history) {
      if (marks && p !== a.proc) continue;
      const bad = p.flaggedSince(marks?.get(a) ?? 0);
      assert.deepEqual(bad, [], `agent ${a.name} (pid ${p.pid}) logged errors`);
    }
  }
}

/** Restarts stopped agents and waits until their servers are UP again. */
async function ensureUp(c: Combo, names: AgentName[]): Promise<void> {
  for (const n of names) if (!c.agents[n].proc?.running) await c.agents[n].start();
  await waitServersUp(c.cfg.statsSock, names.map((n) => SERVER_OF[n]));
}

const health: Case = {
  name: "health check",
  timeoutMs: 30_000,
  appliesTo: always,
  async run(c) {
    const servers = await waitServersUp(c.cfg.statsSock, ALL_SERVERS);
    // At least two more check rounds (inter 300-500 ms) must pass as well.
    await sleep(1200);
    const after = await showServers(c.cfg.statsSock);
    for (const name of ALL_SERVERS) {
      const s = after.find((x) => `${x.backend}/${x.server}` === name);
      assert.ok(s, `no stats row for ${name}`);
      assert.equal(s.status, "UP", `${name} status`);
      assert.equal(s.checkStatus, "L7OK", `${name} check status (${s.checkDesc})`);
      assert.equal(s.checkFailures, "0", `${name} failed checks`);
    }
    assert.deepEqual(c.haproxy!.flaggedSince(0), [], "HAProxy logged failed checks or SPOE errors");
    assertNoAgentErrors(Object.values(c.agents));
    return `${servers.length} servers UP (L7OK)`;
  },
};

const IPREP_HEADER_ADDRS = [
  "192.0.2.1",
  "198.51.100.77",
  "203.0.113.254",
  "10.1.2.3",
  "255.255.255.255",
  "0.0.0.0",
  "2001:db8::1234",
  "2001:db8:ffff::1",
  "::1",
  "fe80::1",
];

const ipReputation: Case = {
  name: "ip_reputation",
  timeoutMs: 30_000,
  appliesTo: always,
  async run(c) {
    let n = 0;
    for (const addr of IPREP_HEADER_ADDRS) {
      const r = await request({ port: c.ports.iprep, headers: { "x-real-ip": addr } });
      const kv = parseKv(r.body);
      assert.equal(r.status, 200);
      assert.deepEqual(kv, { score: String(expectedScore(addr)), err: "" }, `score of ${addr}`);
      n++;
    }
    // Source addresses 127.0.0.2-6 and ::1 through the agent listening on a unix socket.
    const sources: [string, string][] = [2, 3, 4, 5, 6].map((i) => [`127.0.0.${i}`, "127.0.0.1"]);
    sources.push(["::1", "::1"]);
    for (const [src, host] of sources) {
      const r = await request({ port: c.ports.iprepSrc, host, localAddress: src });
      const kv = parseKv(r.body);
      assert.equal(r.status, 200);
      assert.deepEqual(
        kv,
        { score: String(expectedScore(src)), err: "" },
        `score of source ${src}`,
      );
      n++;
    }
    return `${n} addresses scored`;
  },
};

const hex = (b: Buffer | string) => Buffer.from(b).toString("hex").toUpperCase();

function echoExpected(over: Record<string, string>): Record<string, string> {
  return {
    ip: "127.0.0.1",
    ip6: "",
    s: "hello-spoa",
    u: "",
    ineg: "-1",
    ineg2: "-123456789",
    izero: "0",
    ipos: "42",
    i239: "239",
    i240: "240",
    i2287: "2287",
    i2288: "2288",
    imax: "9223372036854775807",
    imin: "-9223372036854775808",
    bt: "1",
    bf: "0",
    b: "DEADBEEF00FF",
    meth: "GET",
    hdrs: "",
    body: "",
    missing: "",
    uniq: "",
    path: "/",
    m2: "second-message",
    g: "group-message",
    gint: "-7",
    err: "",
    ...over,
  };
}

const echo: Case = {
  name: "echo",
  timeoutMs: 30_000,
  appliesTo: always,
  async run(c) {
    // 1. POST over IPv4: every byte value in the body, a UTF-8 header, an IPv6 header address.
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const utf8 = "h\u00e9llo w\u00f6rld \u2713";
    const uniq1 = `u1-${Date.now()}`;
    const headers: [string, string][] = [
      ["Host", `127.0.0.1:${c.ports.echo}`],
      ["X-Real-IP", "2001:db8::1234"],
      ["X-UTF8", utf8],
      ["X-Uniq", uniq1],
      ["Content-Type", "application/octet-stream"],
      ["Content-Length", String(body.length)],
    ];
    const head = headers.map(([k, v]) => `${k}: ${v}\r\n`).join("");
    const raw = Buffer.concat([
      Buffer.from(`POST /echo/one?q=1 HTTP/1.1\r\n${head}\r\n`, "utf8"),
      body,
    ]);
    const r1 = await rawRequest("127.0.0.1", c.ports.echo, raw);
    assert.equal(r1.status, 200);
    const hdrs = headers.map(([k, v]) => `${k.toLowerCase()}: ${v}\r\n`).join("") + "\r\n";
    assert.deepEqual(
      parseKv(r1.body),
      echoExpected({
        ip6: "2001:db8::1234",
        u: hex(utf8),
        meth: "POST",
        hdrs: hex(hdrs),
        body: hex(body),
        uniq: uniq1,
        path: "/echo/one",
      }),
    );
    // 2. GET over IPv6: `src` is ::1, no body, no X-Real-IP (a null `ip6`).
    const uniq2 = `u2-${Date.now()}`;
    const r2 = await request({
      host: "::1",
      port: c.ports.echo,
      path: "/echo/two",
      headers: { "x-uniq": uniq2 },
    });
    assert.equal(r2.status, 200);
    const kv2 = parseKv(r2.body);
    assert.deepEqual(
      { ...kv2, hdrs: "" },
      echoExpected({ ip: "::1", uniq: uniq2, path: "/echo/two" }),
    );
    return "2 requests (IPv4 POST, IPv6 GET), 23+2 args + group";
  },
};

const concurrency: Case = {
  name: "concurrency",
  timeoutMs: 60_000,
  appliesTo: always,
  async run(c) {
    const n = 500;
    const t0 = Date.now();
    const out = await burst(c.ports.conc, n, `conc-${Date.now()}`);
    const ms = Date.now() - t0;
    const k = countKinds(out);
    assert.equal(k.ok, n, `only ${k.ok}/${n} ok: ${sampleFailures(out)}`);
    return `${n}/${n} concurrent in ${ms} ms`;
  },
};

const fragmentation: Case = {
  name: "fragmentation",
  timeoutMs: 40_000,
  appliesTo: isLegacy,
  async run(c) {
    const port = c.ports.frag;
    // Warm-up: the first NOTIFY after the max-frame-size reduction may fail with 259 (NOTES §7.3).
    const warmErrors: string[] = [];
    await waitFor("a small fragment-engine request to succeed", 15_000, async () => {
      const r = await request({ port, headers: { "x-tail": "warm", "x-big": "small" } });
      const kv = parseKv(r.body);
      if (kv.tail !== "warm") warmErrors.push(kv.err || `status ${r.status}`);
      return kv.tail === "warm" && kv.err === "";
    }, 100);
    const big = "B".repeat(700);
    const body = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 7) & 0xff));
    const tails: string[] = [];
    for (let i = 0; i < 5; i++) {
      const tail = `tail-${i}-${Date.now()}`;
      tails.push(tail);
      const r = await request({
        port,
        method: "POST",
        headers: { "x-big": big, "x-tail": tail },
        body,
      });
      assert.equal(r.status, 200);
      assert.deepEqual(parseKv(r.body), { tail, err: "" }, `fragmented request ${i}`);
    }
    // The nameless values are not echoed (an ACK cannot exceed 256 bytes either), but the echo
    // agent logs each message on one line: both must have arrived whole.
    // (The log reaches us through a pipe, possibly after the response: wait for it.)
    for (const tail of tails) {
      const line = await waitFor(
        `the agent to log the message with ${tail}`,
        3000,
        () => c.agents.echo.proc!.output().split("\n").find((l) => l.includes(`"${tail}"`)),
      );
      assert.ok(line.includes(`"${big}"`), `the long header did not arrive intact (${tail})`);
      assert.ok(
        line.includes(`0x${body.toString("hex")}`),
        `the body did not arrive intact (${tail})`,
      );
    }
    const warm = warmErrors.length ? `; warm-up errors: ${warmErrors.join(",")}` : "";
    return `5 × ~2.3 kB NOTIFY with max-frame-size 256${warm}`;
  },
};

const restart: Case = {
  name: "agent restart",
  timeoutMs: 60_000,
  appliesTo: always,
  async run(c) {
    await ensureUp(c, ["echo"]);
    const agent = c.agents.echo;
    const exit = await agent.proc!.stop(10_000);
    assert.deepEqual(exit, { code: 0, signal: null }, "agent exit status after SIGTERM");
    const down = Date.now();
    await agent.start();
    // Until HAProxy has reconnected, a request may end with the error variable, never hang.
    const first = await waitFor("a request to succeed after the restart", 20_000, async () => {
      const o = await echoValue(c.ports.conc, `restart-${Date.now()}`, 15_000);
      assert.ok(o.kind === "ok" || o.kind === "spoe-error", `${o.kind} ${o.detail}`);
      return o.kind === "ok" && o;
    }, 100);
    const recoveredMs = first.end - down;
    const out = await burst(c.ports.conc, 50, `after-restart-${Date.now()}`);
    const k = countKinds(out);
    assert.equal(k.ok, 50, `after restart: ${sampleFailures(out)}`);
    await waitServersUp(c.cfg.statsSock, ["be_echo/e1"]);
    return `recovered ${recoveredMs} ms after restart; 50/50 ok`;
  },
};

interface LoadSummary {
  note: string;
  counts: string;
}

/** Describes a load run around a signal sent at `t` (to the agent): counts, error codes, timing. */
function summarize(out: Outcome[], t: number, signal: string): LoadSummary {
  const k = countKinds(out);
  const inflight = out.filter((o) => o.start <= t && o.end >= t).length;
  const failed = out.filter((o) => o.kind !== "ok");
  const codes = [...new Set(failed.map((o) => o.detail.replace(/^err=/, "")))].slice(0, 5);
  const starts = failed.map((o) => o.start - t);
  const slowest = Math.max(...out.map((o) => o.end - o.start));
  const failedInfo = failed.length
    ? `, failed ones started ${Math.min(...starts)}..${Math.max(...starts)} ms after ${signal}`
    : "";
  return {
    note: `${out.length} requests: ${k.ok} ok, ${k["spoe-error"]} failed with err` +
      `${codes.length ? ` (${codes.join(",")})` : ""}, ${k.wrong} wrong, ` +
      `${k["client-error"]} client errors; ${inflight} in flight at ${signal}${failedInfo}; ` +
      `slowest ${slowest} ms`,
    counts: `${k.ok} / ${failed.length}${codes.length ? ` (err ${codes.join(",")})` : ""} / ` +
      `${inflight}`,
  };
}

/** Runs assertions; a failure keeps the counts for the result table. */
function withCounts(s: LoadSummary, check: () => void): CaseResult {
  try {
    check();
  } catch (e) {
    (e as { counts?: string }).counts = s.counts;
    throw e;
  }
  return s;
}

// A NOTIFY sent to the killed agent just before HAProxy saw its connection close fails too:
// requests starting up to this long after the SIGKILL count as "in flight on the killed agent".
const KILL_GRACE_MS = 250;

const failover: Case = {
  name: "failover",
  timeoutMs: 60_000,
  appliesTo: always,
  async run(c) {
    await ensureUp(c, ["h1", "h2"]);
    const load = startLoad(c.ports.ha, 32, `fo-${Date.now()}`);
    await waitFor("load to warm up", 10_000, () => load.completed() >= 200, 20);
    const killedAt = Date.now();
    c.agents.h1.proc!.signal("SIGKILL");
    await sleep(2000);
    const out = await load.stop();
    const s = summarize(out, killedAt, "SIGKILL");
    const k = countKinds(out);
    const late = out.filter((o) => o.kind !== "ok" && o.start > killedAt + KILL_GRACE_MS);
    const servedAfter = out.filter((o) => o.kind === "ok" && o.start > killedAt).length;
    const slowest = Math.max(...out.map((o) => o.end - o.start));
    return withCounts(s, () => {
      assert.equal(k.wrong + k["client-error"], 0, `${s.note}: ${sampleFailures(out)}`);
      assert.equal(
        late.length,
        0,
        `${s.note}: failed long after the kill: ${sampleFailures(late)}`,
      );
      assert.ok(servedAfter > 50, `${s.note}: no service after the kill`);
      // Failures end with the error variable within `timeout processing` (1 s), never hang.
      assert.ok(slowest < 2500, `${s.note}: a request took ${slowest} ms`);
    });
  },
};

/** An agent that drains properly exits well within this after SIGTERM (it takes ~0.5 s). */
const GRACEFUL_EXIT_MS = 5000;

const graceful: Case = {
  name: "graceful shutdown",
  timeoutMs: 60_000,
  appliesTo: always,
  async run(c) {
    await ensureUp(c, ["h1", "h2"]);
    const load = startLoad(c.ports.ha, 32, `gs-${Date.now()}`);
    await waitFor("load to warm up", 10_000, () => load.completed() >= 200, 20);
    const h2 = c.agents.h2.proc!;
    const termAt = Date.now();
    h2.signal("SIGTERM");
    const exit = await h2.waitExit(20_000);
    const exitMs = Date.now() - termAt;
    await sleep(1000);
    const out = await load.stop();
    const s = summarize(out, termAt, "SIGTERM");
    s.note += `; agent exited after ${exitMs} ms`;
    return withCounts(s, () => {
      assert.deepEqual(exit, { code: 0, signal: null }, `${s.note}: agent exit status`);
      // Draining is answering what is in flight, not waiting for a forced shutdown; and it is not
      // an abrupt exit either: the first goodbye check comes after a 250 ms quiet period.
      assert.ok(exitMs < GRACEFUL_EXIT_MS, `${s.note}: the drain took ${exitMs} ms`);
      assert.ok(exitMs >= 250, `${s.note}: the agent exited before the quiet period`);
      if (!isLegacy(c.version)) {
        assert.equal(countKinds(out).ok, out.length, `${s.note}: ${sampleFailures(out)}`);
        return;
      }
      // HAProxy 2.6/3.0 keep sending NOTIFYs on open connections to a server marked down, and
      // fail (err=256) those already sent when the AGENT-DISCONNECT arrives: no agent can prevent
      // that race. What the agent owes: every request in flight at SIGTERM is answered, and the
      // only failures are that race, right at the goodbye, a handful, never a hang.
      const failed = out.filter((o) => o.kind !== "ok");
      const inFlightFailed = failed.filter((o) => o.start <= termAt);
      assert.equal(inFlightFailed.length, 0, `${s.note}: in flight at SIGTERM and failed`);
      for (const o of failed) {
        assert.equal(o.detail, "err=256", `${s.note}: a failure other than the goodbye race`);
      }
      assert.ok(failed.length <= out.length / 100, `${s.note}: too many goodbye-race failures`);
    });
  },
};

/** A few requests through every engine; all must succeed. */
async function trafficEverywhere(c: Combo): Promise<void> {
  for (const [port, host] of [[c.ports.iprep, "127.0.0.1"], [c.ports.iprepSrc, "::1"]] as const) {
    const r = await request({ port, host, headers: { "x-real-ip": "192.0.2.9" } });
    assert.equal(parseKv(r.body).err, "", `ip_reputation request: ${r.body}`);
  }
  const e = await request({ port: c.ports.echo, headers: { "x-uniq": "traffic" } });
  assert.equal(parseKv(e.body).uniq, "traffic", `echo request: ${e.body}`);
  for (const port of [c.ports.conc, c.ports.ha]) {
    const out = await burst(port, 40, `traffic-${port}-${Date.now()}`);
    assert.equal(countKinds(out).ok, 40, `burst on port ${port}: ${sampleFailures(out)}`);
  }
}

const reload: Case = {
  name: "reload + soft stop",
  timeoutMs: 60_000,
  appliesTo: always,
  async run(c) {
    await ensureUp(c, ["iprep", "iprepUnix", "echo", "h1", "h2", "lim"]);
    const agents = Object.values(c.agents);
    // Traffic through every engine first, so that the old process holds agent connections
    // when it soft-stops (2.6/3.0 send DISCONNECT, 3.1+ reset the connections).
    await trafficEverywhere(c);
    const marks = new Map(agents.map((a) => [a, a.proc!.mark()]));
    const old = c.haproxy!;
    const fresh = await c.startHaproxy(true);
    const oldExit = await old.waitExit(15_000);
    assert.deepEqual(oldExit, { code: 0, signal: null }, "old HAProxy after soft stop");
    await waitServersUp(c.cfg.statsSock, ALL_SERVERS);
    await trafficEverywhere(c);
    fresh.signal("SIGUSR1");
    const exit = await fresh.waitExit(15_000);
    assert.deepEqual(exit, { code: 0, signal: null }, "HAProxy after SIGUSR1");
    await sleep(500);
    for (const a of agents) assert.ok(a.proc!.running, `agent ${a.name} died with HAProxy`);
    assertNoAgentErrors(agents, marks);
    return "reload (-sf) and SIGUSR1: agents logged no error";
  },
};

export const CASES: Case[] = [
  health,
  ipReputation,
  echo,
  concurrency,
  fragmentation,
  ...LIMIT_CASES,
  restart,
  failover,
  graceful,
  reload,
];
