// The streaming frame reader, fed the golden sessions (every frame of one vector file, back to
// back) in every way a socket could cut them.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MalformedFrameError, SpopError, Status } from "../../src/codec/mod.ts";
import { FrameReader } from "../../src/reader/frame_reader.ts";
import { bytesEqual, fromHex, GOLDEN, prng, toHex, VERSIONS } from "../codec/_golden.ts";

interface Session {
  /** All frames with their length prefixes, back to back. */
  stream: Uint8Array;
  /** The frames without prefixes, as the reader must hand them out. */
  frames: Uint8Array[];
  /** Where each frame's length prefix starts in `stream`. */
  starts: number[];
}

function session(hexes: string[]): Session {
  const stream = fromHex(hexes.join(""));
  const frames: Uint8Array[] = [];
  const starts: number[] = [];
  let at = 0;
  for (const hex of hexes) {
    starts.push(at);
    frames.push(fromHex(hex.slice(8)));
    at += hex.length / 2;
  }
  return { stream, frames, starts };
}

/** Cuts the stream at the given offsets, each chunk a copy with a buffer of its own. */
function chunked(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, stream.length]) {
    chunks.push(stream.slice(from, cut));
    from = cut;
  }
  return chunks;
}

/** Pushes each chunk and drains the reader after each push. */
function readAll(chunks: Uint8Array[], reader = new FrameReader()): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let frame = reader.next(); frame !== undefined; frame = reader.next()) out.push(frame);
  }
  assert.equal(reader.bufferedBytes, 0, "nothing left over");
  return out;
}

/**
 * Checks that the frames are the expected ones, that a frame whose prefix and body lie in one
 * chunk is a view of that chunk, and that any other frame has a buffer of exactly its own size.
 */
function check(s: Session, chunks: Uint8Array[], got: Uint8Array[], what: string): void {
  if (got.length !== s.frames.length) {
    assert.fail(`${what}: ${got.length} frames instead of ${s.frames.length}`);
  }
  const chunkStarts: number[] = [];
  let at = 0;
  for (const chunk of chunks) {
    chunkStarts.push(at);
    at += chunk.length;
  }
  for (let i = 0; i < got.length; i++) {
    if (!bytesEqual(got[i], s.frames[i])) {
      assert.fail(`${what}: frame ${i} is ${toHex(got[i])}, expected ${toHex(s.frames[i])}`);
    }
    const start = s.starts[i];
    const end = start + 4 + s.frames[i].length;
    const c = chunkStarts.findLastIndex((chunkStart) => chunkStart <= start);
    const inside = end <= chunkStarts[c] + chunks[c].length;
    if (inside) {
      if (got[i].buffer !== chunks[c].buffer || got[i].byteOffset !== start - chunkStarts[c] + 4) {
        assert.fail(`${what}: frame ${i} lies in chunk ${c} but is not a view of it`);
      }
    } else if (got[i].byteOffset !== 0 || got[i].buffer.byteLength !== got[i].length) {
      assert.fail(`${what}: frame ${i} spans chunks but is not in a buffer of its own size`);
    }
  }
}

