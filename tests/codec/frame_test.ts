// Frame headers: the flags are a 32-bit field, read whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, FrameFlags, FrameType, readFrameHeader } from "../../src/codec/frame.ts";

const header = () => ({ type: 0, flags: 0, streamId: 0, frameId: 0, payloadOffset: 0 });

test("readFrameHeader() reads all 32 bits of the flags, big-endian", () => {
  for (const flags of [0x80000001, 0x00010000, 0x01000000, 0x00000100, 0xfffffffe, 0xffffffff]) {
    const frame = encodeFrame({ type: FrameType.Notify, flags, streamId: 300, frameId: 2 });
    const read = readFrameHeader(frame.subarray(4), header());
    assert.equal(read.flags, flags, `0x${flags.toString(16)}`);
    assert.equal(read.streamId, 300);
    assert.equal(read.frameId, 2);
    assert.equal(read.payloadOffset, 1 + 4 + 2 + 1);
  }
  // FIN lives in the last byte: a first byte of 1 is a reserved bit, not FIN.
  const reserved = encodeFrame({ type: FrameType.Notify, flags: 0x01000000 });
  assert.equal(readFrameHeader(reserved.subarray(4), header()).flags & FrameFlags.Fin, 0);
});
