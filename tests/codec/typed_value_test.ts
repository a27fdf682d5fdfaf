// Typed data (NOTES §5): values, their constructors and inference, addresses, strings, and the
// set-var/unset-var builders.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ActionType,
  ByteWriter,
  DataType,
  dataTypeName,
  decodeActions,
  encodeFrame,
  FrameType,
  Ipv4Address,
  Ipv6Address,
  MAX_VAR_NAME_LENGTH,
  parseIpAddress,
  scopeName,
  setVar,
  type SpopValue,
  toTypedValue,
  TypedValue,
  unsetVar,
  Value,
  VarScope,
  writeActions,
} from "../../src/codec/mod.ts";
import {
  decodeText,
  readString,
  readTypedValue,
  writeTypedValue,
} from "../../src/codec/typed_data.ts";
import { fromHex, toHex } from "./_golden.ts";

const utf8 = new TextEncoder();

function encode(value: TypedValue): string {
  const writer = new ByteWriter(16);
  writeTypedValue(writer, value);
  return toHex(writer.take());
}

function decode(hex: string): TypedValue {
  const bytes = fromHex(hex);
  const cursor = { pos: 0 };
  const value = readTypedValue(bytes, cursor, bytes.length);
  assert.equal(cursor.pos, bytes.length, "the whole value is consumed");
  return value;
}

function roundTrip(value: TypedValue): TypedValue {
  return decode(encode(value));
}

/** The reference encoding of a STRING body: varint length, then TextEncoder's bytes. */
function referenceString(text: string): string {
  const bytes = utf8.encode(text);
  const writer = new ByteWriter(16);
  writer.varint(bytes.length);
  return toHex(writer.take()) + toHex(bytes);
}

