// Malformed input: every decoding failure is a SpopError (MalformedFrameError, status 4, with the
// byte offset), never a RangeError or TypeError escaping the decoder.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeActions,
  decodeFrame,
  decodeKvList,
  decodeMessages,
  encodeFrame,
  FrameType,
  MalformedFrameError,
  NamedValue,
  setVar,
  SpopError,
  Status,
  Value,
} from "../../src/codec/mod.ts";
import { FrameReader } from "../../src/reader/frame_reader.ts";
import { frameBody, fromHex, GOLDEN, prng, toHex, VERSIONS } from "./_golden.ts";

const text = new TextEncoder();

function expectMalformed(fn: () => unknown, offset: number | undefined, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof MalformedFrameError, `expected MalformedFrameError, got ${error}`);
    assert.ok(error instanceof SpopError);
    assert.equal(error.status, Status.InvalidFrame);
    assert.equal(error.name, "MalformedFrameError");
    if (offset !== undefined) assert.equal(error.offset, offset, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

/** A NOTIFY frame body (no length prefix): type 3, FIN, sid 1, fid 1, then `payloadHex`. */
function notify(payloadHex: string): Uint8Array {
  return fromHex("03" + "00000001" + "01" + "01" + payloadHex);
}

function hexOf(s: string): string {
  return toHex(text.encode(s));
}

// Message "m" with one argument "a" (the payload offset in a notify() frame is 7).
const MESSAGE_M = "01" + hexOf("m");
const ARG_A = "01" + hexOf("a");

/** The 21-argument NOTIFY captured from HAProxy 3.2 (a real frame to cut and corrupt). */
function bigNotify(): Uint8Array {
  const frame = GOLDEN.get("3.2")!.find((f) => f.kind === "notify")!;
  return frameBody(frame);
}

test("decodeFrame() rejects a frame shorter than 7 bytes", () => {
  for (let length = 0; length < 7; length++) {
    expectMalformed(
      () => decodeFrame(new Uint8Array(length).fill(3)),
      0,
      /shorter than the 7-byte/,
    );
  }
  assert.equal(decodeFrame(fromHex("67000000010101")).actions?.length, 0);
});

test("decodeFrame() rejects a truncated frame", () => {
  const full = bigNotify();
  assert.equal(decodeFrame(full).messages?.length, 2);
  // Dropping the last byte cuts the last argument's string ("/normal").
  expectMalformed(() => decodeFrame(full.subarray(0, full.length - 1)), undefined, /runs past/);
  // Cut inside a 10-byte varint (arg "ineg" = -1): find it and cut after its first 3 bytes.
  const at = toHex(full).indexOf("04fff0fefefefefefefe0e") / 2;
  expectMalformed(() => decodeFrame(full.subarray(0, at + 4)), at + 4, /varint: cut short/);
  // Cut between an argument name and its typed data.
  const ip = toHex(full).indexOf("02" + hexOf("ip")) / 2;
  expectMalformed(() => decodeFrame(full.subarray(0, ip + 3)), ip + 3, /typed data: no bytes left/);
  // A stream-id cut short in the header.
  expectMalformed(() => decodeFrame(fromHex("030000000101f0f0")), 8, /cut short/);
});

test("decodeFrame() rejects an unknown type id in typed data", () => {
  for (let id = 10; id <= 15; id++) {
    for (const flags of [0x00, 0x10, 0xf0]) {
      const byte = (flags | id).toString(16).padStart(2, "0");
      expectMalformed(
        () => decodeFrame(notify(MESSAGE_M + "01" + ARG_A + byte)),
        12,
        new RegExp(`unknown type id ${id} \\(type byte 0x${byte}\\)`),
      );
    }
  }
  // In a KV list (HELLO) too.
  const hello = fromHex("01000000010000" + "01" + hexOf("k") + "0a");
  expectMalformed(() => decodeFrame(hello), 9, /unknown type id 10/);
});

test("decodeFrame() rejects a length that runs past the end of the frame", () => {
  // STRING of 5 bytes with 2 present; BINARY likewise; a message name; a KV name; a var name.
  expectMalformed(
    () => decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "08056869")),
    13,
    /STRING: length 5 runs past/,
  );
  expectMalformed(
    () => decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "0905aabb")),
    13,
    /BINARY: length 5 runs past/,
  );
  expectMalformed(() => decodeFrame(notify("09" + hexOf("abc"))), 7, /message name: length 9/);
  expectMalformed(
    () => decodeFrame(notify(MESSAGE_M + "01" + "3061")),
    10,
    /argument name: length 48/,
  );
  expectMalformed(() => decodeFrame(fromHex("01000000010000" + "05" + hexOf("key"))), 7, /KV name/);
  expectMalformed(
    () => decodeFrame(fromHex("67000000010101" + "010301" + "0778")),
    10,
    /variable name/,
  );
  // A length varint above 2^53 is rejected the same way, not turned into a RangeError.
  expectMalformed(
    () => decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "08fff0fefefefefefefe0e")),
    13,
    /runs past/,
  );
  // IPV4 / IPV6 without their 4 / 16 bytes.
  expectMalformed(
    () => decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "06c00002")),
    13,
    /IPV4: needs 4 bytes/,
  );
  expectMalformed(
    () => decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "07" + "00".repeat(15))),
    13,
    /IPV6/,
  );
});

