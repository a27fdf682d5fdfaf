/**
 * Lists of messages (SPOE.txt §3.2.6): the payload of NOTIFY frames. Each
 * message is `<name><nb-args:1 byte><args>`, each argument `<name><typed-data>`.
 *
 * @module
 */

import type { ByteWriter } from "./byte_writer.ts";
import { MalformedFrameError } from "./errors.ts";
import { ArgumentIndex } from "./argument_index.ts";
import type { NamedValue } from "./kv_list.ts";
import { decodeText, readLength, type ValueCursor, writeTypedValue } from "./typed_data.ts";
import type { VarintCursor } from "./varint.ts";
import { DataType, type SpopValue, type TypedValue } from "./typed_value.ts";

/** The lazy arguments of the next decoded message (see {@linkcode decodedMessage}). */
let indexForNext: ArgumentIndex | undefined;

/** No arguments: the placeholder a decoded message is built with. */
const NO_ARGS: readonly NamedValue[] = [];

/**
 * One SPOE message with its arguments, in the order HAProxy declared them.
 * Arguments are reached by name, by position, or by iteration. A decoded
 * message decodes an argument's value when it is first read: `get()`,
 * `arg()` and `has()` by name touch that argument only.
 *
 * @example
 * ```ts
 * import { DataType, Message, NamedValue } from "@spoa/agent";
 * const message = new Message("check", [new NamedValue("ip", DataType.String, "192.0.2.7")]);
 * console.log(message.get("ip"), message.at(0)?.name, [...message].length); // 192.0.2.7 ip 1
 * ```
 */
export class Message {
  /** The message name, as in `spoe-message NAME`. */
  readonly name: string;
  #args: readonly NamedValue[] | undefined;
  #index: ArgumentIndex | undefined;

  /**
   * Creates a message.
   *
   * @param name The message name.
   * @param args The arguments in order.
   */
  constructor(name: string, args: readonly NamedValue[]) {
    this.name = name;
    if (indexForNext !== undefined) {
      this.#index = indexForNext;
      indexForNext = undefined;
    } else {
      this.#args = args;
    }
  }

  /** The arguments in order. Nameless arguments have the name `""`. */
  get args(): readonly NamedValue[] {
    if (this.#args === undefined) {
      const index = this.#index!;
      const args = new Array<NamedValue>(index.size);
      for (let i = 0; i < args.length; i++) args[i] = index.namedValue(i);
      this.#args = args;
    }
    return this.#args;
  }

  /** The number of arguments. */
  get size(): number {
    return this.#args?.length ?? this.#index!.size;
  }

  /**
   * Returns the value of the first argument with this name.
   *
   * @param name The argument name.
   * @returns Its value (`null` for a sample HAProxy could not fetch), or `undefined` if absent.
   */
  get(name: string): SpopValue | undefined {
    const index = this.#index;
    if (index !== undefined && this.#args === undefined) {
      const at = index.indexOf(name);
      return at < 0 ? undefined : index.value(at);
    }
    return this.arg(name)?.value;
  }

  /**
   * Returns the first argument with this name, with its type.
   *
   * @param name The argument name.
   * @returns The argument, or `undefined` if absent.
   */
  arg(name: string): NamedValue | undefined {
    const index = this.#index;
    if (index !== undefined && this.#args === undefined) {
      const at = index.indexOf(name);
      return at < 0 ? undefined : index.namedValue(at);
    }
    const args = this.#args!;
    for (let i = 0; i < args.length; i++) if (args[i].name === name) return args[i];
    return undefined;
  }

  /**
   * Tells whether an argument with this name is present.
   *
   * @param name The argument name.
   * @returns `true` if present.
   */
  has(name: string): boolean {
    const index = this.#index;
    if (index !== undefined) return index.indexOf(name) >= 0;
    return this.arg(name) !== undefined;
  }

  /**
   * Returns the argument at a position (negative counts from the end).
   *
   * @param index The position.
   * @returns The argument, or `undefined` past the end.
   */
  at(index: number): NamedValue | undefined {
    return this.args.at(index);
  }