describe("integer types", () => {
  const cases: Array<[string, TypedValue, string, number | bigint]> = [
    ["INT32 min", Value.int32(-(2 ** 31)), "02f0f1fefebefefefefe0e", -(2 ** 31)],
    ["INT32 max", Value.int32(2 ** 31 - 1), "02fff0fefe3e", 2 ** 31 - 1],
    ["INT32 -42", Value.int32(-42), "02f6eefefefefefefefe0e", -42],
    ["UINT32 max", Value.uint32(2 ** 32 - 1), "03fff0fefe7e", 2 ** 32 - 1],
    ["UINT32 0", Value.uint32(0), "0300", 0],
    ["INT64 min", Value.int64(-(2n ** 63n)), "04f0f1fefefefefefefe06", -(2n ** 63n)],
    ["INT64 max", Value.int64(2n ** 63n - 1n), "04fff0fefefefefefefe06", 2n ** 63n - 1n],
    ["INT64 -1", Value.int64(-1), "04fff0fefefefefefefe0e", -1],
    ["UINT64 max", Value.uint64(2n ** 64n - 1n), "05fff0fefefefefefefe0e", 2n ** 64n - 1n],
    ["UINT64 2^53", Value.uint64(2n ** 53n), "05f0f1fefefefefe7e", 2n ** 53n],
  ];
  for (const [name, value, hex, back] of cases) {
    test(`writeTypedValue() and readTypedValue() round-trip ${name}`, () => {
      assert.equal(encode(value), hex);
      const decoded = roundTrip(value);
      assert.equal(decoded.type, value.type);
      assert.equal(decoded.value, back);
    });
  }

  test("writeTypedValue() sends a negative INT32 sign-extended, as a 10-byte varint", () => {
    assert.equal(encode(Value.int32(-42)).length / 2, 11);
    assert.equal(encode(Value.int32(-1)), "02fff0fefefefefefefe0e");
    // Never the 32-bit pattern, which HAProxy would read as 4294967254 (NOTES §5).
    assert.notEqual(encode(Value.int32(-42)), "02f6eefefe7e");
  });

  test("Value constructors store exact bigints as numbers", () => {
    assert.equal(Value.int64(5n).value, 5);
    assert.equal(Value.uint64(2n ** 53n - 1n).value, Number.MAX_SAFE_INTEGER);
    assert.equal(Value.uint64(2n ** 53n).value, 2n ** 53n);
    assert.equal(Value.int64(-(2n ** 53n) + 1n).value, -Number.MAX_SAFE_INTEGER);
    assert.equal(Value.int64(-(2n ** 53n)).value, -(2n ** 53n));
  });

  test("Value constructors reject integers out of their type's range with RangeError", () => {
    const bad: Array<() => unknown> = [
      () => Value.int32(2 ** 31),
      () => Value.int32(-(2 ** 31) - 1),
      () => Value.int32(2n ** 31n),
      () => Value.int32(1.5),
      () => Value.uint32(-1),
      () => Value.uint32(2 ** 32),
      () => Value.int64(2n ** 63n),
      () => Value.int64(-(2n ** 63n) - 1n),
      () => Value.int64(2 ** 60),
      () => Value.int64(Number.NaN),
      () => Value.uint64(-1n),
      () => Value.uint64(2n ** 64n),
      () => Value.uint64(Number.POSITIVE_INFINITY),
    ];
    for (const fn of bad) assert.throws(fn, RangeError, String(fn));
  });

  test("Value constructors reject values of the wrong kind with TypeError", () => {
    const bad: Array<() => unknown> = [
      () => Value.int32("5" as unknown as number),
      () => Value.uint64(null as unknown as number),
      () => Value.string(5 as unknown as string),
      () => Value.binary([1, 2] as unknown as Uint8Array),
      () => Value.ipv4("1.2.3"),
      () => Value.ipv6("1:2"),
    ];
    for (const fn of bad) assert.throws(fn, TypeError, String(fn));
  });

  test("writeTypedValue() rejects a negative UINT and a value that does not match its type", () => {
    assert.throws(() => encode(new TypedValue(DataType.Uint32, -1)), RangeError);
    assert.throws(() => encode(new TypedValue(DataType.Uint64, -1n)), RangeError);
    assert.throws(() => encode(new TypedValue(DataType.Int64, 2n ** 64n)), RangeError);
    assert.throws(() => encode(new TypedValue(DataType.Int64, 1.5)), RangeError);
    assert.throws(() => encode(new TypedValue(DataType.Int64, "1")), TypeError);
    assert.throws(() => encode(new TypedValue(DataType.Boolean, 1)), TypeError);
    assert.throws(() => encode(new TypedValue(DataType.String, new Uint8Array(1))), TypeError);
    assert.throws(() => encode(new TypedValue(DataType.Binary, "x")), TypeError);
    assert.throws(() => encode(new TypedValue(DataType.Ipv4, "1.2.3.4")), TypeError);
    assert.throws(() => encode(new TypedValue(DataType.Ipv6, "::1")), TypeError);
    assert.throws(() => encode(new TypedValue(12 as DataType, null)), TypeError);
  });
});