test("decodeFrame() rejects NB-ARGS larger than the arguments present", () => {
  const twoArgs = ARG_A + "11" + "01" + hexOf("b") + "01";
  expectMalformed(
    () => decodeFrame(notify(MESSAGE_M + "03" + twoArgs)),
    16,
    /NB-ARGS is 3 but only 2 arguments are present/,
  );
  expectMalformed(() => decodeFrame(notify(MESSAGE_M)), 9, /NB-ARGS missing/);
  assert.equal(decodeFrame(notify(MESSAGE_M + "02" + twoArgs)).messages?.[0].size, 2);
  // In the real 21-argument NOTIFY: claim 22 arguments for "msg-all".
  const full = bigNotify().slice();
  const nbArgs = 7 + 1 + "msg-all".length;
  assert.equal(full[nbArgs], 21);
  full[nbArgs] = 22;
  assert.throws(() => decodeFrame(full), MalformedFrameError);
});

test("decodeFrame() rejects an 11-byte varint in the header and in the payload", () => {
  const eleven = "f0" + "80".repeat(9) + "00";
  expectMalformed(
    () => decodeFrame(fromHex("0300000001" + eleven + "01")),
    5,
    /longer than 10 bytes/,
  );
  expectMalformed(
    () => decodeFrame(fromHex("0300000001" + "01" + eleven)),
    6,
    /longer than 10 bytes/,
  );
  expectMalformed(
    () => decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "04" + eleven)),
    13,
    /longer than 10 bytes/,
  );
  // A stream-id above 2^53 is not an id the engine can use.
  expectMalformed(
    () => decodeFrame(fromHex("0300000001" + "fff0fefefefefefefe0e" + "01")),
    5,
    /stream-id/,
  );
  expectMalformed(
    () => decodeFrame(fromHex("0300000001" + "01" + "fff0fefefefefefefe0e")),
    6,
    /frame-id/,
  );
});

