/**
 * The arguments of a decoded message, read lazily: decoding a NOTIFY checks
 * every argument and notes where its value lies, but the values that cost
 * something to build (strings, binaries, addresses) are decoded only when a
 * handler reads them. A handler that reads one argument of twenty, or never
 * reads a 1 KiB string, does not pay for the rest.
 *
 * @module
 */

import { Ipv4Address, Ipv6Address } from "./ip_address.ts";
import { NamedValue } from "./kv_list.ts";
import { decodeText, readLength, unknownType, type ValueCursor } from "./typed_data.ts";
import { DataType, type SpopValue } from "./typed_value.ts";
import { MalformedFrameError } from "./errors.ts";
import { readVarint, toSigned64 } from "./varint.ts";

/** Marks a value not decoded yet. */
const UNREAD: unique symbol = Symbol("unread");

/**
 * Addresses are copied out of the frame (a cached address must not pin a
 * 64 KiB read buffer) into small shared slabs: one allocation per slab, not
 * per address, and at most 4 KiB pinned by an address kept forever.
 */
const ADDRESS_SLAB_SIZE = 4096;
let addressSlab = new Uint8Array(ADDRESS_SLAB_SIZE);
let addressSlabUsed = 0;

function copyAddress(bytes: Uint8Array, start: number, size: number): Uint8Array {
  if (addressSlabUsed + size > ADDRESS_SLAB_SIZE) {
    addressSlab = new Uint8Array(ADDRESS_SLAB_SIZE);
    addressSlabUsed = 0;
  }
  const slab = addressSlab;
  const at = addressSlabUsed;
  for (let i = 0; i < size; i++) slab[at + i] = bytes[start + i];
  addressSlabUsed = at + size;
  return slab.subarray(at, at + size);
}

/**
 * Reads a typed value eagerly when it is cheap (NULL, BOOL, integers,
 * addresses), and otherwise (strings, binaries) only checks it and returns
 * {@linkcode UNREAD} (`cursor.pos` moves past it).
 *
 * @param bytes The source.
 * @param cursor The read position (at the type byte); receives the type.
 * @param end The end of the readable region.
 * @returns The value, or UNREAD for a string or binary.
 * @throws {MalformedFrameError} On an unknown type id or a value cut short.
 */
function scanValue(
  bytes: Uint8Array,
  cursor: ValueCursor,
  end: number,
): SpopValue | typeof UNREAD {
  const at = cursor.pos;
  if (at >= end) throw new MalformedFrameError("Cannot decode typed data: no bytes left", at);
  const typeByte = bytes[at];
  const type = typeByte & 0x0f;
  cursor.pos = at + 1;
  cursor.type = type as DataType;
  switch (type) {
    case DataType.Null:
      return null;
    case DataType.Boolean:
      return (typeByte & 0x10) !== 0;
    case DataType.Int32:
    case DataType.Int64:
      return toSigned64(readVarint(bytes, cursor, end));
    case DataType.Uint32:
    case DataType.Uint64:
      return readVarint(bytes, cursor, end);
    case DataType.Ipv4:
    case DataType.Ipv6: {
      // Addresses are small: copied now (into a shared slab) rather than looked up again later.
      const size = type === DataType.Ipv4 ? 4 : 16;
      const start = cursor.pos;
      if (end - start < size) {
        throw new MalformedFrameError(
          `Cannot decode ${type === DataType.Ipv4 ? "IPV4" : "IPV6"}: needs ${size} bytes`,
          start,
        );
      }
      cursor.pos = start + size;
      const copy = copyAddress(bytes, start, size);
      return type === DataType.Ipv4 ? new Ipv4Address(copy) : new Ipv6Address(copy);
    }
    case DataType.String:
    case DataType.Binary: {
      const length = readLength(bytes, cursor, end, type === DataType.String ? "STRING" : "BINARY");
      cursor.pos += length;
      return UNREAD;
    }
    default:
      throw unknownType(type, typeByte, at);
  }
}

/**
 * The arguments of one message, values decoded on first read. One flat array
 * holds three slots per argument (name, type byte position × 16 + type, value)
 * to keep a NOTIFY's decoding down to a few allocations.
 */
export class ArgumentIndex {
  #bytes: Uint8Array;
  #slots: Array<string | number | SpopValue | typeof UNREAD>;
  #count = 0;

  /**
   * Starts an empty index over a frame.
   *
   * @param bytes The frame the values lie in; not modified afterwards.
   * @param capacity How many arguments will be added (NB-ARGS).
   */
  constructor(bytes: Uint8Array, capacity: number) {
    this.#bytes = bytes;
    this.#slots = new Array(capacity * 3);
  }

  /** The number of arguments. */
  get size(): number {
    return this.#count;
  }

  /**
   * Reads the next argument's value at `cursor` (checking it), and adds it.
   *
   * @param name The argument's name.
   * @param cursor At the value's type byte; moved past the value.
   * @param end The end of the readable region.
   * @throws {MalformedFrameError} If the value is malformed.
   */
  add(name: string, cursor: ValueCursor, end: number): void {
    const start = cursor.pos;
    const value = scanValue(this.#bytes, cursor, end);
    const slots = this.#slots;
    const at = 3 * this.#count++;
    slots[at] = name;
    slots[at + 1] = start * 16 + cursor.type;
    slots[at + 2] = value;
  }

  /**
   * The name of an argument.
   *
   * @param index Its position.
   * @returns The name (`""` for a nameless argument).
   */
  name(index: number): string {
    return this.#slots[3 * index] as string;
  }

  /**
   * The position of the first argument with this name.
   *
   * @param name The argument name.
   * @returns Its index, or -1.
   */
  indexOf(name: string): number {
    const slots = this.#slots;
    const stop = 3 * this.#count;
    for (let i = 0; i < stop; i += 3) if (slots[i] === name) return i / 3;
    return -1;
  }

  /**
   * The SPOP type of an argument.
   *
   * @param index Its position.
   * @returns The type id.
   */
  type(index: number): DataType {
    return ((this.#slots[3 * index + 1] as number) & 15) as DataType;
  }

  /**
   * The value of an argument, decoded on first read.
   *
   * @param index Its position.
   * @returns The value.
   */
  value(index: number): SpopValue {
    const value = this.#slots[3 * index + 2];
    if (value !== UNREAD) return value as SpopValue;
    const decoded = this.#decode(index);
    this.#slots[3 * index + 2] = decoded;
    return decoded;
  }

  /**
   * An argument as a {@linkcode NamedValue}.
   *
   * @param index Its position.
   * @returns The argument.
   */
  namedValue(index: number): NamedValue {
    return new NamedValue(this.name(index), this.type(index), this.value(index));
  }

  #decode(index: number): SpopValue {
    const bytes = this.#bytes;
    const packed = this.#slots[3 * index + 1] as number;
    const type = packed & 15;
    const body = Math.floor(packed / 16) + 1;
    switch (type) {
      case DataType.String:
      case DataType.Binary: {
        // Checked when the message was decoded: the length fits the frame.
        const cursor = { pos: body };
        const length = readVarint(bytes, cursor) as number;
        const end = cursor.pos + length;
        return type === DataType.String
          ? decodeText(bytes, cursor.pos, end, true)
          : bytes.subarray(cursor.pos, end);
      }
      default:
        throw new TypeError(`ArgumentIndex: value ${index} has no deferred decoding`);
    }
  }
}
