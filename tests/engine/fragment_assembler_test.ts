// The fragment assembler alone, frame by frame: reassembly, limits by bytes and by count, ids,
// abort, and payloads copied rather than pinned.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SpopError } from "../../src/codec/errors.ts";
import { Status } from "../../src/codec/status.ts";
import { FragmentAssembler } from "../../src/engine/fragment_assembler.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

function rejects(action: () => unknown, status: number): void {
  assert.throws(action, (error: unknown) => error instanceof SpopError && error.status === status);
}

test("FragmentAssembler joins the payloads of a NOTIFY and its UNSET frames, then is idle again", () => {
  const assembler = new FragmentAssembler({ maxBytes: 1024, maxFragments: 10 });
  assert.equal(assembler.active, false);
  assembler.begin(3, 1, bytes(1, 2));
  assert.equal(assembler.active, true);
  assert.equal(assembler.continue(3, 1, false, bytes()), undefined);
  assert.equal(assembler.continue(3, 1, false, bytes(3)), undefined);
  assert.equal(assembler.bufferedBytes, 3);
  assert.deepEqual(assembler.continue(3, 1, true, bytes(4, 5)), bytes(1, 2, 3, 4, 5));
  assert.equal(assembler.active, false);
  assert.equal(assembler.capacity, 0, "the buffer is released");
});

test("FragmentAssembler copies payloads: the result shares no memory with the frames", () => {
  const assembler = new FragmentAssembler({ maxBytes: 1 << 20, maxFragments: 100 });
  const chunk = new Uint8Array(64 * 1024).fill(7);
  assembler.begin(1, 1, chunk.subarray(0, 10));
  chunk.fill(1, 0, 10);
  const whole = assembler.continue(1, 1, true, chunk.subarray(10, 20))!;
  chunk.fill(2);
  assert.notEqual(whole.buffer, chunk.buffer);
  assert.deepEqual([...whole], new Array(20).fill(7));
});

test("FragmentAssembler grows one buffer: a large NOTIFY in many fragments is reassembled exactly", () => {
  const assembler = new FragmentAssembler({ maxBytes: 1 << 20, maxFragments: 10_000 });
  const payload = new Uint8Array(300_000).map((_, i) => i * 7);
  assembler.begin(9, 2, payload.subarray(0, 224));
  let whole: Uint8Array | undefined;
  for (let at = 224; at < payload.length; at += 224) {
    whole = assembler.continue(9, 2, at + 224 >= payload.length, payload.subarray(at, at + 224));
  }
  assert.deepEqual(whole, payload);
});

test("FragmentAssembler enforces maxBytes (status 3), counting the first payload", () => {
  const assembler = new FragmentAssembler({ maxBytes: 10, maxFragments: 100 });
  rejects(() => assembler.begin(1, 1, new Uint8Array(11)), Status.FrameTooBig);
  const exact = new FragmentAssembler({ maxBytes: 10, maxFragments: 100 });
  exact.begin(1, 1, new Uint8Array(4));
  assert.equal(exact.continue(1, 1, true, new Uint8Array(6))?.length, 10);
  exact.begin(1, 1, new Uint8Array(4));
  rejects(() => exact.continue(1, 1, false, new Uint8Array(7)), Status.FrameTooBig);
});

test("FragmentAssembler enforces maxFragments (status 3), even for empty fragments", () => {
  const assembler = new FragmentAssembler({ maxBytes: 1 << 20, maxFragments: 3 });
  assembler.begin(1, 1, bytes());
  assembler.continue(1, 1, false, bytes());
  assert.deepEqual(assembler.continue(1, 1, true, bytes(1)), bytes(1));
  assembler.begin(1, 1, bytes());
  assembler.continue(1, 1, false, bytes());
  assembler.continue(1, 1, false, bytes());
  rejects(() => assembler.continue(1, 1, false, bytes()), Status.FrameTooBig);
});

test("FragmentAssembler refuses interlaced frames (11) and fragments of nothing (12)", () => {
  const assembler = new FragmentAssembler({ maxBytes: 100, maxFragments: 10 });
  rejects(() => assembler.continue(1, 1, true, bytes()), Status.FrameIdNotFound);
  rejects(() => assembler.abort(1, 1), Status.FrameIdNotFound);
  assembler.expectIdle(1, 1);
  assembler.begin(1, 1, bytes(1));
  rejects(() => assembler.begin(3, 1, bytes()), Status.InterlacedFrames);
  rejects(() => assembler.expectIdle(3, 1), Status.InterlacedFrames);
  rejects(() => assembler.continue(1, 2, false, bytes()), Status.InterlacedFrames);
  rejects(() => assembler.continue(3, 1, false, bytes()), Status.InterlacedFrames);
  rejects(() => assembler.abort(5, 1), Status.InterlacedFrames);
});

test("FragmentAssembler.abort() forgets the NOTIFY under way; the next one starts clean", () => {
  const assembler = new FragmentAssembler({ maxBytes: 100, maxFragments: 10 });
  assembler.begin(1, 1, bytes(1, 2, 3));
  assembler.abort(1, 1);
  assert.equal(assembler.active, false);
  assert.equal(assembler.bufferedBytes, 0);
  assembler.begin(1, 1, bytes(9));
  assert.deepEqual(assembler.continue(1, 1, true, bytes()), bytes(9));
});

test("FragmentAssembler's errors name the NOTIFY, the frame at fault and the limit", () => {
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error("did not throw");
  };
  const sized = new FragmentAssembler({ maxBytes: 10, maxFragments: 100 });
  sized.begin(3, 2, bytes(1, 2, 3));
  assert.equal(
    message(() => sized.continue(3, 2, false, new Uint8Array(8))),
    "fragmented NOTIFY 3/2 exceeds maxFragmentedSize (10 bytes)",
  );
  const counted = new FragmentAssembler({ maxBytes: 100, maxFragments: 2 });
  counted.begin(5, 1, bytes());
  counted.continue(5, 1, false, bytes());
  assert.equal(
    message(() => counted.continue(5, 1, false, bytes())),
    "fragmented NOTIFY 5/1 exceeds maxFragments (2 frames)",
  );
  const busy = new FragmentAssembler({ maxBytes: 100, maxFragments: 10 });
  busy.begin(7, 1, bytes());
  assert.deepEqual([busy.active, busy.streamId, busy.frameId], [true, 7, 1]);
  assert.equal(
    message(() => busy.begin(9, 1, bytes())),
    "NOTIFY 9/1 arrived inside the fragmented NOTIFY 7/1",
  );
  assert.equal(
    message(() => busy.expectIdle(9, 4)),
    "NOTIFY 9/4 arrived inside the fragmented NOTIFY 7/1",
  );
  assert.equal(
    message(() => busy.continue(9, 1, false, bytes())),
    "fragment 9/1 arrived inside the fragmented NOTIFY 7/1",
  );
});