test("decodeFrame() rejects invalid UTF-8 in names", () => {
  const invalid = ["ff", "c3", "80", "c0af", "eda080", "f4908080", "e282"];
  for (const bytes of invalid) {
    const length = (bytes.length / 2).toString(16).padStart(2, "0");
    expectMalformed(
      () => decodeFrame(notify(MESSAGE_M + "01" + length + bytes + "00")),
      11,
      /invalid UTF-8/,
    );
  }
  // In a message name, an argument name and a KV name.
  expectMalformed(() => decodeFrame(notify("02" + "61ff" + "00")), 8, /UTF-8/);
  expectMalformed(() => decodeFrame(notify(MESSAGE_M + "01" + "01fe" + "00")), 11, /UTF-8/);
  expectMalformed(() => decodeFrame(fromHex("02000000010000" + "01c3" + "00")), 8, /UTF-8/);
  // The message is the library's own, the same on every runtime (it reaches HAProxy in the
  // AGENT-DISCONNECT): not the text of the runtime's TextDecoder error.
  assert.throws(() => decodeFrame(notify("02" + "61ff" + "00")), {
    message: "Cannot decode string: invalid UTF-8 (at byte 8)",
  });
});

test("decodeFrame() reads a STRING value that is not UTF-8 with U+FFFD, keeping the connection", () => {
  // HAProxy passes header bytes as they came: a Latin-1 "café" is 63 61 66 e9.
  const latin1 = decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "0804636166e9"));
  assert.equal(latin1.messages![0].get("a"), "caf\uFFFD");
  const long = hexOf("x".repeat(40)) + "ff";
  const past = decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "0829" + long));
  assert.equal(past.messages![0].get("a"), "x".repeat(40) + "\uFFFD");
  // A leading byte order mark is part of the value, not dropped.
  const bom = decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "0804efbbbf61"));
  assert.equal(bom.messages![0].get("a"), "\uFEFFa");
});

test("decodeFrame() keeps BINARY bytes as they are", () => {
  // BINARY carries any bytes.
  assert.equal(
    toHex(
      decodeFrame(notify(MESSAGE_M + "01" + ARG_A + "0902fffe")).messages![0].get(
        "a",
      ) as Uint8Array,
    ),
    "fffe",
  );
});

test("decodeFrame() rejects malformed ACK actions", () => {
  const ack = (hex: string) => fromHex("67000000010101" + hex);
  expectMalformed(() => decodeFrame(ack("0103")), 7, /action: cut short/);
  expectMalformed(() => decodeFrame(ack("010201" + "0178" + "00")), 8, /NB-ARGS is 2/);
  expectMalformed(() => decodeFrame(ack("020301" + "0178")), 8, /NB-ARGS is 3/);
  expectMalformed(() => decodeFrame(ack("010305" + "0178" + "00")), 9, /scope 5/);
  expectMalformed(() => decodeFrame(ack("000000")), 7, /unknown action type 0/);
  expectMalformed(() => decodeFrame(ack("030301" + "0178" + "00")), 7, /unknown action type 3/);
  expectMalformed(() => decodeFrame(ack("010301" + "0178")), 12, /typed data: no bytes left/);
  assert.deepEqual(decodeActions(fromHex("02020201" + hexOf("x"))), [
    { type: 2, scope: 2, name: "x" },
  ]);
});

test("decodeKvList() and decodeMessages() honour their end offset", () => {
  const item = "01" + hexOf("k") + "0300";
  const bytes = fromHex(item + item);
  assert.equal(decodeKvList(bytes, 0, 4).length, 1);
  expectMalformed(() => decodeKvList(bytes, 0, 3), 3, /varint: no bytes left/);
  const message = fromHex(MESSAGE_M + "01" + ARG_A + "00");
  expectMalformed(() => decodeMessages(message, 0, message.length - 1), 5, /no bytes left/);
});

test("FrameReader rejects a length over max-frame-size with status 3 (frame too big)", () => {
  const reader = new FrameReader({ maxFrameSize: 16380 });
  reader.push(fromHex("00003ffd"));
  assert.throws(() => reader.next(), (error: unknown) => {
    assert.ok(error instanceof SpopError);
    assert.ok(!(error instanceof MalformedFrameError));
    assert.equal(error.status, Status.FrameTooBig);
    assert.match(error.message, /length 16381 exceeds max-frame-size 16380/);
    return true;
  });
});

