// examples/rate_limiter.ts against a real redis-server (scripts/install_redis.sh): two limiters
// (two connections, as two agent processes have) share one window exactly; fixed and sliding
// windows end when they should; a Redis that is killed, paused or not there yet gets answers
// within the deadline, in the failure mode, marked degraded, and the limiter recovers when it is
// back.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type RateDecision,
  RateLimiter,
  type RateLimiterOptions,
  RedisFailure,
  WindowKind,
} from "../../examples/rate_limiter.ts";
import { freePort, RedisServer } from "../_redis_server.ts";
import { delay, within } from "../_timing.ts";

/** The limiter's log, kept. */
function recorder(): { lines: string[]; log: Pick<Console, "log" | "warn"> } {
  const lines: string[] = [];
  return {
    lines,
    log: { log: (text: string) => lines.push(text), warn: (text: string) => lines.push(text) },
  };
}

function limiter(options: RateLimiterOptions): RateLimiter {
  return new RateLimiter({ log: recorder().log, ...options });
}

/** Checks `key` until Redis answers (not degraded), within `ms`. */
async function untilRecovered(limiter: RateLimiter, key: string, ms = 5_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const decision = await limiter.check(key);
    if (decision.degraded === undefined) return decision;
    if (Date.now() > deadline) throw new Error(`still degraded after ${ms} ms`);
    await delay(50);
  }
}

/** Runs `check` and measures it. */
async function timed(limiter: RateLimiter, key: string): Promise<[RateDecision, number]> {
  const started = performance.now();
  const decision = await limiter.check(key);
  return [decision, performance.now() - started];
}

test("two limiters share one fixed window exactly: N of 2N concurrent requests allowed", async () => {
  const redis = await RedisServer.start();
  const options = { redis: redis.url, limit: 25, windowMs: 60_000 };
  const [a, b] = [limiter(options), limiter(options)];
  try {
    await Promise.all([untilRecovered(a, "warm-up"), untilRecovered(b, "warm-up")]);
    const decisions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).check("client")),
    );
    const allowed = decisions.filter((d) => d.allowed);
    assert.equal(allowed.length, 25);
    assert.deepEqual(
      allowed.map((d) => d.remaining).sort((x, y) => x! - y!),
      Array.from({ length: 25 }, (_, i) => i),
      "each remaining count once: one counter for both",
    );
    for (const d of decisions.filter((d) => !d.allowed)) {
      assert.deepEqual(d, {
        allowed: false,
        remaining: 0,
      });
    }
    // Another key has its own window.
    assert.deepEqual(await b.check("other"), { allowed: true, remaining: 24 });
  } finally {
    a.close();
    b.close();
    await redis.stop();
  }
});

test("windows end: a fixed window after its time, a sliding one request by request", async () => {
  const redis = await RedisServer.start();
  const fixed = limiter({ redis: redis.url, limit: 2, windowMs: 500 });
  const sliding = [1, 2].map(() =>
    limiter({ redis: redis.url, limit: 2, windowMs: 1_000, kind: WindowKind.Sliding })
  );
  try {
    await untilRecovered(fixed, "warm-up");
    assert.deepEqual(await fixed.check("k"), { allowed: true, remaining: 1 });
    assert.deepEqual(await fixed.check("k"), { allowed: true, remaining: 0 });
    assert.deepEqual(await fixed.check("k"), { allowed: false, remaining: 0 });
    await delay(550);
    assert.deepEqual(await fixed.check("k"), { allowed: true, remaining: 1 });

    await Promise.all(sliding.map((l) => untilRecovered(l, "warm-up")));
    const [s1, s2] = sliding;
    assert.deepEqual(await s1.check("k"), { allowed: true, remaining: 1 });
    await delay(400);
    assert.deepEqual(await s2.check("k"), { allowed: true, remaining: 0 });
    assert.deepEqual(await s1.check("k"), { allowed: false, remaining: 0 });
    // The first request leaves the window at 1000 ms, the second at 1400 ms.
    await delay(700);
    assert.deepEqual(await s2.check("k"), { allowed: true, remaining: 0 });
    assert.deepEqual(await s1.check("k"), { allowed: false, remaining: 0 });
    // A fixed window of the same key is another Redis key (a counter next to a sorted set).
    assert.equal((await fixed.check("k")).degraded, undefined);
  } finally {
    fixed.close();
    for (const l of sliding) l.close();
    await redis.stop();
  }
});