describe("other types", () => {
  test("writeTypedValue() encodes NULL and BOOL as single bytes (type in the low nibble)", () => {
    assert.equal(encode(Value.null()), "00");
    assert.equal(encode(Value.bool(true)), "11");
    assert.equal(encode(Value.bool(false)), "01");
    assert.equal(decode("11").value, true);
    assert.equal(decode("01").value, false);
    assert.equal(decode("00").value, null);
    assert.equal(decode("00").type, DataType.Null);
  });

  test("writeTypedValue() encodes an empty STRING and an empty BINARY as the type byte and 00", () => {
    assert.equal(encode(Value.string("")), "0800");
    assert.equal(encode(Value.binary(new Uint8Array(0))), "0900");
    assert.equal(decode("0800").value, "");
    const empty = decode("0900");
    assert.equal(empty.type, DataType.Binary);
    assert.ok(empty.value instanceof Uint8Array);
    assert.equal(empty.value.length, 0);
  });

  test("readTypedValue() returns BINARY values as views of the frame, addresses as copies", () => {
    const bytes = fromHex("0903deadbe" + "06c0000207" + "0720010db8000000000000000000000007");
    const cursor = { pos: 0 };
    const binary = readTypedValue(bytes, cursor, bytes.length);
    const v4 = readTypedValue(bytes, cursor, bytes.length);
    const v6 = readTypedValue(bytes, cursor, bytes.length);
    assert.ok(binary.value instanceof Uint8Array);
    assert.equal(binary.value.buffer, bytes.buffer);
    assert.equal(toHex(binary.value), "deadbe");
    // A handler that caches an address must not pin the whole read buffer.
    assert.ok(v4.value instanceof Ipv4Address && v6.value instanceof Ipv6Address);
    assert.notEqual(v4.value.bytes.buffer, bytes.buffer);
    assert.equal(v4.value.bytes.buffer.byteLength, 4);
    assert.equal(v6.value.bytes.buffer.byteLength, 16);
    bytes.fill(0);
    assert.equal(String(v4.value), "192.0.2.7");
    assert.equal(String(v6.value), "2001:db8::7");
  });

  test("writeTypedValue() and readTypedValue() round-trip addresses", () => {
    assert.equal(encode(Value.ipv4("192.0.2.7")), "06c0000207");
    assert.equal(encode(Value.ipv6("2001:db8::7")), "0720010db8000000000000000000000007");
    assert.equal(String(roundTrip(Value.ipv6("2001:db8::7")).value), "2001:db8::7");
    assert.equal(String(roundTrip(Value.ipv4(new Uint8Array([10, 0, 0, 1]))).value), "10.0.0.1");
  });

  test("dataTypeName() names the ten types and unknown ids", () => {
    const names = Array.from({ length: 10 }, (_, i) => dataTypeName(i));
    assert.deepEqual(names, [
      "NULL",
      "BOOL",
      "INT32",
      "UINT32",
      "INT64",
      "UINT64",
      "IPV4",
      "IPV6",
      "STRING",
      "BINARY",
    ]);
    assert.equal(dataTypeName(12), "TYPE(12)");
  });
});

