// Property test of the fragment assembler (fast-check): any sequence of first frames,
// continuations, aborts and whole NOTIFYs, with any ids, payloads and limits, does what a plain
// model says, and every refusal is a SpopError with the model's status code. The buffer held
// never passes maxBytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SpopError } from "../../src/codec/errors.ts";
import { Status } from "../../src/codec/status.ts";
import { FragmentAssembler } from "../../src/engine/fragment_assembler.ts";

type Operation =
  | { op: "begin"; sid: number; fid: number; payload: Uint8Array }
  | { op: "continue"; sid: number; fid: number; last: boolean; payload: Uint8Array }
  | { op: "abort"; sid: number; fid: number }
  | { op: "whole"; sid: number; fid: number };

// Few ids, so that matching and mismatching ids both come up; -1 stands for the ids of the
// NOTIFY under way (as HAProxy sends them), so that most continuations match.
const id = fc.integer({ min: 0, max: 2 });
const sameOrOther = fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, id);
const payload = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  fc.integer({ min: 0, max: 3000 }).map((n) => new Uint8Array(n).fill(n & 0xff)),
);
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ op: fc.constant("begin" as const), sid: id, fid: id, payload }),
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("continue" as const),
      sid: sameOrOther,
      fid: sameOrOther,
      last: fc.boolean(),
      payload,
    }),
  },
  fc.record({ op: fc.constant("abort" as const), sid: sameOrOther, fid: sameOrOther }),
  fc.record({ op: fc.constant("whole" as const), sid: id, fid: id }),
);

/** The model: what the assembler must do, as a plain state machine over arrays. */
class Model {
  active = false;
  sid = 0;
  fid = 0;
  bytes: number[] = [];
  count = 0;
  readonly maxBytes: number;
  readonly maxFragments: number;
  constructor(maxBytes: number, maxFragments: number) {
    this.maxBytes = maxBytes;
    this.maxFragments = maxFragments;
  }

  /** The whole payload, `undefined` while more is expected, or the status of a refusal. */
  apply(o: Operation): { whole?: number[]; status?: number } {
    const matches = o.sid === this.sid && o.fid === this.fid;
    switch (o.op) {
      case "whole":
        return this.active ? { status: Status.InterlacedFrames } : {};
      case "begin":
        if (this.active) return { status: Status.InterlacedFrames };
        Object.assign(this, { active: true, sid: o.sid, fid: o.fid, bytes: [], count: 1 });
        return this.#append(o.payload);
      case "abort":
        if (!this.active) return { status: Status.FrameIdNotFound };
        if (!matches) return { status: Status.InterlacedFrames };
        this.active = false;
        return {};
      case "continue": {
        if (!this.active) return { status: Status.FrameIdNotFound };
        if (!matches) return { status: Status.InterlacedFrames };
        if (++this.count > this.maxFragments) return { status: Status.FrameTooBig };
        const refused = this.#append(o.payload);
        if (refused.status !== undefined || !o.last) return refused;
        this.active = false;
        return { whole: this.bytes };
      }
    }
  }

  #append(bytes: Uint8Array): { status?: number } {
    if (this.bytes.length + bytes.length > this.maxBytes) return { status: Status.FrameTooBig };
    for (const byte of bytes) this.bytes.push(byte);
    return {};
  }
}

test("property: the fragment assembler does what the model says, and refuses only with its SpopError", () => {
  const seen = { wholes: 0, refusals: new Set<number>() };
  fc.assert(
    fc.property(
      fc.integer({ min: 256, max: 8192 }),
      fc.integer({ min: 1, max: 8 }),
      fc.array(operation, { maxLength: 30 }),
      (maxBytes, maxFragments, operations) => {
        const assembler = new FragmentAssembler({ maxBytes, maxFragments });
        const model = new Model(maxBytes, maxFragments);
        for (const drawn of operations) {
          const o = { ...drawn };
          if (o.sid === -1) o.sid = model.sid;
          if (o.fid === -1) o.fid = model.fid;
          const expected = model.apply(o);
          let whole: Uint8Array | undefined;
          try {
            if (o.op === "begin") assembler.begin(o.sid, o.fid, o.payload);
            else if (o.op === "continue") {
              whole = assembler.continue(o.sid, o.fid, o.last, o.payload);
            } else if (o.op === "abort") assembler.abort(o.sid, o.fid);
            else assembler.expectIdle(o.sid, o.fid);
          } catch (error) {
            if (!(error instanceof SpopError)) throw error;
            assert.equal(error.status, expected.status, error.message);
            seen.refusals.add(error.status);
            // The connection closes on a refusal: nothing more reaches the assembler.
            assembler.reset();
            assert.equal(assembler.capacity, 0);
            return;
          }
          assert.equal(expected.status, undefined, `expected status ${expected.status}`);
          if (expected.whole !== undefined) {
            assert.deepEqual([...whole!], expected.whole);
            seen.wholes++;
          } else {
            assert.equal(whole, undefined);
          }
          assert.equal(assembler.active, model.active);
          assert.ok(assembler.capacity <= maxBytes, `capacity ${assembler.capacity}`);
          if (model.active) assert.equal(assembler.bufferedBytes, model.bytes.length);
          else assert.equal(assembler.capacity, 0, "an idle assembler holds no buffer");
        }
      },
    ),
    { numRuns: 2000 },
  );
  assert.ok(seen.wholes > 10, `${seen.wholes} NOTIFYs reassembled`);
  assert.deepEqual([...seen.refusals].sort((a, b) => a - b), [3, 11, 12]);
});
