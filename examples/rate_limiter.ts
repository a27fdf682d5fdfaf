/**
 * The shared state of the rate-limit example (examples/rate_limit.ts): a
 * fixed or sliding window per key, kept in Redis and updated by one Lua
 * script per request, so that every agent process using the same Redis
 * shares one limit exactly (Redis runs a script atomically).
 *
 * Every call to Redis has a deadline, and a Redis that is down or does not
 * answer never makes a request wait: the client queues nothing while it is
 * disconnected (a call fails at once), a call that misses its deadline drops
 * the connection so that the next ones fail at once too, and the client
 * reconnects in the background. Meanwhile {@linkcode RateLimiter.check}
 * answers with the configured failure mode (fail-open by default), marked
 * degraded; `RateLimiter.#redisFailed` is where every such answer is
 * recorded, with its reason (`onRedisFailure`: the example counts them in a
 * metric).
 *
 * The Redis client is ioredis, from npm; the library itself has no
 * dependencies.
 *
 * @module
 */

import { Redis, ReplyError } from "ioredis";

/** How requests are counted. */
export const WindowKind = {
  /** A counter per key that starts with the key's first request and expires after the window. */
  Fixed: "fixed",
  /** A log of the allowed requests of the last window per key (a sorted set). */
  Sliding: "sliding",
} as const;
/** `"fixed"` or `"sliding"`. */
export type WindowKind = (typeof WindowKind)[keyof typeof WindowKind];

/** Why an answer was given without Redis. */
export const RedisFailure = {
  /** Not connected (Redis is down, unreachable, or the client is reconnecting). */
  Offline: "offline",
  /** Redis did not answer within the deadline. */
  Timeout: "timeout",
  /** Redis answered with an error (out of memory, a key of another type, ...). */
  Reply: "reply",
} as const;
/** `"offline"`, `"timeout"` or `"reply"`. */
export type RedisFailure = (typeof RedisFailure)[keyof typeof RedisFailure];

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Redis: `redis://[user:password@]host:port[/db]`, `rediss://...` (TLS) or a socket path. */
  redis: string;
  /** Requests allowed per key and window (a positive integer). */
  limit: number;
  /** The window, in ms (a positive integer). */
  windowMs: number;
  /** How requests are counted. @default {"fixed"} */
  kind?: WindowKind;
  /** The deadline of each Redis call, in ms. @default {250} */
  timeoutMs?: number;
  /** Deny, rather than allow, what cannot be checked while Redis is unavailable. @default {false} */
  failClosed?: boolean;
  /** The start of every Redis key. @default {"rate-limit"} */
  keyPrefix?: string;
  /** Where the transitions (Redis lost, Redis back) are reported. @default {console} */
  log?: Pick<Console, "log" | "warn">;
  /** Called for every request answered without Redis, with the reason (for a metric). */
  onRedisFailure?: (reason: RedisFailure) => void;
}

/** The answer for one request. */
export interface RateDecision {
  /** Whether the request is within the limit (the failure mode when Redis was unavailable). */
  allowed: boolean;
  /** How many more requests of this key the window allows; absent when Redis was unavailable. */
  remaining?: number;
  /** Set when Redis was unavailable: why. */
  degraded?: RedisFailure;
}

// KEYS[1]: the key's counter; ARGV[1]: the limit; ARGV[2]: the window in ms. The first request of
// a key starts its window; the counter expires with it. Denied requests are counted too (they do
// not change the answer, and need no second command).
const FIXED_WINDOW = `
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
local limit = tonumber(ARGV[1])
if count <= limit then return {1, limit - count} end
return {0, 0}
`;