describe("toTypedValue()", () => {
  test("toTypedValue() infers NULL, BOOL, INT64, STRING, BINARY and the address types", () => {
    const bytes = new Uint8Array([1]);
    const v4 = Ipv4Address.parse("127.0.0.1");
    const v6 = Ipv6Address.parse("::1");
    const cases: Array<[SpopValue | undefined, DataType, unknown]> = [
      [null, DataType.Null, null],
      [undefined, DataType.Null, null],
      [true, DataType.Boolean, true],
      [false, DataType.Boolean, false],
      [0, DataType.Int64, 0],
      [42, DataType.Int64, 42],
      [-1, DataType.Int64, -1],
      [Number.MAX_SAFE_INTEGER, DataType.Int64, Number.MAX_SAFE_INTEGER],
      [-Number.MAX_SAFE_INTEGER, DataType.Int64, -Number.MAX_SAFE_INTEGER],
      ["x", DataType.String, "x"],
      ["", DataType.String, ""],
      [bytes, DataType.Binary, bytes],
      [v4, DataType.Ipv4, v4],
      [v6, DataType.Ipv6, v6],
    ];
    for (const [input, type, value] of cases) {
      const typed = toTypedValue(input);
      assert.equal(typed.type, type, `type of ${String(input)}`);
      assert.equal(typed.value, value);
    }
  });

  test("toTypedValue() makes a bigint INT64 up to 2^63 - 1 and UINT64 above", () => {
    assert.deepEqual(
      [toTypedValue(5n).type, toTypedValue(5n).value],
      [DataType.Int64, 5],
    );
    assert.equal(toTypedValue(-(2n ** 63n)).type, DataType.Int64);
    assert.equal(toTypedValue(2n ** 63n - 1n).type, DataType.Int64);
    assert.equal(toTypedValue(2n ** 63n).type, DataType.Uint64);
    assert.equal(toTypedValue(2n ** 64n - 1n).value, 2n ** 64n - 1n);
    assert.throws(() => toTypedValue(2n ** 64n), RangeError);
    assert.throws(() => toTypedValue(-(2n ** 63n) - 1n), RangeError);
  });

  test("Value constructors and toTypedValue() say what they refused and why", () => {
    const cases: ReadonlyArray<readonly [() => unknown, string, string]> = [
      [
        () => Value.int32(2 ** 31),
        "RangeError",
        "Cannot make INT32: 2147483648 is outside -2147483648 to 2147483647",
      ],
      [() => Value.uint32(-1), "RangeError", "Cannot make UINT32: -1 is outside 0 to 4294967295"],
      [
        () => Value.int64(2n ** 63n),
        "RangeError",
        "Cannot make INT64: 9223372036854775808 is outside -9223372036854775808 to 9223372036854775807",
      ],
      [
        () => Value.uint64(-1n),
        "RangeError",
        "Cannot make UINT64: -1 is outside 0 to 18446744073709551615",
      ],
      [
        () => Value.int64(2 ** 60),
        "RangeError",
        "Cannot make INT64: 1152921504606847000 is not an exact integer (use a bigint past 2^53)",
      ],
      [
        () => Value.int32(1.5),
        "RangeError",
        "Cannot make INT32: 1.5 is not an exact integer (use a bigint past 2^53)",
      ],
      [
        () => Value.uint64(null as unknown as number),
        "TypeError",
        "Cannot make UINT64: expected a number or bigint, got object",
      ],
      [
        () => Value.string(5 as unknown as string),
        "TypeError",
        "Cannot make STRING: expected a string, got number",
      ],
      [
        () => Value.binary([1] as unknown as Uint8Array),
        "TypeError",
        "Cannot make BINARY: expected a Uint8Array",
      ],
      [
        () => toTypedValue(2 ** 60),
        "RangeError",
        "Cannot send 1152921504606847000: it is not an exact integer (use a bigint past 2^53)",
      ],
      [
        () => toTypedValue(1.5),
        "TypeError",
        "Cannot send 1.5: SPOP has no floating-point type (round it, or send a string)",
      ],
      [
        () => toTypedValue(new Date(0) as unknown as SpopValue),
        "TypeError",
        `Cannot send a value of type object (${String(new Date(0))}) over SPOP`,
      ],
    ];
    for (const [fn, name, message] of cases) assert.throws(fn, { name, message });
  });

  test("Value.ipv4() and Value.ipv6() take text, bytes or an address (kept as is)", () => {
    const v4 = Ipv4Address.parse("192.0.2.7");
    const v6 = Ipv6Address.parse("2001:db8::1");
    assert.equal(Value.ipv4(v4).value, v4);
    assert.equal(Value.ipv6(v6).value, v6);
    assert.equal(String(Value.ipv4(new Uint8Array([192, 0, 2, 8])).value), "192.0.2.8");
    assert.equal(String(Value.ipv6(v6.bytes.slice()).value), "2001:db8::1");
    assert.equal(String(Value.ipv4("192.0.2.9").value), "192.0.2.9");
    assert.equal(String(Value.ipv6("::2").value), "::2");
  });

  test("toTypedValue() keeps the type of a TypedValue", () => {
    const value = Value.uint32(7);
    assert.equal(toTypedValue(value), value);
  });

  test("toTypedValue() rejects 1.5 with TypeError and 2**60 as a number with RangeError", () => {
    assert.throws(() => toTypedValue(1.5), TypeError);
    assert.throws(() => toTypedValue(-0.25), TypeError);
    assert.throws(() => toTypedValue(Number.NaN), TypeError);
    assert.throws(() => toTypedValue(2 ** 60), RangeError);
    assert.throws(() => toTypedValue(-(2 ** 60)), RangeError);
    assert.throws(() => toTypedValue(2 ** 53), RangeError);
    assert.equal(toTypedValue(2n ** 60n).value, 2n ** 60n);
  });

  test("toTypedValue() rejects values SPOP cannot carry with TypeError", () => {
    const bad = [{}, [], new Uint16Array(2), Symbol("s"), () => 1, new Date(0)];
    for (const value of bad) {
      assert.throws(() => toTypedValue(value as unknown as SpopValue), TypeError);
    }
  });
});

