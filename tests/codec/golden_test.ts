// Golden frames captured from HAProxy 2.6, 3.0, 3.2 and 3.4 (tests/vectors/): every frame decodes
// to what the capture tooling decoded independently, and re-encodes byte for byte.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Action,
  dataTypeName,
  decodeFrame,
  decodeMessages,
  encodeFrame,
  FrameFlags,
  type FrameInit,
  FrameType,
  frameTypeName,
  Ipv4Address,
  Ipv6Address,
  MalformedFrameError,
  type Message,
  type MessageInit,
  NamedValue,
  readFrameHeader,
  type ScopeName,
  scopeName,
  setVar,
  SpopError,
  Status,
  TypedValue,
  unsetVar,
  Value,
} from "../../src/codec/mod.ts";
import { encodeVarint } from "../../src/codec/varint.ts";
import {
  frameBody,
  fromHex,
  GOLDEN,
  type GoldenAction,
  type GoldenFrame,
  type GoldenItem,
  type GoldenMessage,
  type GoldenValue,
  toHex,
  type Version,
  VERSIONS,
} from "./_golden.ts";

const TYPE_IDS: Readonly<Record<string, number>> = {
  NULL: 0,
  BOOL: 1,
  INT32: 2,
  UINT32: 3,
  INT64: 4,
  UINT64: 5,
  IPV4: 6,
  IPV6: 7,
  STRING: 8,
  BINARY: 9,
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const utf8 = new TextEncoder();

/** An integer decoded by the codec: a `number` when exact, a `bigint` beyond ±(2^53 − 1). */
function assertInteger(actual: unknown, expected: bigint, where: string): void {
  if (expected >= -MAX_SAFE && expected <= MAX_SAFE) {
    assert.equal(typeof actual, "number", `${where}: ${expected} should be a number`);
    assert.equal(actual, Number(expected), where);
  } else {
    assert.equal(typeof actual, "bigint", `${where}: ${expected} should be a bigint`);
    assert.equal(actual, expected, where);
  }
}

function assertTypedValue(actual: TypedValue, expected: GoldenValue, where: string): void {
  const typeId = TYPE_IDS[expected.type];
  const typeByte = parseInt(expected.type_byte, 16);
  assert.equal(actual.type, typeId, `${where}: type`);
  assert.equal(dataTypeName(actual.type), expected.type, `${where}: type name`);
  assert.equal(typeByte & 0x0f, typeId, `${where}: type byte`);
  switch (expected.type) {
    case "NULL":
      assert.equal(actual.value, null, where);
      break;
    case "BOOL":
      assert.equal(actual.value, expected.value, where);
      assert.equal(typeByte, expected.value ? 0x11 : 0x01, `${where}: boolean type byte`);
      break;
    case "INT32":
    case "INT64": {
      // HAProxy reads every integer type as a signed 64-bit reinterpretation of the varint.
      const raw = BigInt(expected.raw_u64!);
      const signed = BigInt.asIntN(64, raw);
      assert.equal(BigInt(expected.value as string), signed, `${where}: vector's own value`);
      assert.equal(toHex(encodeVarint(raw)), expected.varint_hex, `${where}: varint`);
      assertInteger(actual.value, signed, where);
      break;
    }
    case "UINT32":
    case "UINT64": {
      const raw = BigInt(expected.raw_u64!);
      assert.equal(BigInt(expected.value as string), raw, `${where}: vector's own value`);
      assert.equal(toHex(encodeVarint(raw)), expected.varint_hex, `${where}: varint`);
      assertInteger(actual.value, raw, where);
      break;
    }
    case "IPV4":
      assert.ok(actual.value instanceof Ipv4Address, `${where}: Ipv4Address`);
      assert.equal(String(actual.value), expected.value, where);
      break;
    case "IPV6":
      assert.ok(actual.value instanceof Ipv6Address, `${where}: Ipv6Address`);
      assert.equal(String(actual.value), expected.value, where);
      break;
    case "STRING":
      assert.equal(actual.value, expected.value, where);
      assert.equal(utf8.encode(actual.value as string).length, expected.length, `${where}: length`);
      break;
    case "BINARY":
      assert.ok(actual.value instanceof Uint8Array, `${where}: Uint8Array`);
      assert.equal(toHex(actual.value), expected.value_hex, where);
      assert.equal(actual.value.length, expected.length, `${where}: length`);
      break;
    default:
      assert.fail(`${where}: unexpected type ${expected.type} in the vector`);
  }
}

function assertItems(actual: readonly NamedValue[] | undefined, expected: GoldenItem[]): void {
  assert.ok(actual, "items decoded");
  assert.equal(actual.length, expected.length, "number of KV items");
  expected.forEach((item, i) => {
    assert.ok(actual[i] instanceof NamedValue);
    assert.equal(actual[i].name, item.key, `item ${i} name`);
    assertTypedValue(actual[i], item, `item ${item.key}`);
  });
}

function assertMessages(actual: readonly Message[] | undefined, expected: GoldenMessage[]): void {
  assert.ok(actual, "messages decoded");
  assert.equal(actual.length, expected.length, "number of messages");
  expected.forEach((message, m) => {
    const got = actual[m];
    assert.equal(got.name, message.name, `message ${m} name`);
    assert.equal(message.args.length, message.nb_args, "the vector's own NB-ARGS");
    assert.equal(got.size, message.nb_args, `message ${message.name}: NB-ARGS`);
    message.args.forEach((arg, a) => {
      assert.equal(got.args[a].name, arg.name, `message ${message.name} arg ${a} name`);
      assertTypedValue(got.args[a], arg, `${message.name}.${arg.name || `#${a}`}`);
    });
  });
}

function assertActions(actual: readonly Action[] | undefined, expected: GoldenAction[]): void {
  assert.ok(actual, "actions decoded");
  assert.equal(actual.length, expected.length, "number of actions");
  expected.forEach((action, i) => {
    const got = actual[i];
    assert.equal(got.name, action.name, `action ${i} name`);
    assert.equal(scopeName(got.scope), action.scope, `action ${action.name} scope`);
    if (action.action === "set-var") {
      assert.equal(action.nb_args, 3);
      assert.equal(got.type, 1, `action ${action.name} type`);
      assert.ok(got.type === 1 && action.value);
      assertTypedValue(got.value, action.value, `set-var ${action.scope}.${action.name}`);
    } else {
      assert.equal(action.action, "unset-var");
      assert.equal(action.nb_args, 2);
      assert.equal(got.type, 2, `action ${action.name} type`);
    }
  });
}

/** Builds a typed value from the vector alone, with the public constructors. */
function typedFromGolden(g: GoldenValue): TypedValue {
  const value = g.value;
  switch (g.type) {
    case "NULL":
      return Value.null();
    case "BOOL":
      return Value.bool(value as boolean);
    case "INT32": {
      const n = BigInt(value as string);
      // The capture agent also sent -42 the wrong way, as the 32-bit pattern 4294967254 (NOTES §5):
      // outside INT32's range, so only the unchecked constructor can express it.
      return n <= 0x7fffffffn ? Value.int32(n) : new TypedValue(2, n);
    }
    case "UINT32":
      return Value.uint32(BigInt(value as string));
    case "INT64":
      return Value.int64(BigInt(value as string));
    case "UINT64":
      return Value.uint64(BigInt(value as string));
    case "IPV4":
      return Value.ipv4(value as string);
    case "IPV6":
      return Value.ipv6(value as string);
    case "STRING":
      return Value.string(value as string);
    case "BINARY":
      return Value.binary(fromHex(g.value_hex!));
  }
  throw new Error(`unexpected type ${g.type}`);
}

function named(name: string, g: GoldenValue): NamedValue {
  const typed = typedFromGolden(g);
  return new NamedValue(name, typed.type, typed.value);
}

function messagesFromGolden(messages: GoldenMessage[]): MessageInit[] {
  return messages.map((m) => ({ name: m.name, args: m.args.map((a) => named(a.name, a)) }));
}

function hasUnknownAction(frame: GoldenFrame): boolean {
  return frame.decoded.actions?.some((a) => a.rest_hex !== undefined) ?? false;
}

/** The frame as an encoder input, built from the vector's decoding only (not from decodeFrame). */
function initFromGolden(frame: GoldenFrame): FrameInit {
  const d = frame.decoded;
  const init: FrameInit = {
    type: d.type,
    flags: parseInt(d.flags, 16),
    streamId: d.stream_id,
    frameId: d.frame_id,
  };
  if (d.kv) {
    init.items = d.kv.map((item) => named(item.key, item));
  } else if (d.messages) {
    init.messages = messagesFromGolden(d.messages);
  } else if (d.actions && !hasUnknownAction(frame)) {
    init.actions = d.actions.map((a) =>
      a.action === "set-var"
        ? setVar(a.scope as ScopeName, a.name!, typedFromGolden(a.value!))
        : unsetVar(a.scope as ScopeName, a.name!)
    );
  } else {
    // UNSET fragments, a NOTIFY without FIN, the type-42 frame, the ACK with action type 9.
    init.payload = frameBody(frame).subarray(1 + d.metadata_hex.length / 2);
    if (d.payload_hex !== undefined) assert.equal(toHex(init.payload), d.payload_hex);
  }
  return init;
}

function label(version: Version, index: number, frame: GoldenFrame): string {
  return `HAProxy ${version} frame ${index} (${frame.kind}, ${frame.direction})`;
}

test("golden vector files hold the captured inventory (NOTES §17)", () => {
  const counts = VERSIONS.map((v) => GOLDEN.get(v)!.length);
  assert.deepEqual(counts, [54, 54, 40, 40]);
  const kinds = new Set(VERSIONS.flatMap((v) => GOLDEN.get(v)!.map((f) => f.kind)));
  assert.deepEqual([...kinds].sort(), [
    "ack",
    "agent-hello",
    "disconnect",
    "healthcheck-hello",
    "hello",
    "notify",
    "notify-fragment",
    "unknown-frame",
  ]);
});

for (const version of VERSIONS) {
  const frames = GOLDEN.get(version)!;

  describe(`golden frames of HAProxy ${version}`, () => {
    frames.forEach((frame, index) => {
      if (hasUnknownAction(frame)) return;
      test(`decodeFrame() decodes ${label(version, index, frame)}`, () => {
        const d = frame.decoded;
        const body = frameBody(frame);
        assert.equal(parseInt(frame.hex.slice(0, 8), 16), body.length, "length prefix");
        assert.equal(body.length, d.frame_length);

        const decoded = decodeFrame(body);
        assert.equal(decoded.type, d.type);
        assert.equal(frameTypeName(decoded.type), d.type_name);
        assert.equal(decoded.flags, parseInt(d.flags, 16));
        assert.equal((decoded.flags & FrameFlags.Fin) !== 0, d.fin);
        assert.equal((decoded.flags & FrameFlags.Abort) !== 0, d.abort);
        assert.equal(decoded.streamId, d.stream_id);
        assert.equal(decoded.frameId, d.frame_id);

        const header = readFrameHeader(body, {
          type: 0,
          flags: 0,
          streamId: 0,
          frameId: 0,
          payloadOffset: 0,
        });
        assert.equal(toHex(body.subarray(1, header.payloadOffset)), d.metadata_hex);
        assert.equal(header.streamId, d.stream_id);
        assert.equal(header.frameId, d.frame_id);
        assert.equal(decoded.payload.buffer, body.buffer, "the payload is a view of the frame");
        assert.equal(toHex(decoded.payload), toHex(body.subarray(header.payloadOffset)));
        if (d.payload_hex !== undefined) assert.equal(toHex(decoded.payload), d.payload_hex);

        if (d.kv) assertItems(decoded.items, d.kv);
        else assert.equal(decoded.items, undefined);
        if (d.messages) assertMessages(decoded.messages, d.messages);
        else assert.equal(decoded.messages, undefined, "no messages (fragment or not a NOTIFY)");
        if (d.actions) assertActions(decoded.actions, d.actions);
        else assert.equal(decoded.actions, undefined);
      });
    });

    frames.forEach((frame, index) => {
      test(`encodeFrame() re-encodes ${label(version, index, frame)} from the vector's values`, () => {
        assert.equal(toHex(encodeFrame(initFromGolden(frame))), frame.hex);
      });
    });

    frames.forEach((frame, index) => {
      if (hasUnknownAction(frame)) return;
      test(`encodeFrame() re-encodes ${label(version, index, frame)} from decodeFrame()`, () => {
        const decoded = decodeFrame(frameBody(frame));
        const init: FrameInit = {
          type: decoded.type,
          flags: decoded.flags,
          streamId: decoded.streamId,
          frameId: decoded.frameId,
        };
        if (decoded.items) init.items = decoded.items;
        else if (decoded.messages) init.messages = decoded.messages;
        else if (decoded.actions) init.actions = decoded.actions;
        else init.payload = decoded.payload;
        assert.equal(toHex(encodeFrame(init)), frame.hex);
      });
    });

    frames.forEach((frame, index) => {
      if (!hasUnknownAction(frame)) return;
      test(`decodeFrame() rejects the unknown action type 9 in ${label(version, index, frame)}`, () => {
        const body = frameBody(frame);
        const actions = frame.decoded.actions!;
        const rest = actions.at(-1)!.rest_hex!;
        // The unknown action's type byte comes right before the bytes the capture left undecoded.
        const offset = body.length - rest.length / 2 - 1;
        assert.equal(body[offset], 9);
        assert.equal(actions.at(-1)!.action, "UNKNOWN(9)");
        assert.throws(
          () => decodeFrame(body),
          (error: unknown) => {
            assert.ok(error instanceof MalformedFrameError);
            assert.ok(error instanceof SpopError);
            assert.equal(error.status, Status.InvalidFrame);
            assert.equal(error.offset, offset);
            assert.match(error.message, /unknown action type 9/);
            return true;
          },
        );
      });
    });

    // Fragmented NOTIFY (legacy 2.6/3.0 only): a NOTIFY without FIN, UNSET frames, the last with FIN.
    const fragments = frames.filter((f) => f.kind === "notify-fragment");
    if (fragments.length > 0) {
      test(`decodeMessages() decodes the reassembled fragments of HAProxy ${version}`, () => {
        const sequences = new Map<string, GoldenFrame[]>();
        for (const f of fragments) {
          const key = `${f.decoded.stream_id}/${f.decoded.frame_id}`;
          sequences.set(key, [...(sequences.get(key) ?? []), f]);
        }
        assert.ok(sequences.size > 0);
        for (const sequence of sequences.values()) {
          const decoded = sequence.map((f) => decodeFrame(frameBody(f)));
          assert.equal(decoded[0].type, FrameType.Notify);
          decoded.forEach((frame, i) => {
            if (i > 0) assert.equal(frame.type, FrameType.Unset);
            assert.equal(frame.flags, i === decoded.length - 1 ? FrameFlags.Fin : 0);
            assert.equal(frame.messages, undefined, "a fragment's payload stays raw");
            assert.equal(toHex(frame.payload), sequence[i].decoded.fragment_payload_hex);
          });
          const total = decoded.reduce((sum, f) => sum + f.payload.length, 0);
          const payload = new Uint8Array(total);
          let at = 0;
          for (const frame of decoded) {
            payload.set(frame.payload, at);
            at += frame.payload.length;
          }
          const last = sequence.at(-1)!.decoded;
          assert.equal(toHex(payload), last.reassembled_payload_hex);
          assertMessages(decodeMessages(payload), last.reassembled_messages!);
        }
      });
    }
  });
}
