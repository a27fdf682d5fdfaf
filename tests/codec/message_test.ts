// Messages: their arguments by name, position and iteration, and lists of messages, whose names
// come through a cache keyed by their bytes that must never answer a name for other bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { decodeMessages, Message, writeMessages } from "../../src/codec/message.ts";
import { NamedValue } from "../../src/codec/kv_list.ts";
import { DataType } from "../../src/codec/typed_value.ts";
import { Ipv4Address, Ipv6Address } from "../../src/codec/ip_address.ts";

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

test("decodeMessages() gives lazily read arguments the same values and types as eager ones, every type", () => {
  const writer = new ByteWriter(256);
  const args = [
    new NamedValue("n", DataType.Null, null),
    new NamedValue("b", DataType.Boolean, true),
    new NamedValue("i", DataType.Int64, -42),
    new NamedValue("u", DataType.Uint64, 2n ** 64n - 1n),
    new NamedValue("v4", DataType.Ipv4, Ipv4Address.parse("192.0.2.7")),
    new NamedValue("v6", DataType.Ipv6, Ipv6Address.parse("2001:db8::7")),
    new NamedValue("s", DataType.String, "héllo".repeat(100)),
    new NamedValue("bin", DataType.Binary, new Uint8Array([0, 1, 254, 255])),
    new NamedValue("", DataType.String, "nameless"),
  ];
  writeMessages(writer, [{ name: "all", args }]);
  const bytes = writer.take();
  // By name first (one argument at a time), then all at once: the same answers.
  const [byName] = decodeMessages(bytes);
  for (const arg of args) {
    assert.equal(byName.has(arg.name), true);
    assert.deepEqual(byName.get(arg.name), arg.value, arg.name);
    assert.equal(byName.arg(arg.name)?.type, arg.type, arg.name);
  }
  assert.equal(byName.get("absent"), undefined);
  assert.equal(byName.has("absent"), false);
  const [whole] = decodeMessages(bytes);
  assert.equal(whole.size, args.length);
  assert.deepEqual(
    whole.args.map((arg) => [arg.name, arg.type]),
    args.map((a) => [a.name, a.type]),
  );
  assert.deepEqual(whole.toObject().s, "héllo".repeat(100));
  assert.equal(whole.at(-1)?.value, "nameless");
  // A value read twice is the same object; binaries are views of the frame.
  assert.equal(byName.get("v4"), byName.get("v4"));
  assert.equal((byName.get("bin") as Uint8Array).buffer, bytes.buffer);
});

test("decodeMessages() copies addresses out of the frame: a kept address pins at most 4 KiB", () => {
  const writer = new ByteWriter(64);
  writeMessages(writer, [{
    name: "m",
    args: [new NamedValue("ip", DataType.Ipv4, Ipv4Address.parse("10.1.2.3"))],
  }]);
  const frame = new Uint8Array(64 * 1024);
  const bytes = writer.take();
  frame.set(bytes);
  const ip = decodeMessages(frame, 0, bytes.length)[0].get("ip") as Ipv4Address;
  assert.notEqual(ip.bytes.buffer, frame.buffer);
  assert.ok(ip.bytes.buffer.byteLength <= 4096);
  frame.fill(0);
  assert.equal(String(ip), "10.1.2.3");
});

test("decodeMessages() still checks every argument up front: a bad one fails the whole frame", () => {
  const writer = new ByteWriter(64);
  writeMessages(writer, [{
    name: "m",
    args: [
      new NamedValue("a", DataType.String, "x"),
      new NamedValue("b", DataType.String, "y"),
    ],
  }]);
  const bytes = writer.take();
  // Make the second string's length run past the end.
  bytes[bytes.length - 2] = 50;
  assert.throws(() => decodeMessages(bytes), /runs past the end/);
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
