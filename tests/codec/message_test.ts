// Messages: their arguments by name, position and iteration, and lists of messages, whose names
// come through a cache keyed by their bytes that must never answer a name for other bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { decodeMessages, Message, writeMessages } from "../../src/codec/message.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { DataType } from "../../src/codec/typed_value.ts";

test("decodeMessages() gives each name back exactly, even names sharing a cache slot", () => {
  // 26 × 26 two-letter names (and as many argument names) overflow a 256-slot cache many times.
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const names: string[] = [];
  for (const a of letters) for (const b of letters) names.push(a + b);
  for (let round = 0; round < 2; round++) {
    for (const name of names) {
      const writer = new ByteWriter(64);
      writeMessages(writer, [{
        name,
        args: [new NamedValue(name.toUpperCase(), DataType.String, name)],
      }]);
      const [message] = decodeMessages(writer.take());
      assert.equal(message.name, name);
      assert.equal(message.args[0].name, name.toUpperCase());
      assert.equal(message.get(name.toUpperCase()), name);
    }
  }
});

test("decodeMessages() never gives a longer cached name for its prefix, nor the other way round", () => {
  // Every prefix of many 40-byte names, longest first then shortest first: names of different
  // lengths sharing a cache slot, one a prefix of the other, happen many times over.
  let state = 12345;
  const random = () => (state = Math.imul(state ^ (state >>> 13), 0x5bd1e995) >>> 0);
  for (let round = 0; round < 60; round++) {
    let base = "";
    while (base.length < 40) base += String.fromCharCode(97 + random() % 26);
    const prefixes = Array.from({ length: 40 }, (_, i) => base.slice(0, i + 1));
    for (const name of [...prefixes.toReversed(), ...prefixes]) {
      const writer = new ByteWriter(64);
      writeMessages(writer, [{ name, args: [new NamedValue(name, DataType.Boolean, true)] }]);
      const [message] = decodeMessages(writer.take());
      assert.equal(message.name, name);
      assert.equal(message.args[0].name, name);
    }
  }
});

test("Message gives its arguments by name, by position and in order", () => {
  const message = new Message("check", [
    new NamedValue("ip", DataType.String, "192.0.2.7"),
    new NamedValue("", DataType.Int32, 7),
    new NamedValue("missing", DataType.Null, null),
    new NamedValue("ip", DataType.String, "second"),
  ]);
  assert.equal(message.get("ip"), "192.0.2.7", "the first of a repeated name");
  assert.equal(message.get(""), 7);
  assert.equal(message.get("missing"), null);
  assert.equal(message.get("absent"), undefined);
  assert.equal(message.arg("missing")?.type, DataType.Null);
  assert.equal(message.arg("ip")?.value, "192.0.2.7");
  assert.equal(message.arg("absent"), undefined);
  assert.equal(message.has("missing"), true);
  assert.equal(message.has("absent"), false);
  assert.equal(message.at(0)?.name, "ip");
  assert.equal(message.at(-1)?.value, "second");
  assert.equal(message.at(4), undefined);
  assert.deepEqual([...message].map((arg) => arg.value), ["192.0.2.7", 7, null, "second"]);
});

test("Message.toObject() keeps the first value of each name, as plain writable keys", () => {
  const message = new Message("m", [
    new NamedValue("a", DataType.Int32, 1),
    new NamedValue("__proto__", DataType.String, "p"),
    new NamedValue("a", DataType.Int32, 2),
  ]);
  const object = message.toObject();
  assert.deepEqual(Object.keys(object), ["a", "__proto__"]);
  assert.equal(object.a, 1);
  assert.equal(Object.getOwnPropertyDescriptor(object, "__proto__")?.value, "p");
  assert.equal(
    Object.getPrototypeOf(object),
    Object.prototype,
    "__proto__ is a key, not a prototype",
  );
  object.a = 5;
  assert.equal(object.a, 5, "writable");
  assert.equal(delete object.a, true, "configurable");
  assert.deepEqual(Object.keys(object), ["__proto__"]);
});

test("writeMessages() takes up to 255 arguments per message and rejects more", () => {
  const args = (count: number) =>
    Array.from({ length: count }, (_, i) => new NamedValue(`a${i}`, DataType.Int32, i));
  const writer = new ByteWriter(64);
  writeMessages(writer, [{ name: "full", args: args(255) }]);
  const [message] = decodeMessages(writer.take());
  assert.equal(message.args.length, 255);
  assert.equal(message.get("a254"), 254);
  assert.throws(
    () => writeMessages(new ByteWriter(64), [{ name: "over", args: args(256) }]),
    { name: "RangeError", message: 'Cannot encode message "over": 256 arguments (max 255)' },
  );
});
