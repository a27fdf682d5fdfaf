// HAProxy's varint (NOTES §2; encode_varint/decode_varint in include/haproxy/intops.h).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MalformedFrameError, SpopError, Status } from "../../src/codec/mod.ts";
import {
  decodeVarint,
  encodeVarint,
  MAX_VARINT,
  MAX_VARINT_BYTES,
  readVarint,
  toSigned64,
  toUnsigned64,
  varintLength,
  writeVarint,
} from "../../src/codec/varint.ts";
import { fromHex, toHex } from "./_golden.ts";

// Every row of the worked-examples table in NOTES §2: value, encoding.
const TABLE: ReadonlyArray<readonly [bigint, string]> = [
  [0n, "00"],
  [239n, "ef"],
  [240n, "f000"],
  [255n, "ff00"],
  [256n, "f001"],
  [2287n, "ff7f"],
  [2288n, "f08000"],
  [16380n, "fcf006"],
  [264431n, "ffff7f"],
  [264432n, "f0808000"],
  [33818863n, "ffffff7f"],
  [33818864n, "f080808000"],
  [4294967295n, "fff0fefe7e"],
  [4328786159n, "ffffffff7f"],
  [4328786160n, "f08080808000"],
  [9223372036854775807n, "fff0fefefefefefefe06"],
  [-9223372036854775808n, "f0f1fefefefefefefe06"],
  [-1n, "fff0fefefefefefefe0e"],
  [-42n, "f6eefefefefefefefe0e"],
  [-123456789n, "fb9f85a8fbfefefefe0e"],
  [4294967254n, "f6eefefe7e"],
];

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The smallest value of each encoded length 1..10: 0, 240, 2288, 264432, ... (intops.h). */
function lengthBoundaries(): bigint[] {
  const starts = [0n, 240n];
  for (let n = 2; n < MAX_VARINT_BYTES; n++) {
    starts.push(starts[n - 1] + (1n << BigInt(4 + 7 * (n - 1))));
  }
  return starts;
}

/** HAProxy's decode_varint, unbounded and in bigint: the reference the codec must agree with. */
function referenceDecode(bytes: Uint8Array): bigint {
  let value = BigInt(bytes[0]);
  if (value < 240n) return value;
  let shift = 4n;
  for (let i = 1; i < bytes.length; i++) {
    value += BigInt(bytes[i]) << shift;
    shift += 7n;
    if (bytes[i] < 128) break;
  }
  return value;
}

function expectMalformed(fn: () => unknown, offset: number, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MalformedFrameError, `expected MalformedFrameError, got ${error}`);
    assert.ok(error instanceof SpopError);
    assert.equal(error.status, Status.InvalidFrame);
    assert.equal(error.offset, offset);
    assert.match(error.message, pattern);
    return true;
  });
}

describe("varint worked examples (NOTES §2)", () => {
  for (const [value, hex] of TABLE) {
    const raw = BigInt.asUintN(64, value);
    test(`encodeVarint() encodes ${value} as ${hex}`, () => {
      assert.equal(toHex(encodeVarint(raw)), hex);
      assert.equal(varintLength(raw), hex.length / 2);
      if (raw <= MAX_SAFE) {
        assert.equal(toHex(encodeVarint(Number(raw))), hex);
        assert.equal(varintLength(Number(raw)), hex.length / 2);
      }
      assert.equal(toHex(encodeVarint(toUnsigned64(value))), hex);
    });
    test(`decodeVarint() decodes ${hex} to ${value}`, () => {
      const bytes = fromHex(hex);
      const [decoded, end] = decodeVarint(bytes);
      assert.equal(end, bytes.length);
      assert.equal(referenceDecode(bytes), raw);
      if (raw <= MAX_SAFE) assert.equal(decoded, Number(raw));
      else assert.equal(decoded, raw);
      const signed = toSigned64(decoded);
      assert.equal(BigInt(signed), BigInt.asIntN(64, raw));
    });
  }
});

test("varintLength() and encodeVarint() switch width at every boundary from 1 to 10 bytes", () => {
  const starts = lengthBoundaries();
  assert.deepEqual(starts.slice(0, 6), [0n, 240n, 2288n, 264432n, 33818864n, 4328786160n]);
  for (let n = 1; n <= MAX_VARINT_BYTES; n++) {
    const first = starts[n - 1];
    const last = n === MAX_VARINT_BYTES ? MAX_VARINT : starts[n] - 1n;
    for (const value of [first, first + 1n, last - 1n, last]) {
      if (value < 0n) continue;
      const bytes = encodeVarint(value);
      assert.equal(bytes.length, n, `${value} takes ${n} bytes`);
      assert.equal(varintLength(value), n, `varintLength(${value})`);
      if (value <= MAX_SAFE) {
        assert.equal(varintLength(Number(value)), n, `varintLength(${value} as number)`);
        assert.deepEqual(encodeVarint(Number(value)), bytes, `${value} as number`);
      }
      assert.equal(referenceDecode(bytes), value, `HAProxy decodes ${toHex(bytes)} to ${value}`);
      for (let i = 0; i < n - 1; i++) assert.ok(bytes[i] >= 128, "continuation bit set");
      assert.ok(n === 1 ? bytes[0] < 240 : bytes[n - 1] < 128, "last byte ends the varint");
      const [decoded, end] = decodeVarint(bytes);
      assert.equal(end, n);
      assert.equal(BigInt(decoded), value);
    }
  }
  assert.equal(toHex(encodeVarint(MAX_VARINT)), "fff0fefefefefefefe0e");
});

