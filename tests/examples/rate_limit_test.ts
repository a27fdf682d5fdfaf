// examples/rate_limit.ts as a process, with a real redis-server (scripts/install_redis.sh): HELLO,
// NOTIFY rate-limit, the ACK's variables; Redis killed and started again under it; fail-closed
// with a sliding window, starting before Redis; a bad command line exits with status 2.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Value } from "../../src/codec/mod.ts";
import type { SpopValue } from "../../mod.ts";
import { HaproxySimulator } from "../../src/testing/mod.ts";
import { freePort, RedisServer } from "../_redis_server.ts";
import { delay, within } from "../_timing.ts";
import { ExampleProcess } from "./_example_process.ts";

/** ioredis reads the environment. */
const PERMISSIONS = ["--allow-env"];

/** The answers marked degraded so far. */
let degradedAnswers = 0;

/** One NOTIFY rate-limit: the variables of the ACK, and how long it took. */
async function rateLimit(
  haproxy: HaproxySimulator,
  key: SpopValue | ReturnType<typeof Value.ipv4>,
): Promise<[Record<string, SpopValue>, number]> {
  const started = performance.now();
  const ack = await haproxy.notify([{ name: "rate-limit", args: { key } }]);
  if (ack.vars["txn.degraded"] === true) degradedAnswers++;
  return [ack.vars, performance.now() - started];
}

/** NOTIFYs until the answer is no longer degraded, within `ms`. */
async function untilRecovered(haproxy: HaproxySimulator, key: string, ms = 6_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const [vars] = await rateLimit(haproxy, key);
    if (vars["txn.degraded"] === undefined) return vars;
    if (Date.now() > deadline) throw new Error(`still degraded after ${ms} ms`);
    await delay(50);
  }
}

test("examples/rate_limit counts each key in Redis, fails open without it, and recovers", async () => {
  const redis = await RedisServer.start();
  let example: ExampleProcess | undefined;
  degradedAnswers = 0;
  try {
    example = await ExampleProcess.start("rate_limit", {
      args: ["--redis", redis.url, "--limit", "2", "--window", "60", "--metrics", "127.0.0.1:0"],
      permissions: PERMISSIONS,
    });
    const haproxy = await HaproxySimulator.connectSocket({ port: example.port });
    try {
      await haproxy.hello();
      assert.deepEqual(await untilRecovered(haproxy, "alice"), {
        "txn.allowed": true,
        "txn.remaining": 1,
      });
      assert.deepEqual((await rateLimit(haproxy, "alice"))[0], {
        "txn.allowed": true,
        "txn.remaining": 0,
      });
      assert.deepEqual((await rateLimit(haproxy, "alice"))[0], {
        "txn.allowed": false,
        "txn.remaining": 0,
      });
      // An address is the same key as its text; a missing sample (NULL) is one key of its own.
      assert.deepEqual((await rateLimit(haproxy, Value.ipv4("192.0.2.7")))[0]["txn.remaining"], 1);
      assert.deepEqual((await rateLimit(haproxy, "192.0.2.7"))[0]["txn.remaining"], 0);
      assert.deepEqual((await rateLimit(haproxy, null))[0]["txn.remaining"], 1);

      await redis.kill();
      for (let i = 0; i < 3; i++) {
        const [vars, ms] = await rateLimit(haproxy, "alice");
        assert.deepEqual(vars, { "txn.allowed": true, "txn.degraded": true });
        assert.ok(ms < 200, `answered in ${ms} ms`);
      }
      await redis.restart(); // empty: the windows start again
      assert.deepEqual(await untilRecovered(haproxy, "alice"), {
        "txn.allowed": true,
        "txn.remaining": 1,
      });
      // Every answer without Redis is counted, with its reason.
      const response = await fetch(`http://127.0.0.1:${example.metricsPort}/metrics`);
      const metrics = await response.text();
      assert.ok(degradedAnswers >= 3);
      assert.match(
        metrics,
        new RegExp(
          `^rate_limit_redis_failures_total\\{reason="offline"\\} ${degradedAnswers}$`,
          "m",
        ),
      );
      assert.match(metrics, /^spoa_notifies_total\{outcome="ok"\} \d+$/m);
    } finally {
      haproxy.close();
    }
    assert.deepEqual(await example.stop(), { code: 0, signal: null }, example.output);
    assert.match(example.output, /Redis unavailable \(offline: .*\); answering allowed=true/);
    assert.match(example.output, /Redis answers again, after \d+ answer\(s\) without it/);
    assert.match(example.output, /^stopped$/m);
  } finally {
    example?.kill();
    await redis.stop();
  }
});

test("examples/rate_limit --fail-closed --sliding: denies until Redis starts, then slides", async () => {
  const port = await freePort();
  let redis: RedisServer | undefined;
  let example: ExampleProcess | undefined;
  try {
    example = await ExampleProcess.start("rate_limit", {
      args: [
        "--redis",
        `redis://127.0.0.1:${port}`,
        "--limit",
        "1",
        "--window",
        "0.5",
        "--sliding",
        "--fail-closed",
      ],
      permissions: PERMISSIONS,
    });
    const haproxy = await HaproxySimulator.connectSocket({ port: example.port });
    try {
      await haproxy.hello();
      const [vars, ms] = await rateLimit(haproxy, "bob");
      assert.deepEqual(vars, { "txn.allowed": false, "txn.degraded": true });
      assert.ok(ms < 200, `answered in ${ms} ms`);
      redis = await RedisServer.start(port);
      assert.deepEqual(await untilRecovered(haproxy, "bob"), {
        "txn.allowed": true,
        "txn.remaining": 0,
      });
      assert.deepEqual((await rateLimit(haproxy, "bob"))[0], {
        "txn.allowed": false,
        "txn.remaining": 0,
      });
      await delay(550);
      assert.deepEqual((await rateLimit(haproxy, "bob"))[0], {
        "txn.allowed": true,
        "txn.remaining": 0,
      });
    } finally {
      haproxy.close();
    }
    assert.deepEqual(await example.stop(), { code: 0, signal: null }, example.output);
    assert.match(example.output, /Redis unavailable \(offline: .*\); answering allowed=false/);
  } finally {
    example?.kill();
    await redis?.stop();
  }
});

test("examples/rate_limit exits with status 2 on a bad flag value", async () => {
  for (
    const [args, message] of [
      [["--limit", "0"], /--limit: invalid value "0"/],
      [["--window", "soon"], /--window: invalid value "soon"/],
      [["--sliding=yes"], /--sliding takes no value/],
    ] as const
  ) {
    const example = ExampleProcess.spawn("rate_limit", { args, permissions: PERMISSIONS });
    try {
      const exit = await within(example.exited, 20_000, "the example to exit");
      assert.deepEqual(exit, { code: 2, signal: null }, example.output);
      assert.match(example.output, message);
    } finally {
      example.kill();
    }
  }
});
