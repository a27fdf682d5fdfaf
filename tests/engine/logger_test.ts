// The two loggers the library provides: the default one (warnings and errors to console, nothing
// else) and the silent one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultLogger, silentLogger } from "../../src/engine/logger.ts";

test("defaultLogger sends warnings and errors to console, with their details, and drops the rest", () => {
  const seen: Array<[string, unknown[]]> = [];
  const original = { warn: console.warn, error: console.error, log: console.log };
  const record = (name: string) => (...args: unknown[]) => void seen.push([name, args]);
  console.warn = record("warn");
  console.error = record("error");
  console.log = record("log");
  try {
    const cause = new Error("cause");
    defaultLogger.debug("debug line", 1);
    defaultLogger.info("info line", 2);
    defaultLogger.warn("warn line", 3, "x");
    defaultLogger.error("error line", cause);
    assert.deepEqual(seen, [["warn", ["warn line", 3, "x"]], ["error", ["error line", cause]]]);
  } finally {
    Object.assign(console, original);
  }
});

test("silentLogger drops everything", () => {
  const seen: unknown[] = [];
  const original = { warn: console.warn, error: console.error, log: console.log };
  console.warn = console.error = console.log = (...args: unknown[]) => void seen.push(args);
  try {
    silentLogger.debug("d");
    silentLogger.info("i");
    silentLogger.warn("w");
    silentLogger.error("e");
  } finally {
    Object.assign(console, original);
  }
  assert.deepEqual(seen, []);
});
