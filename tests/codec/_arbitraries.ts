// fast-check arbitraries of SPOP values, names, messages, actions and frames, shared by the
// property tests of the codec, the frame reader and the engine.
import fc from "fast-check";
import {
  type Action,
  FrameFlags,
  type FrameInit,
  FrameType,
  Ipv4Address,
  Ipv6Address,
  type MessageInit,
  NamedValue,
  setVar,
  type SpopValue,
  type TypedValue,
  unsetVar,
  Value,
} from "../../src/codec/mod.ts";

const utf8 = new TextEncoder();
const lossy = new TextDecoder();

/** What a string reads back as after UTF-8 encoding: lone surrogates become U+FFFD. */
export function wellFormed(text: string): string {
  return lossy.decode(utf8.encode(text));
}

/** Any JavaScript string, lone surrogates included. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({
    unit: fc.constantFrom("a", "é", "\u{1f600}", "\ud800", "\udfff", "\0"),
    maxLength: 8,
  }),
);

/** A name the decoders accept (message, argument and KV names must be UTF-8). */
export const anyName: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }).map(wellFormed),
  fc.constantFrom("", "ip", "get-ip-reputation", "max-frame-size"),
);

/** Every SPOP type, over its whole range, built with the checked constructors. */
export const anyTypedValue: fc.Arbitrary<TypedValue> = fc.oneof(
  fc.constant(Value.null()),
  fc.boolean().map(Value.bool),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(Value.int32),
  fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(Value.uint32),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(Value.int64),
  fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }).map(Value.int64),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(Value.uint64),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map(Value.ipv4),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map(Value.ipv6),
  anyString.map(Value.string),
  fc.uint8Array({ maxLength: 300 }).map(Value.binary),
);

/** The value a typed value reads back as. */
export function expectedValue(typed: TypedValue): SpopValue {
  return typeof typed.value === "string" ? wellFormed(typed.value) : typed.value;
}

/** Compares two SPOP values the way the codec promises they round-trip. */
export function sameValue(a: SpopValue, b: SpopValue): boolean {
  if (a instanceof Ipv4Address || a instanceof Ipv6Address) {
    return (b instanceof Ipv4Address || b instanceof Ipv6Address) &&
      a.constructor === b.constructor &&
      sameBytes(a.bytes, b.bytes);
  }
  if (a instanceof Uint8Array) return b instanceof Uint8Array && sameBytes(a, b);
  return a === b;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** A named value, any name and type. */
export const anyNamedValue: fc.Arbitrary<NamedValue> = fc.tuple(anyName, anyTypedValue).map(
  ([name, typed]) => new NamedValue(name, typed.type, typed.value),
);

/** A message with up to 12 arguments. */
export const anyMessage: fc.Arbitrary<MessageInit> = fc.record({
  name: anyName,
  args: fc.array(anyNamedValue, { maxLength: 12 }),
});

/** A variable name setVar() accepts: [A-Za-z0-9_.], 1 to 56 characters. */
export const anyVarName: fc.Arbitrary<string> = fc.stringMatching(/^[A-Za-z0-9_.]{1,56}$/);

/** A set-var or unset-var action in any scope. */
export const anyAction: fc.Arbitrary<Action> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 4 }), anyVarName, anyTypedValue).map(([scope, name, value]) =>
    setVar(scope as 0, name, value)
  ),
  fc.tuple(fc.integer({ min: 0, max: 4 }), anyVarName).map(([scope, name]) =>
    unsetVar(scope as 0, name)
  ),
);

/** A stream-id or frame-id: the decoder reads ids up to 2^53 − 1. */
export const anyId: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  fc.integer({ min: 0, max: 2 ** 53 - 1 }),
);

const KNOWN_PAYLOADS = new Set<number>([
  FrameType.HaproxyHello,
  FrameType.HaproxyDisconnect,
  FrameType.Notify,
  FrameType.AgentHello,
  FrameType.AgentDisconnect,
  FrameType.Ack,
]);

/** A frame of any type with a payload of the kind its type carries. */
export const anyFrame: fc.Arbitrary<FrameInit> = fc.oneof(
  fc.record({
    type: fc.constantFrom(
      FrameType.HaproxyHello,
      FrameType.HaproxyDisconnect,
      FrameType.AgentHello,
      FrameType.AgentDisconnect,
    ),
    flags: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    streamId: anyId,
    frameId: anyId,
    items: fc.array(anyNamedValue, { maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant(FrameType.Notify),
    flags: fc.constantFrom(FrameFlags.Fin, (FrameFlags.Fin | 0x8000_0000) >>> 0),
    streamId: anyId,
    frameId: anyId,
    messages: fc.array(anyMessage, { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constant(FrameType.Ack),
    flags: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    streamId: anyId,
    frameId: anyId,
    actions: fc.array(anyAction, { maxLength: 8 }),
  }),
  fc.record({
    // Types whose payload the decoder leaves raw: UNSET (fragments) and unknown types.
    type: fc.integer({ min: 0, max: 255 }).filter((type) => !KNOWN_PAYLOADS.has(type)),
    flags: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    streamId: anyId,
    frameId: anyId,
    payload: fc.uint8Array({ maxLength: 64 }),
  }),
);

/** Cut points for a byte string of any length: chunk sizes, from 1 byte to 600. */
export const anyChunking: fc.Arbitrary<number[]> = fc.oneof(
  fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 64 }),
  fc.array(fc.integer({ min: 1, max: 600 }), { minLength: 1, maxLength: 16 }),
  fc.constant<number[]>([1]),
);

/**
 * Splits bytes into chunks of the given sizes, cycling through them; every chunk has its own
 * buffer, as a socket delivers them.
 */
export function chunked(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    chunks.push(bytes.slice(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Byte-level damage to a stream: flip, overwrite, insert, delete or cut, at relative places. */
export const anyMutations: fc.Arbitrary<Array<[number, number, number]>> = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(255)),
  { maxLength: 6 },
);

/** Applies {@linkcode anyMutations} to a copy of `bytes`. */
export function mutate(bytes: Uint8Array, mutations: ReadonlyArray<[number, number, number]>) {
  let out = bytes.slice();
  for (const [kind, where, value] of mutations) {
    const at = Math.min(out.length, Math.floor(where * out.length));
    switch (kind) {
      case 0:
        if (at < out.length) out[at] ^= 1 << (value & 7);
        break;
      case 1:
        if (at < out.length) out[at] = value;
        break;
      case 2: {
        const grown = new Uint8Array(out.length + 1 + (value & 7));
        grown.set(out.subarray(0, at));
        grown.fill(value, at, at + 1 + (value & 7));
        grown.set(out.subarray(at), at + 1 + (value & 7));
        out = grown;
        break;
      }
      case 3: {
        const end = Math.min(out.length, at + 1 + (value & 15));
        const shrunk = new Uint8Array(out.length - (end - at));
        shrunk.set(out.subarray(0, at));
        shrunk.set(out.subarray(end), at);
        out = shrunk;
        break;
      }
      default:
        out = out.slice(0, at);
    }
  }
  return out;
}
