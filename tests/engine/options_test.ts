// The agent's options: every default, and the message of each refused value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setVar } from "../../src/codec/action.ts";
import { defaultLogger, silentLogger } from "../../src/engine/logger.ts";
import { MAX_FRAME_SIZE_LIMIT, resolveOptions } from "../../src/engine/options.ts";

test("resolveOptions() fills in every documented default", () => {
  assert.deepEqual(resolveOptions(), {
    maxConnections: 1024,
    maxInFlight: 64,
    maxFrameSize: 65532,
    fragmentation: true,
    maxFragmentedSize: 1048576,
    maxFragments: 4096,
    helloTimeout: 10000,
    idleTimeout: 0,
    frameTimeout: 10000,
    writeTimeout: 10000,
    processingTimeout: 500,
    fallbackActions: [],
    shutdownTimeout: 5000,
    logger: defaultLogger,
    logRepeatInterval: 10000,
  });
  assert.equal(MAX_FRAME_SIZE_LIMIT, 16 * 1024 * 1024);
});

test("resolveOptions() keeps every value given, at the edges of each range", () => {
  const fallbackActions = [setVar("txn", "fallback", true)];
  const given = {
    maxConnections: 1,
    maxInFlight: 1,
    maxFrameSize: 256,
    fragmentation: false,
    maxFragmentedSize: 256,
    maxFragments: 1,
    helloTimeout: 0,
    idleTimeout: 2 ** 31 - 1,
    frameTimeout: 0,
    writeTimeout: 1,
    processingTimeout: 0,
    fallbackActions,
    shutdownTimeout: 0,
    logger: silentLogger,
    logRepeatInterval: 0,
  };
  assert.deepEqual(resolveOptions(given), given);
  assert.equal(resolveOptions({ maxFrameSize: MAX_FRAME_SIZE_LIMIT }).maxFrameSize, 16777216);
  assert.equal(
    resolveOptions({ helloTimeout: 0.5 }).helloTimeout,
    0.5,
    "durations may be fractional",
  );
});

test("resolveOptions() says which option is wrong and what it must be", () => {
  const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
    [{ maxConnections: 0 }, "Invalid option maxConnections: 0 (must be an integer, at least 1)"],
    [{ maxInFlight: 1.5 }, "Invalid option maxInFlight: 1.5 (must be an integer, at least 1)"],
    [
      { maxFrameSize: 255 },
      "Invalid option maxFrameSize: 255 (must be an integer, from 256 to 16777216)",
    ],
    [
      { maxFrameSize: 16777217 },
      "Invalid option maxFrameSize: 16777217 (must be an integer, from 256 to 16777216)",
    ],
    [
      { maxFragmentedSize: 255 },
      "Invalid option maxFragmentedSize: 255 (must be an integer, at least 256)",
    ],
    [{ maxFragments: 0 }, "Invalid option maxFragments: 0 (must be an integer, at least 1)"],
    [
      { maxFragments: 2 ** 53 },
      `Invalid option maxFragments: ${2 ** 53} (must be an integer, at least 1)`,
    ],
    [
      { helloTimeout: -1 },
      "Invalid option helloTimeout: -1 (must be 0 to 2147483647 milliseconds)",
    ],
    [
      { idleTimeout: 2 ** 31 },
      "Invalid option idleTimeout: 2147483648 (must be 0 to 2147483647 milliseconds)",
    ],
    [
      { processingTimeout: Infinity },
      "Invalid option processingTimeout: Infinity (must be 0 to 2147483647 milliseconds)",
    ],
    [
      { shutdownTimeout: Number.NaN },
      "Invalid option shutdownTimeout: NaN (must be 0 to 2147483647 milliseconds)",
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => resolveOptions(options), { name: "RangeError", message });
  }
});
