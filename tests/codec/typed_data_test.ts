// Encoding typed data: a value that does not match its type is refused with a message that names
// the type, what it expected and what it got (the decoding side is in typed_value_test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { Ipv4Address, Ipv6Address } from "../../src/codec/ip_address.ts";
import { decodeText, writeTypedValue } from "../../src/codec/typed_data.ts";
import { DataType, type SpopValue, TypedValue } from "../../src/codec/typed_value.ts";

function encode(type: number, value: unknown): void {
  writeTypedValue(new ByteWriter(8), new TypedValue(type as DataType, value as SpopValue));
}

test("writeTypedValue() refuses a value of the wrong kind for its type, saying which", () => {
  const cases: ReadonlyArray<readonly [DataType, unknown, string]> = [
    [DataType.Boolean, 1, "Cannot encode BOOL: expected a boolean, got number"],
    [DataType.Int32, "1", "Cannot encode INT32: expected an integer, got string"],
    [DataType.Uint64, true, "Cannot encode UINT64: expected an integer, got boolean"],
    [DataType.Ipv4, "192.0.2.7", "Cannot encode IPV4: expected an Ipv4Address, got string"],
    [
      DataType.Ipv4,
      Ipv6Address.parse("::1"),
      "Cannot encode IPV4: expected an Ipv4Address, got object",
    ],
    [DataType.Ipv6, "::1", "Cannot encode IPV6: expected an Ipv6Address, got string"],
    [
      DataType.Ipv6,
      Ipv4Address.parse("192.0.2.7"),
      "Cannot encode IPV6: expected an Ipv6Address, got object",
    ],
    [DataType.String, 42, "Cannot encode STRING: expected a string, got number"],
    [DataType.String, new Uint8Array(2), "Cannot encode STRING: expected a string, got object"],
    [DataType.Binary, "bytes", "Cannot encode BINARY: expected a Uint8Array, got string"],
  ];
  for (const [type, value, message] of cases) {
    assert.throws(() => encode(type, value), { name: "TypeError", message });
  }
});

test("writeTypedValue() refuses a negative unsigned integer and an unknown type", () => {
  assert.throws(() => encode(DataType.Uint32, -5), {
    name: "RangeError",
    message: "Cannot encode UINT32: -5 is negative",
  });
  assert.throws(() => encode(DataType.Uint64, -1n), {
    name: "RangeError",
    message: "Cannot encode UINT64: -1 is negative",
  });
  assert.throws(() => encode(10, 1), {
    name: "TypeError",
    message: "Cannot encode typed data: unknown type id 10",
  });
});

test("decodeText() keeps a leading byte order mark, in names and in values", () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x61]);
  assert.equal(decodeText(bytes, 0, 4), "\ufeffa", "strict (names)");
  assert.equal(decodeText(bytes, 0, 4, true), "\ufeffa", "lossy (STRING values)");
});