describe("IP addresses", () => {
  const v6: Array<[string, string, string]> = [
    ["::", "::", "00000000000000000000000000000000"],
    ["::1", "::1", "00000000000000000000000000000001"],
    ["1::", "1::", "00010000000000000000000000000000"],
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4", "00000000000000000000ffff01020304"],
    ["::FFFF:192.0.2.7", "::ffff:192.0.2.7", "00000000000000000000ffffc0000207"],
    ["2001:0db8:0000:0000:0000:0000:0000:0007", "2001:db8::7", "20010db8000000000000000000000007"],
    ["2001:DB8::1234", "2001:db8::1234", "20010db8000000000000000000001234"],
    ["fe80::1:2", "fe80::1:2", "fe800000000000000000000000010002"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
    // A single zero word is not compressed (RFC 5952 §4.2.2).
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7", "00010000000200030004000500060007"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", "00010002000300040005000600070000"],
    // The longest run of zeros is compressed; the first one on a tie.
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3", "00010000000000020000000000000003"],
    ["1:0:0:0:2:0:0:3", "1::2:0:0:3", "00010000000000000002000000000003"],
    ["1:0:0:2:3:0:0:4", "1::2:3:0:0:4", "00010000000000020003000000000004"],
    ["0:0:1:0:0:0:0:2", "0:0:1::2", "00000000000100000000000000000002"],
    ["1:2::3:4:5:6:7", "1:2:0:3:4:5:6:7", "00010002000000030004000500060007"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8", "00000002000300040005000600070008"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221", "0064ff9b0000000000000000c0000221"],
  ];
  for (const [input, printed, hex] of v6) {
    test(`Ipv6Address.parse() reads "${input}" and prints "${printed}"`, () => {
      const address = Ipv6Address.parse(input);
      assert.equal(toHex(address.bytes), hex);
      assert.equal(String(address), printed);
      assert.equal(JSON.stringify({ a: address }), `{"a":"${printed}"}`);
      assert.equal(String(Ipv6Address.parse(printed)), printed, "printing is stable");
      assert.ok(parseIpAddress(input) instanceof Ipv6Address);
    });
  }

  test("Ipv6Address.parse() rejects invalid text with TypeError", () => {
    const bad = [
      "",
      ":",
      ":::",
      "1::2::3",
      ":1",
      "1:",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "::1:2:3:4:5:6:7:8",
      "12345::",
      "g::",
      "::1.2.3",
      "::256.1.1.1",
      "1.2.3.4",
      "::1.2.3.4:5",
      " ::1",
      "::1 ",
      "fe80::1%eth0",
    ];
    for (const text of bad) assert.throws(() => Ipv6Address.parse(text), TypeError, text);
  });

  test("Ipv4Address.parse() reads and prints dotted quads", () => {
    for (const text of ["0.0.0.0", "127.0.0.1", "192.0.2.7", "255.255.255.255"]) {
      const address = Ipv4Address.parse(text);
      assert.equal(String(address), text);
      assert.deepEqual([...address.bytes], text.split(".").map(Number));
      assert.equal(JSON.stringify(address), `"${text}"`);
      assert.ok(parseIpAddress(text) instanceof Ipv4Address);
    }
  });

  test("Ipv4Address.parse() rejects invalid text with TypeError", () => {
    const bad = [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.0.0.1",
      "01.2.3.4",
      "1.2.3.-4",
      " 1.2.3.4",
      "a.b.c.d",
    ];
    for (const text of bad) assert.throws(() => Ipv4Address.parse(text), TypeError, text);
    assert.throws(() => parseIpAddress("1.2.3"), TypeError);
  });

  test("the address constructors reject the wrong number of bytes with RangeError", () => {
    assert.throws(() => new Ipv4Address(new Uint8Array(3)), RangeError);
    assert.throws(() => new Ipv4Address(new Uint8Array(16)), RangeError);
    assert.throws(() => new Ipv6Address(new Uint8Array(4)), RangeError);
    assert.throws(() => new Ipv6Address(new Uint8Array(17)), RangeError);
  });
});

