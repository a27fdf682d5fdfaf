// Lists of messages: names come through a cache keyed by their bytes; it must never answer a name
// for other bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { decodeMessages, writeMessages } from "../../src/codec/message.ts";
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