  /**
   * Returns the arguments as a plain object of name → value (for logging).
   * Nameless arguments and repeated names keep only the first value.
   *
   * @returns The arguments by name.
   */
  toObject(): Record<string, SpopValue> {
    const out: Record<string, SpopValue> = {};
    for (const arg of this.args) {
      if (Object.hasOwn(out, arg.name)) continue;
      // defineProperty, so that names such as "__proto__" become plain keys.
      Object.defineProperty(out, arg.name, {
        value: arg.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  /** Iterates over the arguments in order. */
  [Symbol.iterator](): Iterator<NamedValue> {
    return this.args[Symbol.iterator]();
  }
}

/**
 * Message and argument names seen recently (a direct-mapped cache keyed by the
 * bytes), so that a name is decoded once and the same string object comes back
 * each time: cheaper than decoding, and cheap to look up in the handler `Map`.
 */
const NAME_CACHE_SIZE = 256;
const NAME_CACHE_MAX_LENGTH = 64;
const nameKeys: (Uint8Array | undefined)[] = new Array(NAME_CACHE_SIZE).fill(undefined);
const nameValues: string[] = new Array(NAME_CACHE_SIZE).fill("");

/** Reads a length-prefixed name as `readString` does, through the cache. */
function readName(bytes: Uint8Array, cursor: VarintCursor, end: number, what: string): string {
  const length = readLength(bytes, cursor, end, what);
  const start = cursor.pos;
  const stop = start + length;
  cursor.pos = stop;
  if (length > NAME_CACHE_MAX_LENGTH) return decodeText(bytes, start, stop);
  let hash = length;
  for (let i = start; i < stop; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  const slot = (hash ^ (hash >>> 15)) & (NAME_CACHE_SIZE - 1);
  const key = nameKeys[slot];
  if (key !== undefined && key.length === length) {
    let i = 0;
    while (i < length && key[i] === bytes[start + i]) i++;
    if (i === length) return nameValues[slot];
  }
  const text = decodeText(bytes, start, stop);
  nameKeys[slot] = bytes.slice(start, stop);
  nameValues[slot] = text;
  return text;
}

/** A message whose arguments are read from a frame as they are first asked for. */
function decodedMessage(name: string, args: ArgumentIndex): Message {
  indexForNext = args;
  return new Message(name, NO_ARGS);
}

/** decodeMessages()' read position, reused: decoding is synchronous and never nested. */
const messagesCursor: ValueCursor = { pos: 0, type: DataType.Null };

/**
 * Decodes a list of messages.
 *
 * @param bytes The frame (or any buffer holding the list).
 * @param start Where the list starts.
 * @param end Where the list ends.
 * @returns The messages in order.
 * @throws {MalformedFrameError} If a message is cut short, or NB-ARGS promises more
 *   arguments than are present.
 *
 * @example
 * ```ts
 * import { decodeMessages } from "@spoa/agent/codec";
 * const bytes = new Uint8Array([1, 109, 1, 1, 97, 0x11]); // message "m", arg a=true
 * console.log(decodeMessages(bytes)[0].get("a")); // true
 * ```
 */
export function decodeMessages(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
): Message[] {
  const cursor = messagesCursor;
  cursor.pos = start;
  // Arrays sized to what they hold: `[]` grown by push() takes room for 16.
  let first: Message | undefined;
  let messages: Message[] | undefined;
  while (cursor.pos < end) {
    const name = readName(bytes, cursor, end, "message name");
    if (cursor.pos >= end) {
      throw new MalformedFrameError(`Cannot decode message "${name}": NB-ARGS missing`, cursor.pos);
    }
    const count = bytes[cursor.pos++];
    const args = new ArgumentIndex(bytes, count);
    for (let i = 0; i < count; i++) {
      if (cursor.pos >= end) {
        throw new MalformedFrameError(
          `Cannot decode message "${name}": NB-ARGS is ${count} but only ${i} arguments are present`,
          cursor.pos,
        );
      }
      args.add(readName(bytes, cursor, end, "argument name"), cursor, end);
    }
    const message = decodedMessage(name, args);
    if (first === undefined) first = message;
    else if (messages === undefined) messages = [first, message];
    else messages.push(message);
  }
  return messages ?? (first === undefined ? [] : [first]);
}

/** A message to encode: a name and its arguments (each a name and a typed value). */
export interface MessageInit {
  /** The message name. */
  readonly name: string;
  /** The arguments in order; use `""` as the name of a nameless argument. */
  readonly args: Iterable<{ readonly name: string } & TypedValue>;
}

/**
 * Appends a list of messages.
 *
 * @param writer The destination.
 * @param messages The messages.
 * @throws {RangeError} If a message has more than 255 arguments.
 */
export function writeMessages(writer: ByteWriter, messages: Iterable<MessageInit>): void {
  for (const message of messages) {
    writer.string(message.name);
    const countAt = writer.length;
    writer.u8(0);
    let count = 0;
    for (const arg of message.args) {
      writer.string(arg.name);
      writeTypedValue(writer, arg);
      count++;
    }
    if (count > 255) {
      throw new RangeError(`Cannot encode message "${message.name}": ${count} arguments (max 255)`);
    }
    writer.view()[countAt] = count;
  }
}
