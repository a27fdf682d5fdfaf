// Peer-controlled text in log lines: controls escaped, length bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { logText } from "../../src/engine/log_text.ts";

test("logText() escapes every control character, so a peer cannot forge a log line", () => {
  assert.equal(logText("a\nb\rc\td"), "a\\nb\\rc\\td");
  assert.equal(logText("\u0000\u001b\u001f"), "\\u0000\\u001b\\u001f");
  assert.equal(logText("\u007f\u0080\u009f"), "\\u007f\\u0080\\u009f");
  assert.equal(logText("\u2028\u2029"), "\\u2028\\u2029");
  assert.equal(logText(" ~\u00a0é€"), " ~\u00a0é€", "printable text is kept");
});

test("logText() keeps 200 characters and marks the cut", () => {
  assert.equal(logText("x".repeat(200)), "x".repeat(200));
  assert.equal(logText("x".repeat(201)), `${"x".repeat(200)}…`);
  // The cut comes first: escapes do not count towards the 200.
  assert.equal(logText("\n".repeat(201)), `${"\\n".repeat(200)}…`);
});