test("decodeVarint() returns a number up to 2^53 - 1 and a bigint above", () => {
  const cases: Array<[bigint, "number" | "bigint"]> = [
    [0n, "number"],
    [239n, "number"],
    [(1n << 46n) - 1n, "number"],
    [1n << 46n, "number"],
    [MAX_SAFE - 1n, "number"],
    [MAX_SAFE, "number"],
    [MAX_SAFE + 1n, "bigint"],
    [1n << 60n, "bigint"],
    [MAX_VARINT, "bigint"],
  ];
  for (const [value, kind] of cases) {
    const [decoded] = decodeVarint(encodeVarint(value));
    assert.equal(typeof decoded, kind, `${value}`);
    assert.equal(BigInt(decoded), value);
  }
});

test("decodeVarint() starts at an offset and readVarint() advances its cursor", () => {
  const bytes = fromHex("aa" + "fcf006" + "2a" + "fff0fefefefefefefe0e");
  assert.deepEqual(decodeVarint(bytes, 1), [16380, 4]);
  const cursor = { pos: 1 };
  assert.equal(readVarint(bytes, cursor), 16380);
  assert.equal(cursor.pos, 4);
  assert.equal(readVarint(bytes, cursor), 42);
  assert.equal(cursor.pos, 5);
  assert.equal(readVarint(bytes, cursor), MAX_VARINT);
  assert.equal(cursor.pos, 15);
});

test("writeVarint() writes at an offset and returns the offset after the varint", () => {
  const bytes = new Uint8Array(16).fill(0xaa);
  assert.equal(writeVarint(bytes, 2, 2288), 5);
  assert.equal(writeVarint(bytes, 5, -1n + (1n << 64n)), 15);
  assert.equal(toHex(bytes), "aaaaf08000fff0fefefefefefefe0eaa");
});

test("decodeVarint() rejects a varint cut short", () => {
  expectMalformed(() => decodeVarint(new Uint8Array(0)), 0, /no bytes left/);
  expectMalformed(() => decodeVarint(fromHex("2a"), 1), 1, /no bytes left/);
  const full = encodeVarint(MAX_VARINT);
  for (let cut = 1; cut < full.length; cut++) {
    expectMalformed(() => decodeVarint(full.subarray(0, cut)), cut, /cut short/);
  }
  // readVarint() honours its `end` even when the array goes on.
  expectMalformed(() => readVarint(fromHex("f08000"), { pos: 0 }, 2), 2, /cut short/);
});

test("decodeVarint() rejects an 11-byte varint", () => {
  const eleven = fromHex("f0" + "80".repeat(9) + "00");
  expectMalformed(() => decodeVarint(eleven), 0, /longer than 10 bytes/);
  const atOffset = fromHex("0000" + "ff".repeat(10) + "7f");
  expectMalformed(() => decodeVarint(atOffset, 2), 2, /longer than 10 bytes/);
});

test("decodeVarint() rejects a 10-byte varint above 2^64 - 1", () => {
  for (const hex of ["fff1fefefefefefefe0e", "fff0fefefefefefefe0f", "ffffffffffffffffff7f"]) {
    assert.ok(referenceDecode(fromHex(hex)) > MAX_VARINT);
    expectMalformed(() => decodeVarint(fromHex(hex)), 0, /exceeds 2\^64-1/);
  }
  expectMalformed(() => decodeVarint(fromHex("00fff0fefefefefefefe0f"), 1), 1, /exceeds/);
});

test("encodeVarint() rejects negative, fractional and too large values with RangeError", () => {
  const bad: Array<number | bigint> = [
    -1,
    -0.5,
    1.5,
    239.5,
    1e6 + 0.25,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 64,
    -1n,
    MAX_VARINT + 1n,
  ];
  for (const value of bad) {
    assert.throws(() => encodeVarint(value), RangeError, `encodeVarint(${value})`);
    assert.throws(() => writeVarint(new Uint8Array(10), 0, value), RangeError);
  }
});