for (const version of VERSIONS) {
  const s = session(GOLDEN.get(version)!.map((f) => f.hex));

  describe(`FrameReader on the HAProxy ${version} golden session`, () => {
    test(`FrameReader yields the ${s.frames.length} frames of one whole chunk as views of it`, () => {
      const chunks = [s.stream.slice()];
      const got = readAll(chunks);
      check(s, chunks, got, "whole");
      for (const frame of got) assert.equal(frame.buffer, chunks[0].buffer);
    });

    test("FrameReader yields the same frames for every split into two chunks", () => {
      for (let cut = 0; cut <= s.stream.length; cut++) {
        const chunks = chunked(s.stream, [cut]);
        check(s, chunks, readAll(chunks), `split at ${cut}`);
      }
    });

    test("FrameReader yields the same frames fed byte by byte, and counts bufferedBytes", () => {
      const reader = new FrameReader();
      const got: Uint8Array[] = [];
      let handedOut = 0;
      for (let i = 0; i < s.stream.length; i++) {
        reader.push(s.stream.slice(i, i + 1));
        for (let frame = reader.next(); frame !== undefined; frame = reader.next()) {
          got.push(frame);
          handedOut += 4 + frame.length;
        }
        if (reader.bufferedBytes !== i + 1 - handedOut) {
          assert.fail(
            `after byte ${i}: bufferedBytes ${reader.bufferedBytes}, expected ${i + 1 - handedOut}`,
          );
        }
      }
      check(
        s,
        chunked(s.stream, Array.from({ length: s.stream.length - 1 }, (_, i) => i + 1)),
        got,
        "bytes",
      );
    });

    test("FrameReader yields the same frames for random chunkings (seeded)", () => {
      const random = prng(0xc0ffee + Number(version.replace(".", "")));
      for (let round = 0; round < 50; round++) {
        const cuts: number[] = [];
        const maxChunk = [3, 16, 100, 700, 5000][round % 5];
        for (let at = 1 + random(maxChunk); at < s.stream.length; at += 1 + random(maxChunk)) {
          cuts.push(at);
        }
        const chunks = chunked(s.stream, cuts);
        check(s, chunks, readAll(chunks), `round ${round} (chunks up to ${maxChunk} bytes)`);
      }
    });

    test("FrameReader keeps order when frames are pulled lazily while chunks keep arriving", () => {
      const random = prng(0xbeef);
      const cuts: number[] = [];
      for (let at = 1 + random(400); at < s.stream.length; at += 1 + random(400)) cuts.push(at);
      const chunks = chunked(s.stream, cuts);
      const reader = new FrameReader();
      const got: Uint8Array[] = [];
      let pushed = 0;
      let handedOut = 0;
      for (const chunk of chunks) {
        reader.push(chunk);
        pushed += chunk.length;
        // Pull at most one frame per chunk: the consumer is slower than the socket.
        if (random(2) === 1) {
          const frame = reader.next();
          if (frame) {
            got.push(frame);
            handedOut += 4 + frame.length;
          }
        }
        assert.equal(reader.bufferedBytes, pushed - handedOut);
      }
      for (let frame = reader.next(); frame !== undefined; frame = reader.next()) got.push(frame);
      assert.equal(reader.bufferedBytes, 0);
      check(s, chunks, got, "lazy");
    });
  });
}

test("FrameReader reassembles a 4-byte length split across chunks", () => {
  const frame = "0000000767000000010101";
  for (const cuts of [[1], [2], [3], [1, 2, 3], [2, 3], [1, 4], [3, 5]]) {
    const chunks = chunked(
      fromHex(frame + frame),
      cuts.flatMap((c) => [c, c + 11]).sort((a, b) => a - b),
    );
    const got = readAll(chunks);
    assert.deepEqual(got.map(toHex), ["67000000010101", "67000000010101"], `cuts ${cuts}`);
  }
  const reader = new FrameReader();
  reader.push(fromHex("0000"));
  assert.equal(reader.next(), undefined);
  assert.equal(reader.bufferedBytes, 2);
  reader.push(fromHex("00"));
  assert.equal(reader.next(), undefined);
  reader.push(fromHex("0767000000"));
  assert.equal(reader.next(), undefined);
  assert.equal(reader.bufferedBytes, 8);
  reader.push(fromHex("010101"));
  assert.equal(toHex(reader.next()!), "67000000010101");
  assert.equal(reader.bufferedBytes, 0);
  assert.equal(reader.next(), undefined);
});

function expectTooBig(reader: FrameReader, length: number, max: number): void {
  assert.throws(() => reader.next(), (error: unknown) => {
    assert.ok(error instanceof SpopError);
    assert.ok(!(error instanceof MalformedFrameError));
    assert.equal(error.status, Status.FrameTooBig);
    assert.equal(
      error.message,
      `Cannot decode frame: length ${length} exceeds max-frame-size ${max}`,
    );
    return true;
  });
}

test("FrameReader rejects a length over maxFrameSize with status 3 before buffering the frame", () => {
  // A 4 GiB length: nothing is allocated (an attempt would fail with a RangeError instead).
  const whole = new FrameReader();
  whole.push(fromHex("ffffffff"));
  expectTooBig(whole, 0xffffffff, 16380);

  const split = new FrameReader();
  split.push(fromHex("ffff"));
  assert.equal(split.next(), undefined);
  split.push(fromHex("ffff"));
  expectTooBig(split, 0xffffffff, 16380);

  const justOver = new FrameReader();
  justOver.push(fromHex("00003ffd67"));
  expectTooBig(justOver, 16381, 16380);

  const small = new FrameReader({ maxFrameSize: 256 });
  small.push(fromHex("00000101"));
  expectTooBig(small, 257, 256);
});