describe("strings", () => {
  const samples: Array<[string, string]> = [
    ["ASCII", "hello"],
    ["2-byte UTF-8", "héllo wörld"],
    ["3-byte UTF-8", "日本語テキスト"],
    ["4-byte emoji", "🙂"],
    ["mixed", "a€😀é\u0000z"],
    ["240 ASCII bytes", "x".repeat(240)],
    ["239 ASCII bytes", "y".repeat(239)],
    ["80 three-byte chars (240 bytes)", "€".repeat(80)],
    ["79 three-byte chars (237 bytes)", "€".repeat(79)],
    ["100 two-byte chars (reserved 2 length bytes, needs 1)", "é".repeat(100)],
    ["81 chars, 1 non-ASCII", "a".repeat(80) + "é"],
    ["1000 ASCII bytes (3-byte reserve, 2-byte length)", "q".repeat(1000)],
    ["800 chars, 2288+ bytes", "€".repeat(800)],
    ["emoji run", "😀".repeat(70)],
  ];
  for (const [name, text] of samples) {
    test(`ByteWriter.string() and readString() round-trip ${name}`, () => {
      const writer = new ByteWriter(8);
      writer.u8(0xaa);
      writer.string(text);
      writer.u8(0xbb);
      const bytes = writer.take();
      assert.equal(toHex(bytes), "aa" + referenceString(text) + "bb");
      const cursor = { pos: 1 };
      assert.equal(readString(bytes, cursor, bytes.length - 1, "test"), text);
      assert.equal(cursor.pos, bytes.length - 1);
      assert.equal(roundTrip(Value.string(text)).value, text);
    });
  }

  test("ByteWriter.string() matches TextEncoder for every length up to 300 of each kind of char", () => {
    for (const unit of ["a", "é", "€", "😀", "a€", "éa😀"]) {
      for (let n = 0; n <= 300; n++) {
        const text = unit.repeat(n).slice(0, n);
        const writer = new ByteWriter(1);
        writer.string(text);
        assert.equal(toHex(writer.take()), referenceString(text), `${JSON.stringify(unit)} × ${n}`);
      }
    }
  });

  test("ByteWriter.string() encodes a lone surrogate as U+FFFD, like TextEncoder", () => {
    const writer = new ByteWriter(4);
    writer.string("a\ud800b");
    assert.equal(toHex(writer.take()), "0561efbfbd62");
  });

  test("decodeText() decodes short ASCII, long text and multi-byte UTF-8", () => {
    for (const text of ["", "abc", "x".repeat(32), "x".repeat(33), "é", "ab🙂", "€".repeat(200)]) {
      const bytes = utf8.encode(text);
      assert.equal(decodeText(bytes, 0, bytes.length), text);
    }
    const framed = fromHex("ff6869ff");
    assert.equal(decodeText(framed, 1, 3), "hi");
  });
});