test("Redis killed: answered at once, fail-open or fail-closed, degraded; back after restart", async () => {
  const redis = await RedisServer.start();
  const logs = recorder();
  const open = new RateLimiter({ redis: redis.url, limit: 5, windowMs: 60_000, log: logs.log });
  const closed = limiter({ redis: redis.url, limit: 5, windowMs: 60_000, failClosed: true });
  try {
    await untilRecovered(open, "k");
    await untilRecovered(closed, "k");
    logs.lines.length = 0; // the log of the first connection, if a check came before it
    await redis.kill();
    for (let i = 0; i < 3; i++) {
      const [decision, ms] = await timed(open, "k");
      assert.deepEqual(decision, { allowed: true, degraded: RedisFailure.Offline });
      assert.ok(ms < 100, `answered in ${ms} ms`);
      const [denied] = await timed(closed, "k");
      assert.deepEqual(denied, { allowed: false, degraded: RedisFailure.Offline });
    }
    await redis.restart(); // empty: the windows start again
    assert.deepEqual(await untilRecovered(open, "k"), { allowed: true, remaining: 4 });
    assert.deepEqual(await untilRecovered(closed, "k"), { allowed: true, remaining: 3 });
    // One line when Redis went away, one when it came back.
    assert.equal(logs.lines.length, 2, logs.lines.join("\n"));
    assert.match(
      logs.lines[0],
      /^rate_limit: Redis unavailable \(offline: .+\); answering allowed=true/,
    );
    assert.match(logs.lines[1], /^rate_limit: Redis answers again, after \d+ answer\(s\) without/);
  } finally {
    open.close();
    closed.close();
    await redis.stop();
  }
});

test("Redis paused: the deadline answers, the next calls fail at once, then it recovers", async () => {
  const redis = await RedisServer.start();
  const l = limiter({ redis: redis.url, limit: 5, windowMs: 60_000, timeoutMs: 300 });
  try {
    await untilRecovered(l, "k");
    redis.pause();
    const [first, firstMs] = await timed(l, "k");
    assert.deepEqual(first, { allowed: true, degraded: RedisFailure.Timeout });
    assert.ok(firstMs >= 290 && firstMs < 600, `the deadline answered after ${firstMs} ms`);
    // The connection was dropped: no call waits for the paused server any more.
    for (let i = 0; i < 3; i++) {
      const [next, ms] = await timed(l, "k");
      assert.deepEqual(next, { allowed: true, degraded: RedisFailure.Offline });
      assert.ok(ms < 150, `answered in ${ms} ms, not at once`);
    }
    redis.resume();
    const back = await untilRecovered(l, "k");
    assert.equal(back.allowed, true);
    // The request that timed out reached Redis and may be counted when it ran again.
    assert.ok(back.remaining === 3 || back.remaining === 2, `remaining ${back.remaining}`);
  } finally {
    l.close();
    await redis.stop();
  }
});

test("no Redis yet: degraded answers at once, then counted once Redis starts", async () => {
  const port = await freePort();
  const l = limiter({ redis: `redis://127.0.0.1:${port}`, limit: 1, windowMs: 60_000 });
  let redis: RedisServer | undefined;
  try {
    const [decision, ms] = await timed(l, "k");
    assert.deepEqual(decision, { allowed: true, degraded: RedisFailure.Offline });
    assert.ok(ms < 100, `answered in ${ms} ms`);
    redis = await RedisServer.start(port);
    assert.deepEqual(await within(untilRecovered(l, "k"), 6_000, "recovery"), {
      allowed: true,
      remaining: 0,
    });
    assert.deepEqual(await l.check("k"), { allowed: false, remaining: 0 });
  } finally {
    l.close();
    await redis?.stop();
  }
});

test("new RateLimiter() rejects a limit, window or deadline that is not a positive integer", () => {
  const redis = "redis://127.0.0.1:1";
  for (
    const bad of [
      { limit: 0, windowMs: 1000 },
      { limit: 1.5, windowMs: 1000 },
      { limit: 1, windowMs: 0 },
      { limit: 1, windowMs: 1000, timeoutMs: -1 },
    ]
  ) {
    assert.throws(() => new RateLimiter({ redis, ...bad }), RangeError, JSON.stringify(bad));
  }
  assert.throws(
    () => new RateLimiter({ redis, limit: 1, windowMs: 1, kind: "leaky" as WindowKind }),
    /Invalid window kind "leaky"/,
  );
});