test("FrameReader accepts a frame of exactly maxFrameSize, and a lowered maxFrameSize applies", () => {
  const body = new Uint8Array(256);
  body.set(fromHex("67000000010101"));
  const reader = new FrameReader({ maxFrameSize: 256 });
  reader.push(fromHex("00000100"));
  reader.push(body);
  assert.equal(reader.next()?.length, 256);
  assert.equal(new FrameReader().maxFrameSize, 16380);

  const lowered = new FrameReader();
  lowered.push(fromHex("00000100"));
  lowered.maxFrameSize = 255;
  expectTooBig(lowered, 256, 255);
});

test("FrameReader rejects a length below 7 with status 4", () => {
  for (const length of [0, 1, 6]) {
    for (const split of [false, true]) {
      const reader = new FrameReader();
      const prefix = fromHex(length.toString(16).padStart(8, "0") + "00".repeat(length));
      if (split) {
        reader.push(prefix.slice(0, 3));
        assert.equal(reader.next(), undefined);
        reader.push(prefix.slice(3));
      } else {
        reader.push(prefix);
      }
      assert.throws(() => reader.next(), (error: unknown) => {
        assert.ok(error instanceof MalformedFrameError);
        assert.equal(error.status, Status.InvalidFrame);
        assert.match(error.message, new RegExp(`length ${length} is below the 7-byte minimum`));
        return true;
      });
    }
  }
});

test("FrameReader ignores empty chunks and accounts bufferedBytes", () => {
  const reader = new FrameReader();
  reader.push(new Uint8Array(0));
  assert.equal(reader.bufferedBytes, 0);
  assert.equal(reader.next(), undefined);
  const two = fromHex("0000000767000000010101" + "0000000867000000010102aa");
  reader.push(two.slice(0, 13));
  assert.equal(reader.bufferedBytes, 13);
  reader.push(new Uint8Array(0));
  assert.equal(reader.bufferedBytes, 13);
  assert.equal(toHex(reader.next()!), "67000000010101");
  assert.equal(reader.bufferedBytes, 2);
  assert.equal(reader.next(), undefined);
  assert.equal(reader.bufferedBytes, 2);
  reader.push(two.slice(13, 20));
  assert.equal(reader.next(), undefined);
  assert.equal(reader.bufferedBytes, 9);
  reader.push(two.slice(20));
  assert.equal(toHex(reader.next()!), "67000000010102aa");
  assert.equal(reader.bufferedBytes, 0);
});

test("FrameReader holds what a large frame has sent so far, not its announced length", () => {
  const reader = new FrameReader({ maxFrameSize: 16 * 1024 * 1024 });
  const length = 4 * 1024 * 1024;
  const frame = new Uint8Array(4 + length);
  new DataView(frame.buffer).setUint32(0, length);
  frame[4] = 3; // type NOTIFY, then arbitrary bytes
  for (let i = 5; i < frame.length; i++) frame[i] = i & 0xff;
  reader.push(frame.slice(0, 4 + 100));
  assert.equal(reader.next(), undefined);
  assert.ok(reader.assemblyCapacity <= 64 * 1024, `${reader.assemblyCapacity} bytes held`);
  // The rest in uneven chunks: the buffer grows as bytes come, and the frame is exact.
  let at = 4 + 100;
  let whole: Uint8Array | undefined;
  for (let step = 1000; at < frame.length; step = step * 3 % 99991 + 1) {
    reader.push(frame.slice(at, at + step));
    at += step;
    whole = reader.next();
    if (at < frame.length) {
      assert.equal(whole, undefined);
      assert.ok(reader.assemblyCapacity <= Math.max(64 * 1024, 2 * (at - 4)));
    }
  }
  assert.deepEqual(whole, frame.subarray(4));
  assert.equal(reader.assemblyCapacity, 0);
  assert.equal(reader.bufferedBytes, 0);
});
