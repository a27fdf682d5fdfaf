// The loggers that ship with the library: console from a level up, and JSON lines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { consoleLogger, defaultLogger, jsonLogger, silentLogger } from "../../src/engine/logger.ts";
import { SpopError } from "../../src/codec/errors.ts";

test("jsonLogger() writes one JSON object per line: time, level, msg, then the fields", () => {
  const lines: string[] = [];
  const logger = jsonLogger({ write: (line) => lines.push(line), now: () => new Date(0) });
  logger.debug("not written: below info");
  logger.info("SPOA: listening", { address: { transport: "tcp", port: 12345 } });
  logger.warn("SPOA: x", { peer: "1.2.3.4:5", status: 2, big: 2n ** 70n, gone: undefined });
  assert.equal(lines.length, 2);
  assert.deepEqual(JSON.parse(lines[0]), {
    time: "1970-01-01T00:00:00.000Z",
    level: "info",
    msg: "SPOA: listening",
    address: { transport: "tcp", port: 12345 },
  });
  assert.deepEqual(JSON.parse(lines[1]), {
    time: "1970-01-01T00:00:00.000Z",
    level: "warn",
    msg: "SPOA: x",
    peer: "1.2.3.4:5",
    status: 2,
    big: "1180591620717411303424",
  });
  assert.ok(lines.every((line) => !line.includes("\n")));
});

test("jsonLogger() writes an error as its name, message, status and stack; a field cannot replace msg", () => {
  const lines: string[] = [];
  const logger = jsonLogger({ level: "debug", write: (line) => lines.push(line) });
  logger.error("SPOA: failed", { error: new SpopError(3, "too big"), msg: "forged" });
  logger.debug("SPOA: odd", { error: "plain text" });
  const first = JSON.parse(lines[0]);
  assert.equal(first.msg, "SPOA: failed");
  assert.equal(first.error.name, "SpopError");
  assert.equal(first.error.message, "too big");
  assert.equal(first.error.status, 3);
  assert.equal(typeof first.error.stack, "string");
  assert.equal(JSON.parse(lines[1]).error, "plain text");
  assert.ok(!Number.isNaN(Date.parse(first.time)));
});

test("consoleLogger() writes from its level up and nothing below", () => {
  const original = { ...console };
  const seen: string[] = [];
  for (const level of ["debug", "info", "warn", "error"] as const) {
    console[level] = (message: string) => void seen.push(`${level}:${message}`);
  }
  try {
    const logger = consoleLogger({ level: "info" });
    logger.debug("a");
    logger.info("b");
    logger.warn("c", { peer: "p" });
    logger.error("d");
  } finally {
    Object.assign(console, original);
  }
  assert.deepEqual(seen, ["info:b", "warn:c", "error:d"]);
});

test("defaultLogger sends warnings and errors to console, with their fields, and drops the rest", () => {
  const seen: Array<[string, unknown[]]> = [];
  const original = { warn: console.warn, error: console.error, log: console.log };
  const record = (name: string) => (...args: unknown[]) => void seen.push([name, args]);
  console.warn = record("warn");
  console.error = record("error");
  console.log = record("log");
  try {
    const cause = new Error("cause");
    defaultLogger.debug("debug line", { n: 1 });
    defaultLogger.info("info line", { n: 2 });
    defaultLogger.warn("warn line", { n: 3 });
    defaultLogger.error("error line", { error: cause });
    defaultLogger.warn("no fields");
    assert.deepEqual(seen, [
      ["warn", ["warn line", { n: 3 }]],
      ["error", ["error line", { error: cause }]],
      ["warn", ["no fields"]],
    ]);
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
