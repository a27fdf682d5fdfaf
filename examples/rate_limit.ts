/**
 * A rate-limit agent whose state is shared by every agent process: HAProxy
 * sends each request's key in the message `rate-limit` (argument `key`: the
 * client address by default, or any sample expression: an API key, a
 * header), and the agent counts it in Redis, in a fixed or sliding window per
 * key (examples/rate_limiter.ts), and answers:
 *
 * - `txn.ratelimit.allowed` (bool): whether the request is within the limit;
 * - `txn.ratelimit.remaining` (int): how many more requests of the key the
 *   window allows;
 * - `txn.ratelimit.degraded` (bool, only when set): Redis was unavailable
 *   (down, unreachable, or no answer within `--redis-timeout`), so the
 *   request was allowed without counting (`--fail-closed`: denied), and
 *   `remaining` is not set.
 *
 * Any number of agent processes, on any runtime, behind one HAProxy backend,
 * share one limit exactly: Redis updates each key's window atomically.
 *
 * Run it (address: `HOST:PORT` or a Unix socket path; default 127.0.0.1:12345):
 *
 *     deno run --allow-net --allow-env examples/rate_limit.ts 127.0.0.1:12345 \
 *       --limit 100 --window 60 --redis redis://127.0.0.1:6379
 *     bun run examples/rate_limit.ts 127.0.0.1:12345 --limit 100 --window 60
 *     node examples/rate_limit.ts 127.0.0.1:12345 --limit 100 --window 60   # Node 24
 *
 * Options: `--limit N` (default 100) requests per `--window SECONDS`
 * (default 60) and key; `--redis URL` (`redis://[user:password@]host:port[/db]`,
 * `rediss://` for TLS, or a socket path; default redis://127.0.0.1:6379);
 * `--sliding` for a sliding window (default: fixed, starting with the key's
 * first request); `--fail-closed` to deny while Redis is unavailable;
 * `--redis-timeout MS` (default 250), the deadline of each Redis call;
 * `--key EXPR`, the sample expression of the key in the generated
 * configuration (default `src`); `--metrics HOST:PORT` serves the agent's
 * metrics and `rate_limit_redis_failures_total{reason}`, the requests answered
 * without Redis.
 *
 * `--print-config DIR [--haproxy VERSION] [--frontend PORT]` writes its
 * haproxy.cfg and SPOE file into DIR instead (Deno: `--allow-write`); give
 * every agent's address for one `server` line each, and the same
 * `--redis-timeout` as the agents (HAProxy's `timeout processing` follows it).
 *
 * @module
 */

import { Agent, setVar, type SpopValue } from "../mod.ts";
import { defineEngine, defineMessage } from "../src/config/mod.ts";
import { PrometheusMetrics } from "../src/metrics/mod.ts";
import { type CommandLine, exitWithUsage, readCommandLine, serve } from "./_cli.ts";
import { RateLimiter, type RateLimiterOptions, WindowKind } from "./rate_limiter.ts";

/** The example's own options (see examples/_cli.ts; `""`: a switch). */
const OPTIONS = {
  limit: "N",
  window: "SECONDS",
  redis: "URL",
  sliding: "",
  "fail-closed": "",
  "redis-timeout": "MS",
  key: "EXPR",
};

interface Settings {
  limiter: Omit<RateLimiterOptions, "log" | "onRedisFailure"> & {
    timeoutMs: number;
    failClosed: boolean;
  };
  key: string;
}

/** Reads the example's flags; a `TypeError` says what is wrong. */
function settings({ options }: CommandLine): Settings {
  const number = (flag: string, fallback: number, isValid: (value: number) => boolean) => {
    const value = Number(options[flag] ?? fallback);
    if (!isValid(value)) throw new TypeError(`--${flag}: invalid value "${options[flag]}"`);
    return value;
  };
  const limit = number("limit", 100, (n) => Number.isSafeInteger(n) && n > 0);
  const window = number("window", 60, (s) => Number.isFinite(s) && Math.round(s * 1000) > 0);
  const timeoutMs = number("redis-timeout", 250, (n) => Number.isSafeInteger(n) && n > 0);
  return {
    limiter: {
      redis: options.redis ?? "redis://127.0.0.1:6379",
      limit,
      windowMs: Math.round(window * 1000),
      kind: options.sliding ? WindowKind.Sliding : WindowKind.Fixed,
      timeoutMs,
      failClosed: options["fail-closed"] !== undefined,
    },
    key: options.key ?? "src",
  };
}

const commandLine = readCommandLine(OPTIONS);
let checked: Settings;
try {
  checked = settings(commandLine);
} catch (error) {
  exitWithUsage((error as Error).message);
}

/** What HAProxy sends for each HTTP request. */
const rateLimit = defineMessage({
  name: "rate-limit",
  args: { key: checked.key },
  event: "on-frontend-http-request",
});

/** The engine: `--print-config` generates its SPOE file and haproxy.cfg. */
const engine = defineEngine({
  name: "ratelimit",
  messages: [rateLimit],
  variables: [
    { scope: "txn", name: "allowed", type: "bool" },
    { scope: "txn", name: "remaining", type: "int" },
    { scope: "txn", name: "degraded", type: "bool" },
  ],
});

/** The key as text: strings as they are, addresses in their usual form, binary in hex. */
function keyText(value: SpopValue | undefined): string {
  if (value === null || value === undefined) return ""; // a missing header: one shared bucket
  if (value instanceof Uint8Array) {
    return Array.from(value, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }
  return String(value);
}

const { failClosed, timeoutMs } = checked.limiter;
const agent = new Agent({
  // Redis's deadline, then time to answer: a check settles before the agent's deadline.
  processingTimeout: timeoutMs + 250,
  // Sent if a check still missed the deadline, or past maxInFlight: the answer without Redis.
  fallbackActions: [setVar("txn", "allowed", !failClosed), setVar("txn", "degraded", true)],
});
/** With `--metrics HOST:PORT`: the agent's metrics, and the requests answered without Redis. */
const metrics = new PrometheusMetrics();
const redisFailures = metrics.counter({
  name: "rate_limit_redis_failures_total",
  help: "Requests answered without Redis (the failure mode, degraded), by reason.",
  labels: ["reason"],
});
// No Redis connection just to print the configuration.
const limiter = commandLine.printConfig ? undefined : new RateLimiter({
  ...checked.limiter,
  onRedisFailure: (reason) => redisFailures.inc({ reason }),
});
agent.on(rateLimit, async (message, context) => {
  const decision = await limiter!.check(keyText(message.get("key")));
  context.setVar("txn", "allowed", decision.allowed);
  if (decision.remaining !== undefined) context.setVar("txn", "remaining", decision.remaining);
  if (decision.degraded !== undefined) context.setVar("txn", "degraded", true);
});
await serve(agent, engine, "rate_limit agent", { commandLine, metrics });
