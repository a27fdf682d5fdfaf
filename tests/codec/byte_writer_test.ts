// The growable buffer every encoder writes into: exact bytes across growth, its growth policy,
// and the short-ASCII fast path of string() against the general UTF-8 path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/codec/byte_writer.ts";
import { encodeVarint } from "../../src/codec/varint.ts";

/** The bytes of a varint length and the UTF-8 encoding of `text`. */
function lengthPrefixedUtf8(text: string): number[] {
  const utf8 = new TextEncoder().encode(text);
  return [...encodeVarint(utf8.length), ...utf8];
}

test("ByteWriter writes every kind of value exactly when each write overflows the buffer", () => {
  const writer = new ByteWriter(1);
  writer.u8(1);
  writer.u8(2); // the buffer is full before each of these writes
  writer.u32(0x01020304);
  writer.varint(16380);
  writer.bytes(new Uint8Array([9, 8, 7]));
  writer.string("ab");
  assert.deepEqual(
    [...writer.take()],
    [1, 2, 1, 2, 3, 4, ...encodeVarint(16380), 9, 8, 7, 2, 0x61, 0x62],
  );
  assert.equal(writer.length, 0, "take() empties the writer");
});

test("ByteWriter.u8(), u32() and varint() grow a full buffer instead of dropping bytes", () => {
  for (
    const [write, expected] of [
      [(w: ByteWriter) => w.u8(0xab), [0xab]],
      [(w: ByteWriter) => w.u32(0xdeadbeef), [0xde, 0xad, 0xbe, 0xef]],
      [(w: ByteWriter) => w.varint(2 ** 40), [...encodeVarint(2 ** 40)]],
    ] as const
  ) {
    const writer = new ByteWriter(64);
    writer.bytes(new Uint8Array(64).fill(7));
    assert.equal(writer.capacity, 64, "exactly full, not grown");
    write(writer);
    const bytes = writer.take();
    assert.deepEqual([...bytes.subarray(64)], expected);
    assert.equal(bytes.length, 64 + expected.length);
  }
});

test("ByteWriter grows by doubling, to at least 64 bytes, only when a write does not fit", () => {
  const small = new ByteWriter(8);
  small.bytes(new Uint8Array(8));
  assert.equal(small.capacity, 8, "8 bytes fit in 8");
  small.u8(1);
  assert.equal(small.capacity, 64, "then at least 64");

  const large = new ByteWriter(100);
  large.bytes(new Uint8Array(101));
  assert.equal(large.capacity, 200, "doubled");

  const exact = new ByteWriter(64);
  exact.bytes(new Uint8Array(128));
  assert.equal(exact.capacity, 128, "doubled once: 128 fits exactly");

  const far = new ByteWriter(64);
  far.bytes(new Uint8Array(1000));
  assert.equal(far.capacity, 1024, "doubled until it fits");
  assert.equal(far.take().length, 1000);
});

test("ByteWriter.string() writes UTF-8 whichever path it takes", () => {
  const texts = [
    "",
    "a",
    "plain ascii name",
    "\u007f", // the last one-byte character
    "\u0080", // the first two-byte one
    "ascii then é",
    "é then ascii",
    "€ and 😀",
    "x".repeat(239), // the longest fast-path candidate
    "x".repeat(240),
    "é".repeat(200), // 400 bytes: the length needs two varint bytes
    "y".repeat(239) + "é",
  ];
  for (const text of texts) {
    const writer = new ByteWriter(1);
    writer.u8(0xee);
    writer.string(text);
    assert.deepEqual(
      [...writer.take()],
      [0xee, ...lengthPrefixedUtf8(text)],
      JSON.stringify(text.slice(0, 20)),
    );
  }
});

test("ByteWriter.view(), truncate() and patchU32() work on what is written", () => {
  const writer = new ByteWriter(4);
  writer.u32(0);
  writer.string("abc");
  writer.patchU32(0, 0x0a0b0c0d);
  assert.deepEqual([...writer.view()], [0x0a, 0x0b, 0x0c, 0x0d, 3, 0x61, 0x62, 0x63]);
  writer.truncate(4);
  assert.equal(writer.length, 4);
  writer.u8(0xff);
  assert.deepEqual([...writer.view()], [0x0a, 0x0b, 0x0c, 0x0d, 0xff]);
  writer.truncate();
  assert.equal(writer.length, 0);
  assert.deepEqual([...writer.take()], []);
});

test("ByteWriter.release() writes again from the start of the same buffer, keeping what was not taken", () => {
  const writer = new ByteWriter(64);
  writer.bytes(new Uint8Array([1, 2, 3]));
  const first = writer.take();
  writer.bytes(new Uint8Array([4, 5]));
  const second = writer.take();
  assert.equal(second.buffer, first.buffer);
  assert.equal(second.byteOffset, 3, "before release(), a view taken is not written again");
  writer.bytes(new Uint8Array([6, 7]));
  writer.release();
  assert.deepEqual([...writer.view()], [6, 7]);
  const third = writer.take();
  assert.equal(third.buffer, first.buffer);
  assert.equal(third.byteOffset, 0);
  assert.deepEqual([...first], [6, 7, 3], "the released memory is written again");
  writer.release();
  writer.release();
  writer.u8(9);
  assert.deepEqual([...writer.take()], [9]);
});