test("the encoders' output decodes back (sanity check for the corpus below)", () => {
  const frame = encodeFrame({
    type: FrameType.Notify,
    streamId: 3,
    frameId: 1,
    messages: [{ name: "check", args: [new NamedValue("ip", 6, Value.ipv4("10.0.0.1").value)] }],
  });
  assert.equal(String(decodeFrame(frame.subarray(4)).messages![0].get("ip")), "10.0.0.1");
  const ack = encodeFrame({
    type: FrameType.Ack,
    streamId: 3,
    frameId: 1,
    actions: [setVar("txn", "x", "y")],
  });
  assert.equal(decodeFrame(ack.subarray(4)).actions![0].name, "x");
});

test("decodeFrame() throws only SpopError on thousands of mutated golden frames (seeded fuzz)", () => {
  const corpus = VERSIONS.flatMap((v) => GOLDEN.get(v)!.map(frameBody));
  const random = prng(0x5e0a_2026);
  const stats = { decoded: 0, rejected: 0 };
  const mutations: Array<(frame: Uint8Array) => Uint8Array> = [
    (f) => {
      // Flip 1 to 4 random bits.
      const out = f.slice();
      for (let n = 1 + random(4); n > 0; n--) out[random(out.length)] ^= 1 << random(8);
      return out;
    },
    // Truncate anywhere.
    (f) => f.slice(0, random(f.length + 1)),
    (f) => {
      // Overwrite 1 to 8 bytes with random values.
      const out = f.slice();
      for (let n = 1 + random(8); n > 0; n--) out[random(out.length)] = random(256);
      return out;
    },
    (f) => {
      // Overwrite one byte with a value that matters to the grammar.
      const out = f.slice();
      const interesting = [0x00, 0x01, 0x07, 0x0a, 0x0f, 0x7f, 0x80, 0xef, 0xf0, 0xfe, 0xff];
      out[random(out.length)] = interesting[random(interesting.length)];
      return out;
    },
    (f) => {
      // Insert random bytes somewhere.
      const at = random(f.length + 1);
      const extra = Uint8Array.from({ length: 1 + random(12) }, () => random(256));
      const out = new Uint8Array(f.length + extra.length);
      out.set(f.subarray(0, at));
      out.set(extra, at);
      out.set(f.subarray(at), at + extra.length);
      return out;
    },
    (f) => {
      // Delete a range.
      const at = random(f.length);
      const count = 1 + random(Math.min(16, f.length - at));
      const out = new Uint8Array(f.length - count);
      out.set(f.subarray(0, at));
      out.set(f.subarray(at + count), at);
      return out;
    },
    (f) => {
      // Keep the header (so the payload grammar is exercised), then random bytes.
      const out = new Uint8Array(7 + random(64));
      out.set(f.subarray(0, 7));
      for (let i = 7; i < out.length; i++) out[i] = random(256);
      return out;
    },
    // Entirely random bytes.
    () => Uint8Array.from({ length: random(48) }, () => random(256)),
  ];
  const rounds = 6000;
  for (let i = 0; i < rounds; i++) {
    const original = corpus[random(corpus.length)];
    const mutated = mutations[random(mutations.length)](original);
    try {
      decodeFrame(mutated);
      stats.decoded++;
    } catch (error) {
      if (!(error instanceof SpopError)) {
        assert.fail(`round ${i}: ${error} escaped the decoder for frame ${toHex(mutated)}`);
      }
      assert.equal(error.status, Status.InvalidFrame, `round ${i}: ${error.message}`);
      stats.rejected++;
    }
  }
  assert.equal(stats.decoded + stats.rejected, rounds);
  // Both outcomes must be well represented, or the fuzz is not testing much.
  assert.ok(stats.decoded > rounds / 20, `only ${stats.decoded} mutated frames decoded`);
  assert.ok(stats.rejected > rounds / 4, `only ${stats.rejected} mutated frames were rejected`);
});
