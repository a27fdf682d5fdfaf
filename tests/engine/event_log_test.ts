// The agent's log lines: fields on every record, and warnings that repeat with load summarised
// per interval.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Message } from "../../src/codec/message.ts";
import { EventLog } from "../../src/engine/event_log.ts";
import type { NotifyEvent, NotifyOutcome } from "../../src/engine/events.ts";
import { RecordingLogger } from "./_helpers.ts";

const SETTINGS = {
  logRepeatInterval: 1000,
  processingTimeout: 500,
  maxConnections: 8,
  maxInFlight: 4,
};
const CONNECTION = { id: 3, peer: "10.0.0.1:4000", engineId: "e-1" };

function notify(outcome: NotifyOutcome, streamId = 1, error?: unknown): NotifyEvent {
  return {
    connection: CONNECTION,
    streamId,
    frameId: 1,
    messages: [new Message("check", [])],
    outcome,
    durationMs: 12.34567,
    error,
  };
}

test("EventLog writes a failed NOTIFY with its fields: connection, peer, engine-id, ids, messages, error", () => {
  const logger = new RecordingLogger();
  const log = new EventLog(logger, SETTINGS, () => 0);
  const error = new Error("db down");
  log.notify(notify("error", 7, error));
  log.notify(notify("ok"));
  assert.equal(logger.lines.length, 1);
  const [line] = logger.lines;
  assert.equal(line.level, "error");
  assert.equal(
    line.message,
    "SPOA: handler failed for NOTIFY 7/1 (check); sent the fallback actions",
  );
  assert.deepEqual(line.fields, {
    connection: 3,
    peer: "10.0.0.1:4000",
    engineId: "e-1",
    streamId: 7,
    frameId: 1,
    messages: ["check"],
    outcome: "error",
    durationMs: 12.346,
    error,
  });
});

test("EventLog writes the first of a repeated warning, counts the rest, and summarises them after the interval", () => {
  const logger = new RecordingLogger();
  let now = 0;
  const log = new EventLog(logger, SETTINGS, () => now);
  log.notify(notify("deadline", 1));
  for (let i = 0; i < 500; i++) {
    now += 1;
    log.notify(notify("deadline", 3 + 2 * i));
  }
  // Another kind is counted on its own.
  log.notify(notify("overload", 2001));
  assert.deepEqual(logger.lines.map((line) => line.message), [
    "SPOA: NOTIFY 1/1 (check) missed the 500 ms processing deadline; sent the fallback actions",
    "SPOA: NOTIFY 2001/1 (check) came with maxInFlight (4) handlers running; sent the fallback actions",
  ]);
  now = 1200;
  log.notify(notify("deadline", 3001));
  assert.equal(logger.lines.length, 4);
  assert.equal(
    logger.lines[2].message,
    'SPOA: 500 more "deadline" events in the 1.2 s after the one logged',
  );
  assert.equal(logger.lines[2].fields?.count, 500);
  assert.match(logger.lines[3].message, /NOTIFY 3001\/1/);
  now = 1300;
  log.notify(notify("deadline", 3003));
  log.flush();
  assert.equal(
    logger.lines[4].message,
    'SPOA: 1 more "deadline" events in the 0.1 s after the one logged',
  );
});

test("EventLog with a repeat interval of 0 writes every warning", () => {
  const logger = new RecordingLogger();
  const log = new EventLog(logger, { ...SETTINGS, logRepeatInterval: 0 }, () => 0);
  for (let i = 0; i < 5; i++) log.notify(notify("too-big", 1 + 2 * i));
  assert.equal(logger.at("warn").length, 5);
});

test("EventLog: HAProxy's normal and idle DISCONNECTs are debug lines, others warnings; peer text is escaped", () => {
  const logger = new RecordingLogger();
  const log = new EventLog(logger, SETTINGS, () => 0);
  for (const status of [0, 2, 3]) {
    log.disconnect({ connection: CONNECTION, side: "haproxy", status, message: "x\ny" });
  }
  log.disconnect({ connection: CONNECTION, side: "agent", status: 4, message: "bad" });
  assert.deepEqual(logger.lines.map((line) => [line.level, line.fields?.status]), [
    ["debug", 0],
    ["debug", 2],
    ["warn", 3],
  ]);
  assert.ok(logger.lines.every((line) => line.message.includes("x\\ny")));
});

test("EventLog summarises protocol errors too: a peer sending garbage again and again cannot flood the log", () => {
  const logger = new RecordingLogger();
  let now = 0;
  const log = new EventLog(logger, SETTINGS, () => now);
  for (let i = 0; i < 100; i++) {
    now += 1;
    log.protocolError({ connection: { ...CONNECTION, id: i }, status: 4, message: "bad frame" });
  }
  assert.equal(logger.at("error").length, 1);
  now = 2000;
  log.protocolError({ connection: CONNECTION, status: 4, message: "bad frame" });
  assert.equal(logger.at("error").length, 2);
  assert.equal(logger.at("warn")[0].fields?.count, 99);
});
