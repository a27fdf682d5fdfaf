/**
 * An agent that asks another service: HAProxy sends the `X-Api-Key` header
 * of each request in the message `lookup-plan`; the agent looks the key's
 * plan up over HTTP (`GET <service>/plans/<key>`, answering JSON such as
 * `{"plan":"gold"}`, or 404 for an unknown key), caches the answer for a
 * minute, and sets `txn.lookup.plan` and `txn.lookup.source` (`service`,
 * `cache` or `fallback`).
 *
 * When the service is slow, the agent does not wait past its 500 ms
 * processing deadline: HAProxy gets the fallback (`plan` = `unknown`,
 * `source` = `fallback`) in time, and `context.signal`, passed to `fetch`,
 * aborts the lookup, so the connection to the service is closed rather than
 * left waiting. When the service is down, the fallback comes at once. Neither
 * is cached, so the next request asks again.
 *
 * Run it (address: `HOST:PORT` or a Unix socket path; default 127.0.0.1:12345):
 *
 *     deno run --allow-net examples/async_lookup.ts 127.0.0.1:12345 --service http://127.0.0.1:8000
 *     bun run examples/async_lookup.ts 127.0.0.1:12345 --service http://127.0.0.1:8000
 *     node examples/async_lookup.ts 127.0.0.1:12345 --service http://127.0.0.1:8000   # Node 24
 *
 * `--print-config DIR [--haproxy VERSION] [--frontend PORT]` writes its
 * haproxy.cfg and SPOE file into DIR instead (Deno: `--allow-write`).
 *
 * @module
 */

import { Agent, setVar } from "../mod.ts";
import { defineEngine, defineMessage } from "../src/config/mod.ts";
import { exitWithUsage, readCommandLine, serve } from "./_cli.ts";

/** Sent for each request that carries an API key. */
const lookupPlan = defineMessage({
  name: "lookup-plan",
  args: { key: "req.hdr(x-api-key)" },
  event: "on-frontend-http-request",
  condition: "if { req.hdr(x-api-key) -m found }",
});

/** The engine: `--print-config` generates its SPOE file and haproxy.cfg. */
const engine = defineEngine({
  name: "lookup",
  messages: [lookupPlan],
  variables: [{ scope: "txn", name: "plan" }, { scope: "txn", name: "source" }],
});

const commandLine = readCommandLine({ service: "URL" });
let service: URL;
try {
  service = new URL(commandLine.options.service ?? "http://127.0.0.1:8000");
} catch {
  exitWithUsage(`--service: not a URL: "${commandLine.options.service}"`);
}

/** How long an answer of the service is kept. */
const CACHE_TTL = 60_000;
/** The most keys kept: past it, the oldest entry goes. */
const CACHE_SIZE = 10_000;
const cache = new Map<string, { plan: string; until: number }>();

/** The service's plan for a key: `none` for an unknown key (404). */
async function fetchPlan(key: string, signal: AbortSignal): Promise<string> {
  const url = new URL(`plans/${encodeURIComponent(key)}`, service.href.replace(/\/?$/, "/"));
  const response = await fetch(url, { signal, headers: { accept: "application/json" } });
  if (response.status === 404) {
    await response.body?.cancel();
    return "none";
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`${url} answered ${response.status}`);
  }
  const { plan } = await response.json() as { plan?: unknown };
  if (typeof plan !== "string" || plan === "") throw new Error(`${url}: no plan in the answer`);
  return plan;
}

/** What HAProxy gets when the plan cannot be known in time. */
const FALLBACK = [setVar("txn", "plan", "unknown"), setVar("txn", "source", "fallback")];

const agent = new Agent({ processingTimeout: 500, fallbackActions: FALLBACK });
agent.on(lookupPlan, async (message, context) => {
  const key = String(message.get("key") ?? "");
  const cached = cache.get(key);
  if (cached && cached.until > Date.now()) {
    context.setVar("txn", "plan", cached.plan);
    context.setVar("txn", "source", "cache");
    return;
  }
  let plan: string;
  try {
    plan = await fetchPlan(key, context.signal);
  } catch (error) {
    // Aborted: the deadline passed (HAProxy already has the fallback) or HAProxy went away.
    if (context.signal.aborted) return;
    console.warn(`lookup of a key failed, answering with the fallback: ${error}`);
    return FALLBACK;
  }
  cache.delete(key);
  cache.set(key, { plan, until: Date.now() + CACHE_TTL });
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  context.setVar("txn", "plan", plan);
  context.setVar("txn", "source", "service");
});

await serve(agent, engine, "async_lookup agent", { commandLine });
