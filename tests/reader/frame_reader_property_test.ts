// Property tests of the frame reader (fast-check): whatever bytes arrive, cut however a socket
// cuts them, the reader hands out the same frames and then either waits for more or fails with a
// SpopError carrying a status code (3 or 4), never another exception and never a loop.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeFrame, SpopError, Status } from "../../src/codec/mod.ts";
import { FrameReader } from "../../src/reader/frame_reader.ts";
import { anyChunking, anyFrame, anyMutations, chunked, mutate } from "../codec/_arbitraries.ts";
import { toHex } from "../codec/_golden.ts";

/** What a reader made of a stream: the frames in hex, then the error status or the bytes left. */
interface Outcome {
  frames: string[];
  status?: number;
  left?: number;
}

/**
 * Feeds the chunks, pulling frames after each push, as the engine does; stops at the first
 * error. Each pull either returns a frame or ends the loop: a frame takes at least 11 bytes of
 * the stream, so the pulls are bounded by the bytes pushed.
 */
function readAll(chunks: readonly Uint8Array[], maxFrameSize: number): Outcome {
  const reader = new FrameReader({ maxFrameSize });
  const frames: string[] = [];
  let pushed = 0;
  try {
    for (const chunk of chunks) {
      reader.push(chunk);
      pushed += chunk.length;
      for (let frame = reader.next(); frame !== undefined; frame = reader.next()) {
        assert.ok(frame.length >= 7 && frame.length <= maxFrameSize, `frame of ${frame.length}`);
        frames.push(toHex(frame));
        assert.ok(frames.length * 11 <= pushed, "more frames than the bytes allow");
      }
    }
  } catch (error) {
    if (!(error instanceof SpopError)) throw error;
    assert.ok(
      error.status === Status.FrameTooBig || error.status === Status.InvalidFrame,
      `status ${error.status}: ${error.message}`,
    );
    return { frames, status: error.status };
  }
  return { frames, left: reader.bufferedBytes };
}

const anyMaxFrameSize = fc.oneof(
  fc.constantFrom(7, 256, 2048, 16380),
  fc.integer({ min: 7, max: 70000 }),
);

/** A stream of encoded frames, back to back, with their bodies as the reader must give them. */
const anyStream = fc.array(anyFrame, { maxLength: 12 }).map((inits) => {
  const encoded = inits.map(encodeFrame);
  const stream = new Uint8Array(encoded.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of encoded) {
    stream.set(frame, offset);
    offset += frame.length;
  }
  return { stream, bodies: encoded.map((frame) => toHex(frame.subarray(4))) };
});

test("property: a stream of frames, cut anywhere, comes out frame for frame", () => {
  fc.assert(
    fc.property(anyStream, anyChunking, ({ stream, bodies }, sizes) => {
      const outcome = readAll(chunked(stream, sizes), 0xffff_ffff);
      assert.deepEqual(outcome, { frames: bodies, left: 0 });
    }),
    { numRuns: 500 },
  );
});

test("property: any bytes, cut anywhere, give the same frames and the same end as in one chunk", () => {
  const ends = { waiting: 0, tooBig: 0, invalid: 0 };
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    // Small lengths, so that short frames come and go between errors.
    fc.array(
      fc.tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 40 })),
      { maxLength: 10 },
    ).map((parts) => Uint8Array.from(parts.flatMap(([n, rest]) => [0, 0, 0, n, ...rest]))),
    fc.tuple(anyStream, anyMutations).map(([{ stream }, mutations]) => mutate(stream, mutations)),
  );
  fc.assert(
    fc.property(anyBytes, anyChunking, anyMaxFrameSize, (bytes, sizes, maxFrameSize) => {
      const whole = readAll([bytes.slice()], maxFrameSize);
      const cut = readAll(chunked(bytes, sizes), maxFrameSize);
      const byteByByte = readAll(chunked(bytes, [1]), maxFrameSize);
      assert.deepEqual(cut, whole);
      assert.deepEqual(byteByByte, whole);
      if (whole.status === Status.FrameTooBig) ends.tooBig++;
      else if (whole.status === Status.InvalidFrame) ends.invalid++;
      else ends.waiting++;
    }),
    { numRuns: 1500 },
  );
  assert.ok(ends.waiting > 50 && ends.tooBig > 50 && ends.invalid > 20, JSON.stringify(ends));
});

test("property: a length over maxFrameSize fails at its fourth byte, whatever follows", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 7, max: 65536 }),
      fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      (maxFrameSize, excess) => {
        const length = Math.min(2 ** 32 - 1, maxFrameSize + excess);
        const reader = new FrameReader({ maxFrameSize });
        const prefix = new Uint8Array(4);
        new DataView(prefix.buffer).setUint32(0, length);
        reader.push(prefix.subarray(0, 3));
        assert.equal(reader.next(), undefined);
        reader.push(prefix.subarray(3));
        assert.throws(() => reader.next(), (error: unknown) => {
          assert.ok(error instanceof SpopError);
          assert.equal(error.status, Status.FrameTooBig);
          return true;
        });
      },
    ),
    { numRuns: 500 },
  );
});
