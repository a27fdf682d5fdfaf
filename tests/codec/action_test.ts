// The set-var/unset-var actions of an ACK: the checks on scopes and names (with what HAProxy would
// do otherwise), and where writeActions() stops when the actions outgrow a frame.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeActions,
  MAX_VAR_NAME_LENGTH,
  setVar,
  unsetVar,
  writeActions,
} from "../../src/codec/action.ts";
import { ByteWriter } from "../../src/codec/byte_writer.ts";

test("setVar() and unsetVar() say which scope or name they refuse, and why", () => {
  for (const scope of ["bogus", 5, -1, 1.5]) {
    assert.throws(() => setVar(scope as "txn", "ok", 1), {
      name: "TypeError",
      message: `Invalid variable scope ${JSON.stringify(scope)}: use proc, sess, txn, req or res`,
    });
  }
  for (const name of ["has space", "dash-ed", "", "é"]) {
    assert.throws(() => unsetVar("txn", name), {
      name: "TypeError",
      message: `Invalid variable name ${
        JSON.stringify(name)
      }: HAProxy accepts only [A-Za-z0-9_.] and silently drops other names`,
    });
  }
  const long = "n".repeat(MAX_VAR_NAME_LENGTH + 1);
  assert.throws(() => setVar("sess", long, 1), {
    name: "TypeError",
    message: `Invalid variable name "${long}": ${long.length} characters; HAProxy's full name ` +
      `<scope>.<prefix>.<name> must fit in 63 bytes`,
  });
  assert.equal(setVar("sess", "n".repeat(MAX_VAR_NAME_LENGTH), 1).name.length, 56);
});

test("a name is checked every time, however many names were checked before", () => {
  // More distinct names than the agent remembers as already checked.
  for (let i = 0; i < 1100; i++) assert.equal(setVar("txn", `v${i}`, i).name, `v${i}`);
  assert.throws(() => setVar("txn", "v 1", 1), TypeError);
  assert.throws(() => setVar("txn", "v0-", 1), TypeError);
});

test("writeActions() stops only once the frame is past stopPast, never at it", () => {
  const actions = [setVar("txn", "a", 1), setVar("txn", "b", 2), unsetVar("txn", "c")];
  const sizes = actions.map((action) => {
    const writer = new ByteWriter(16);
    writeActions(writer, [action]);
    return writer.length;
  });
  const names = (bytes: Uint8Array) => decodeActions(bytes).map((action) => action.name);
  // Exactly at stopPast after two actions: the third is still written.
  const at = new ByteWriter(16);
  writeActions(at, actions, sizes[0] + sizes[1]);
  assert.deepEqual(names(at.take()), ["a", "b", "c"]);
  // One byte past it after two actions: the third is not.
  const past = new ByteWriter(16);
  writeActions(past, actions, sizes[0] + sizes[1] - 1);
  assert.deepEqual(names(past.take()), ["a", "b"]);
  // Counted from the writer's start: what it held before counts.
  const after = new ByteWriter(16);
  after.bytes(new Uint8Array(10));
  writeActions(after, actions, 10 + sizes[0] - 1);
  assert.deepEqual(names(after.take().subarray(10)), ["a"]);
});