// KEYS[1]: the key's log of allowed requests (sorted set, score = time in ms); ARGV[1]: the limit;
// ARGV[2]: the window in ms; ARGV[3]: a member unique to this request. The time is Redis's own,
// so that agents on machines whose clocks differ still share one window. Denied requests are not
// logged: a client that keeps trying gets in again as soon as its oldest request leaves the window.
const SLIDING_WINDOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[1])
if count >= limit then return {0, 0} end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, limit - count - 1}
`;

/** The client with the two scripts defined on it (`defineCommand`: EVALSHA, EVAL on NOSCRIPT). */
interface ScriptedRedis extends Redis {
  fixedWindow(key: string, limit: number, windowMs: number): Promise<[number, number]>;
  slidingWindow(
    key: string,
    limit: number,
    windowMs: number,
    member: string,
  ): Promise<[number, number]>;
}

class DeadlineError extends Error {}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`Invalid ${name}: ${value} (must be a positive integer)`);
  }
  return value;
}

/** Reconnection delays: 50 ms, then doubling up to 1 s, forever. */
function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt - 1, 5), 1_000);
}

/**
 * A rate limit per key, shared through Redis by every process that uses the
 * same Redis, key prefix and window kind.
 *
 * @example
 * ```ts ignore
 * const limiter = new RateLimiter({ redis: "redis://127.0.0.1:6379", limit: 100, windowMs: 60_000 });
 * const { allowed, remaining, degraded } = await limiter.check("203.0.113.7");
 * ```
 */
export class RateLimiter {
  /** The limit per window. */
  readonly limit: number;
  /** The window, ms. */
  readonly windowMs: number;
  /** How requests are counted. */
  readonly kind: WindowKind;
  /** The deadline of each Redis call, ms. */
  readonly timeoutMs: number;
  /** Whether unavailable Redis means deny. */
  readonly failClosed: boolean;
  readonly #client: ScriptedRedis;
  readonly #keyPrefix: string;
  readonly #log: Pick<Console, "log" | "warn">;
  readonly #onRedisFailure: ((reason: RedisFailure) => void) | undefined;
  /** Unique per process: with a sequence number, the members of the sliding log. */
  readonly #processTag = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  #sequence = 0;
  /** Since when, and how many answers were given without Redis; undefined while it answers. */
  #outage: { since: number; answers: number } | undefined;
  /** The last connection problem the client reported, for the log. */
  #lastConnectionError = "";

  /**
   * Connects to Redis in the background: the limiter answers at once, marked
   * degraded, until Redis is there.
   *
   * @param options Redis, limit, window and failure mode.
   * @throws {RangeError} For a limit, window or deadline that is not a positive integer.
   */
  constructor(options: RateLimiterOptions) {
    this.limit = positiveInteger("limit", options.limit);
    this.windowMs = positiveInteger("window", options.windowMs);
    this.timeoutMs = positiveInteger("Redis timeout", options.timeoutMs ?? 250);
    this.kind = options.kind ?? WindowKind.Fixed;
    if (this.kind !== WindowKind.Fixed && this.kind !== WindowKind.Sliding) {
      throw new RangeError(`Invalid window kind "${this.kind}" (fixed or sliding)`);
    }
    this.failClosed = options.failClosed ?? false;
    this.#keyPrefix = `${options.keyPrefix ?? "rate-limit"}:${this.kind}:`;
    this.#log = options.log ?? console;
    this.#onRedisFailure = options.onRedisFailure;
    const client = new Redis(options.redis, {
      // While disconnected a call fails at once instead of waiting in a queue for the reconnection.
      enableOfflineQueue: false,
      // A call under way when the connection drops fails at once, and is not sent again.
      maxRetriesPerRequest: 0,
      connectTimeout: Math.max(this.timeoutMs, 1_000),
      retryStrategy: reconnectDelay,
    });
    // Connection problems are reported here on every attempt; requests see them as "offline".
    client.on("error", (error: Error) => void (this.#lastConnectionError = error.message));
    client.on("ready", () => void (this.#lastConnectionError = ""));
    client.defineCommand("fixedWindow", { numberOfKeys: 1, lua: FIXED_WINDOW });
    client.defineCommand("slidingWindow", { numberOfKeys: 1, lua: SLIDING_WINDOW });
    this.#client = client as ScriptedRedis;
  }

  /**
   * Counts one request of `key` and says whether it is within the limit.
   * Never rejects, and settles within the deadline (`timeoutMs`, plus the
   * time to run the answer): without Redis, the answer is the failure mode,
   * marked degraded.
   *
   * @param key The key: a client address, an API key, a header value.
   * @returns The decision.
   */
  async check(key: string): Promise<RateDecision> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError()), this.timeoutMs);
    });
    try {
      const call = this.kind === WindowKind.Fixed
        ? this.#client.fixedWindow(this.#keyPrefix + key, this.limit, this.windowMs)
        : this.#client.slidingWindow(
          this.#keyPrefix + key,
          this.limit,
          this.windowMs,
          `${this.#processTag}:${++this.#sequence}`,
        );
      // The call may still settle after the deadline: its outcome is not wanted then.
      call.catch(() => {});
      const [allowed, remaining] = await Promise.race([call, deadline]);
      this.#redisAnswered();
      return { allowed: allowed === 1, remaining };
    } catch (error) {
      const reason = error instanceof DeadlineError
        ? RedisFailure.Timeout
        : error instanceof ReplyError
        ? RedisFailure.Reply
        : RedisFailure.Offline;
      return this.#redisFailed(reason, error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The one place where a request is answered without Redis: it records the
   * failure (`onRedisFailure`, and a log line for the first one of an
   * outage) and returns the failure mode's answer. A missed deadline also drops the connection, so that what
   * is queued on it fails now, the next calls fail at once, and the client
   * reconnects (a Redis that hangs is not asked again until it answers the
   * reconnection's first command).
   *
   * @param reason Why Redis could not answer.
   * @param error What the client reported.
   * @returns The answer: the failure mode, degraded.
   */
  #redisFailed(reason: RedisFailure, error: unknown): RateDecision {
    if (reason === RedisFailure.Timeout && this.#client.status === "ready") {
      this.#client.disconnect(true);
    }
    if (this.#outage === undefined) {
      this.#outage = { since: Date.now(), answers: 0 };
      const detail = reason === RedisFailure.Timeout
        ? `no answer within ${this.timeoutMs} ms`
        : reason === RedisFailure.Offline
        ? this.#lastConnectionError || "not connected"
        : (error as Error)?.message ?? String(error);
      this.#log.warn(
        `rate_limit: Redis unavailable (${reason}: ${detail}); answering allowed=` +
          `${!this.failClosed} degraded=1 until it answers again`,
      );
    }
    this.#outage.answers++;
    this.#onRedisFailure?.(reason);
    return { allowed: !this.failClosed, degraded: reason };
  }

  #redisAnswered(): void {
    if (this.#outage === undefined) return;
    const { since, answers } = this.#outage;
    this.#outage = undefined;
    this.#log.log(
      `rate_limit: Redis answers again, after ${answers} answer(s) without it in ` +
        `${((Date.now() - since) / 1000).toFixed(1)} s`,
    );
  }

  /** Closes the connection to Redis (pending calls fail, as offline). */
  close(): void {
    this.#client.disconnect();
  }
}
