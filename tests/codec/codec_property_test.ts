// Property tests of the codec (fast-check): every value of every type round-trips, and so do KV
// lists, messages, actions and whole frames; any bytes given to the frame decoder either decode or
// fail with a SpopError carrying a status code, never another exception.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ActionType,
  ByteWriter,
  decodeActions,
  decodeFrame,
  decodeKvList,
  decodeMessages,
  encodeFrame,
  FrameType,
  SpopError,
  Status,
  writeActions,
  writeKvList,
  writeMessages,
} from "../../src/codec/mod.ts";
import { readTypedValue, writeTypedValue } from "../../src/codec/typed_data.ts";
import {
  anyAction,
  anyFrame,
  anyMessage,
  anyMutations,
  anyNamedValue,
  anyTypedValue,
  expectedValue,
  mutate,
  sameValue,
} from "./_arbitraries.ts";
import { frameBody, GOLDEN, VERSIONS } from "./_golden.ts";

const STATUSES = new Set<number>(Object.values(Status));

/** Runs `decode`; true if it decoded, false if it threw a SpopError with a known status. */
function decodesOrSpopError(decode: () => unknown): boolean {
  try {
    decode();
    return true;
  } catch (error) {
    if (!(error instanceof SpopError)) throw error;
    assert.ok(STATUSES.has(error.status), `status ${error.status}`);
    return false;
  }
}

test("property: every value of every type round-trips through writeTypedValue/readTypedValue", () => {
  fc.assert(
    fc.property(anyTypedValue, (typed) => {
      const writer = new ByteWriter(8);
      writeTypedValue(writer, typed);
      const bytes = writer.take();
      const cursor = { pos: 0 };
      const back = readTypedValue(bytes, cursor, bytes.length);
      assert.equal(cursor.pos, bytes.length, "the whole value is read");
      assert.equal(back.type, typed.type);
      assert.ok(sameValue(back.value, expectedValue(typed)), `${back.value} vs ${typed.value}`);
    }),
    { numRuns: 2000 },
  );
});

test("property: KV lists, messages and actions round-trip", () => {
  fc.assert(
    fc.property(fc.array(anyNamedValue, { maxLength: 10 }), (items) => {
      const writer = new ByteWriter(16);
      writeKvList(writer, items);
      const back = decodeKvList(writer.take());
      assert.equal(back.length, items.length);
      back.forEach((item, i) => {
        assert.equal(item.name, items[i].name);
        assert.equal(item.type, items[i].type);
        assert.ok(sameValue(item.value, expectedValue(items[i])));
      });
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.array(anyMessage, { maxLength: 5 }), (messages) => {
      const writer = new ByteWriter(16);
      writeMessages(writer, messages);
      const back = decodeMessages(writer.take());
      assert.equal(back.length, messages.length);
      back.forEach((message, i) => {
        const args = [...messages[i].args];
        assert.equal(message.name, messages[i].name);
        assert.equal(message.size, args.length);
        args.forEach((arg, j) => {
          assert.equal(message.at(j)!.name, arg.name);
          assert.equal(message.at(j)!.type, arg.type);
          assert.ok(sameValue(message.at(j)!.value, expectedValue(arg)));
        });
      });
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(fc.array(anyAction, { maxLength: 10 }), (actions) => {
      const writer = new ByteWriter(16);
      writeActions(writer, actions);
      const back = decodeActions(writer.take());
      assert.equal(back.length, actions.length);
      back.forEach((action, i) => {
        const sent = actions[i];
        assert.equal(action.type, sent.type);
        assert.equal(action.scope, sent.scope);
        assert.equal(action.name, sent.name);
        if (action.type === ActionType.SetVar && sent.type === ActionType.SetVar) {
          assert.equal(action.value.type, sent.value.type);
          assert.ok(sameValue(action.value.value, expectedValue(sent.value)));
        }
      });
    }),
    { numRuns: 300 },
  );
});

test("property: whole frames round-trip through encodeFrame/decodeFrame, header and payload", () => {
  fc.assert(
    fc.property(anyFrame, (init) => {
      const bytes = encodeFrame(init);
      const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
      assert.equal(length, bytes.length - 4);
      const frame = decodeFrame(bytes.subarray(4));
      assert.equal(frame.type, init.type);
      assert.equal(frame.flags, init.flags);
      assert.equal(frame.streamId, init.streamId);
      assert.equal(frame.frameId, init.frameId);
      if (init.items) assert.equal(frame.items!.length, [...init.items].length);
      if (init.messages && init.type === FrameType.Notify) {
        assert.deepEqual(frame.messages!.map((m) => m.name), [...init.messages].map((m) => m.name));
      }
      if (init.actions) assert.equal(frame.actions!.length, [...init.actions].length);
      if (init.payload) assert.deepEqual([...frame.payload], [...init.payload]);
    }),
    { numRuns: 1000 },
  );
});

test("property: any bytes given to decodeFrame decode or fail with a SpopError and a status", () => {
  const stats = { decoded: 0, rejected: 0 };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      if (decodesOrSpopError(() => decodeFrame(bytes))) stats.decoded++;
      else stats.rejected++;
    }),
    { numRuns: 3000 },
  );
  // Random bytes with a frame-like start: a known type byte, flags, small ids.
  const framish = fc.tuple(
    fc.constantFrom(0, 1, 2, 3, 101, 102, 103),
    fc.uint8Array({ minLength: 4, maxLength: 4 }),
    fc.integer({ min: 0, max: 127 }),
    fc.integer({ min: 0, max: 127 }),
    fc.uint8Array({ maxLength: 120 }),
  ).map(([type, flags, sid, fid, rest]) => Uint8Array.from([type, ...flags, sid, fid, ...rest]));
  fc.assert(
    fc.property(framish, (bytes) => {
      if (decodesOrSpopError(() => decodeFrame(bytes))) stats.decoded++;
      else stats.rejected++;
    }),
    { numRuns: 3000 },
  );
  assert.ok(stats.decoded > 100 && stats.rejected > 100, JSON.stringify(stats));
});

test("property: mutated golden frames and mutated encodings decode or fail with a SpopError", () => {
  const corpus = VERSIONS.flatMap((version) => GOLDEN.get(version)!.map(frameBody));
  fc.assert(
    fc.property(fc.constantFrom(...corpus), anyMutations, (frame, mutations) => {
      decodesOrSpopError(() => decodeFrame(mutate(frame, mutations)));
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(anyFrame, anyMutations, (init, mutations) => {
      decodesOrSpopError(() => decodeFrame(mutate(encodeFrame(init).subarray(4), mutations)));
    }),
    { numRuns: 1000 },
  );
});