describe("set-var and unset-var", () => {
  test("setVar() and unsetVar() take a scope name or byte", () => {
    const names = ["proc", "sess", "txn", "req", "res"] as const;
    names.forEach((name, byte) => {
      assert.equal(setVar(name, "v", 1).scope, byte);
      assert.equal(unsetVar(name, "v").scope, byte);
      assert.equal(setVar(byte as VarScope, "v", 1).scope, byte);
      assert.equal(scopeName(byte as VarScope), name);
    });
    assert.deepEqual(
      [
        VarScope.Process,
        VarScope.Session,
        VarScope.Transaction,
        VarScope.Request,
        VarScope.Response,
      ],
      [0, 1, 2, 3, 4],
    );
  });

  test("setVar() types its value with toTypedValue()", () => {
    const action = setVar("sess", "ip_score", 42);
    assert.equal(action.type, ActionType.SetVar);
    assert.equal(action.name, "ip_score");
    assert.equal(action.value.type, DataType.Int64);
    assert.equal(setVar("txn", "n", null).value.type, DataType.Null);
    assert.equal(setVar("txn", "n", Value.uint32(7)).value.type, DataType.Uint32);
    assert.throws(() => setVar("txn", "n", 1.5), TypeError);
    assert.throws(() => setVar("txn", "n", 2 ** 60), RangeError);
  });

  test("setVar() and unsetVar() reject bad scopes with TypeError", () => {
    for (const scope of ["foo", "TXN", "", 5, -1, 1.5, Number.NaN]) {
      assert.throws(() => setVar(scope as VarScope, "v", 1), TypeError, String(scope));
      assert.throws(() => unsetVar(scope as VarScope, "v"), TypeError, String(scope));
    }
  });

  test("setVar() and unsetVar() reject names HAProxy drops with TypeError", () => {
    const bad = ["", "a-b", "a b", "é", "a/b", "x$", "name\n", "a:b"];
    for (const name of bad) {
      assert.throws(() => setVar("txn", name, 1), TypeError, JSON.stringify(name));
      assert.throws(() => unsetVar("txn", name), TypeError, JSON.stringify(name));
    }
    assert.throws(() => setVar("txn", 5 as unknown as string, 1), TypeError);
    for (const name of ["a", "A_z.09", "ip_score", "spoa.x"]) {
      assert.equal(setVar("txn", name, 1).name, name);
    }
  });

  test(`setVar() accepts names up to ${MAX_VAR_NAME_LENGTH} characters`, () => {
    assert.equal(MAX_VAR_NAME_LENGTH, 56);
    const longest = "n".repeat(MAX_VAR_NAME_LENGTH);
    assert.equal(setVar("txn", longest, 1).name, longest);
    assert.equal(unsetVar("txn", longest).name, longest);
    assert.throws(() => setVar("txn", longest + "n", 1), TypeError);
    assert.throws(() => unsetVar("txn", longest + "n"), TypeError);
  });

  test("writeActions() encodes set-var and unset-var as NOTES §6 describes", () => {
    const writer = new ByteWriter(8);
    writeActions(writer, [setVar("sess", "ip_score", 42), unsetVar("txn", "gone")]);
    const bytes = writer.take();
    assert.equal(toHex(bytes), "0103010869705f73636f7265042a" + "02020204676f6e65");
    const actions = decodeActions(bytes);
    assert.equal(actions.length, 2);
    assert.equal(actions[0].type, ActionType.SetVar);
    assert.equal(actions[1].type, ActionType.UnsetVar);
    const ack = encodeFrame({
      type: FrameType.Ack,
      streamId: 1,
      frameId: 1,
      actions: [setVar("sess", "ip_score", 42)],
    });
    assert.equal(toHex(ack), "00000015670000000101010103010869705f73636f7265042a");
  });
});

test("ByteWriter with a capacity of 0 grows on the first write", async () => {
  const { ByteWriter } = await import("../../src/codec/byte_writer.ts");
  const writer = new ByteWriter(0);
  writer.string("hello");
  assert.equal(writer.take().length, 6);
});

test("Message.toObject() keeps arguments named like Object members", async () => {
  const { Message } = await import("../../src/codec/message.ts");
  const { NamedValue } = await import("../../src/codec/kv_list.ts");
  const message = new Message("m", [
    new NamedValue("constructor", 8, "c"),
    new NamedValue("toString", 8, "t"),
    new NamedValue("__proto__", 8, "p"),
    new NamedValue("a", 4, 1),
    new NamedValue("a", 4, 2),
  ]);
  const object = message.toObject();
  assert.equal(object.constructor, "c");
  assert.equal(object.toString, "t");
  assert.equal(object.a, 1);
  assert.equal(Object.getOwnPropertyDescriptor(object, "__proto__")?.value, "p");
  assert.equal(Object.getPrototypeOf(object), Object.prototype);
});
