// SPOP status codes and HAProxy's text for each (NOTES §9: spoe_frm_err_reasons in 2.6,
// spop_err_reasons in 3.2; identical in all versions).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Status, statusMessage } from "../../src/codec/status.ts";

// NOTES §9, code by code.
const HAPROXY_TEXT: ReadonlyArray<readonly [number, string]> = [
  [0, "normal"],
  [1, "I/O error"],
  [2, "a timeout occurred"],
  [3, "frame is too big"],
  [4, "invalid frame received"],
  [5, "version value not found"],
  [6, "max-frame-size value not found"],
  [7, "capabilities value not found"],
  [8, "unsupported version"],
  [9, "max-frame-size too big or too small"],
  [10, "fragmentation not supported"],
  [11, "invalid interlaced frames"],
  [12, "frame-id not found"],
  [13, "resource allocation error"],
  [99, "an unknown error occurred"],
];

test("statusMessage() gives HAProxy's own text for every code it names", () => {
  for (const [code, text] of HAPROXY_TEXT) assert.equal(statusMessage(code), text, `code ${code}`);
  assert.deepEqual(
    Object.values(Status).sort((a, b) => a - b),
    HAPROXY_TEXT.map(([code]) => code),
    "Status names exactly these codes",
  );
});

test("statusMessage() names an agent-defined code by its number", () => {
  assert.equal(statusMessage(14), "status 14");
  assert.equal(statusMessage(98), "status 98");
  assert.equal(statusMessage(256), "status 256");
});