test("toSigned64() reinterprets an unsigned 64-bit value as signed", () => {
  assert.equal(toSigned64(0), 0);
  assert.equal(toSigned64(42), 42);
  assert.equal(toSigned64(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  assert.equal(toSigned64(MAX_VARINT), -1);
  assert.equal(toSigned64(18446744073709551574n), -42);
  assert.equal(toSigned64(18446744073586094827n), -123456789);
  assert.equal(toSigned64((1n << 63n) - 1n), (1n << 63n) - 1n);
  assert.equal(toSigned64(1n << 63n), -(1n << 63n));
  assert.equal(toSigned64((1n << 64n) - MAX_SAFE), -Number.MAX_SAFE_INTEGER);
  assert.equal(toSigned64((1n << 64n) - MAX_SAFE - 1n), -MAX_SAFE - 1n);
  // Returns a number whenever exact, whatever the input's kind.
  assert.equal(toSigned64(5n), 5);
  assert.equal(toSigned64(MAX_SAFE), Number.MAX_SAFE_INTEGER);
  assert.equal(toSigned64(MAX_SAFE + 1n), MAX_SAFE + 1n);
});

test("toUnsigned64() gives the two's complement HAProxy puts on the wire", () => {
  assert.equal(toUnsigned64(0), 0);
  assert.equal(toUnsigned64(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  assert.equal(toUnsigned64(2 ** 60), 1n << 60n);
  assert.equal(toUnsigned64(-1), MAX_VARINT);
  assert.equal(toUnsigned64(-42), 18446744073709551574n);
  assert.equal(toUnsigned64(-(2 ** 63)), 1n << 63n);
  assert.equal(toUnsigned64(-1n), MAX_VARINT);
  assert.equal(toUnsigned64(-(1n << 63n)), 1n << 63n);
  assert.equal(toUnsigned64(MAX_VARINT), MAX_VARINT);
  assert.equal(toUnsigned64(7n), 7n);
  for (const value of [-1n, -42n, -(1n << 63n), (1n << 63n) - 1n, 0n]) {
    assert.equal(
      toSigned64(toUnsigned64(value)),
      value >= -MAX_SAFE && value <= MAX_SAFE ? Number(value) : value,
    );
  }
});

test("toUnsigned64() rejects fractions and values outside -2^63 to 2^64 - 1 with RangeError", () => {
  const bad: Array<number | bigint> = [
    1.5,
    -1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    2 ** 64,
    2 ** 65,
    -(2 ** 64),
    -(1n << 63n) - 1n,
    MAX_VARINT + 1n,
  ];
  for (const value of bad) {
    assert.throws(() => toUnsigned64(value), RangeError, `toUnsigned64(${value})`);
  }
});

describe("varint errors and large numbers", () => {
  test("writeVarint() encodes an integer number past 2^53 as its exact value", () => {
    for (const value of [2 ** 53, 2 ** 60, 2 ** 63, 2 ** 64 - 2 ** 12]) {
      const bytes = new Uint8Array(MAX_VARINT_BYTES);
      const end = writeVarint(bytes, 0, value);
      assert.equal(
        toHex(bytes.subarray(0, end)),
        toHex(encodeVarint(BigInt(value))),
        String(value),
      );
    }
  });

  test("writeVarint() says why it refuses a value", () => {
    const bytes = new Uint8Array(MAX_VARINT_BYTES);
    for (const value of [-1, -(2 ** 60), 1.5, 240.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => writeVarint(bytes, 0, value), {
        name: "RangeError",
        message: `Cannot encode varint: ${value} is not an unsigned integer`,
      });
    }
    for (const value of [-1n, 2n ** 64n]) {
      assert.throws(() => writeVarint(bytes, 0, value), {
        name: "RangeError",
        message: `Cannot encode varint: ${value} is outside 0 to 2^64-1`,
      });
    }
  });

  test("toUnsigned64() says why it refuses a value", () => {
    const cases: ReadonlyArray<readonly [number | bigint, string]> = [
      [1.5, "Cannot encode integer: 1.5 is not an exact 64-bit integer"],
      [2 ** 64, `Cannot encode integer: ${2 ** 64} is not an exact 64-bit integer`],
      [-1.5, "Cannot encode integer: -1.5 is not a 64-bit integer"],
      [-(2 ** 64), `Cannot encode integer: ${-(2 ** 64)} is not a 64-bit integer`],
      [2n ** 64n, "Cannot encode integer: 18446744073709551616 is outside -2^63 to 2^64-1"],
      [-(2n ** 63n) - 1n, "Cannot encode integer: -9223372036854775809 is outside -2^63 to 2^64-1"],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => toUnsigned64(value), { name: "RangeError", message });
    }
    assert.equal(toUnsigned64(2 ** 63), 2n ** 63n);
    assert.equal(toUnsigned64(-(2 ** 63)), 2n ** 63n);
  });
});
