/**
 * SPOP typed data (SPOE.txt §3.1): the ten types, their JavaScript
 * representations, constructors for each, and inference from plain values.
 *
 * Representations:
 *
 * | SPOP type | JavaScript value |
 * | --- | --- |
 * | NULL | `null` |
 * | BOOL | `boolean` |
 * | INT32, INT64 | `number` when exact (±(2^53 − 1)), else `bigint`; signed 64-bit, as HAProxy reads them |
 * | UINT32, UINT64 | `number` when exact (up to 2^53 − 1), else `bigint`; unsigned 64-bit |
 * | IPV4 | {@linkcode Ipv4Address} |
 * | IPV6 | {@linkcode Ipv6Address} |
 * | STRING | `string` |
 * | BINARY | `Uint8Array` (a view into the frame when decoded) |
 *
 * @module
 */

import { Ipv4Address, Ipv6Address } from "./ip_address.ts";

/** The SPOP data type ids (the low nibble of the type byte). */
export const DataType = {
  /** No value. */
  Null: 0,
  /** A boolean, carried in bit 4 of the type byte. */
  Boolean: 1,
  /** A signed 32-bit integer. */
  Int32: 2,
  /** An unsigned 32-bit integer. */
  Uint32: 3,
  /** A signed 64-bit integer: HAProxy sends every integer sample as this type. */
  Int64: 4,
  /** An unsigned 64-bit integer. */
  Uint64: 5,
  /** An IPv4 address. */
  Ipv4: 6,
  /** An IPv6 address. */
  Ipv6: 7,
  /** A UTF-8 string. */
  String: 8,
  /** A byte string. */
  Binary: 9,
} as const;

/** One of the ten SPOP data type ids. */
export type DataType = typeof DataType[keyof typeof DataType];

const TYPE_NAMES = [
  "NULL",
  "BOOL",
  "INT32",
  "UINT32",
  "INT64",
  "UINT64",
  "IPV4",
  "IPV6",
  "STRING",
  "BINARY",
] as const;

/**
 * Returns the spec's name of a data type (`"INT64"`, `"STRING"`...).
 *
 * @param type A data type id.
 * @returns The name, or `"TYPE(n)"` for an unknown id.
 *
 * @example
 * ```ts
 * import { DataType, dataTypeName } from "@spoa/agent";
 * console.log(dataTypeName(DataType.Ipv6)); // IPV6
 * ```
 */
export function dataTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `TYPE(${type})`;
}

/** Any value SPOP can carry, in its JavaScript representation. */
export type SpopValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Ipv4Address
  | Ipv6Address;

/**
 * A value with its SPOP type. Values decoded from the wire keep their type,
 * so they re-encode to the same bytes.
 *
 * @example Build typed values
 * ```ts
 * import { TypedValue, Value } from "@spoa/agent";
 * const score: TypedValue = Value.int32(-42);
 * console.log(score.type, score.value); // 2 -42
 * ```
 */
export class TypedValue {
  /** The SPOP data type. */
  readonly type: DataType;
  /** The value, in the representation its type maps to. */
  readonly value: SpopValue;

  /**
   * Pairs a type and a value without checking them; use {@linkcode Value} to
   * build checked values.
   *
   * @param type The SPOP data type.
   * @param value The value.
   */
  constructor(type: DataType, value: SpopValue) {
    this.type = type;
    this.value = value;
  }
}

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const UINT32_MAX = 0xffff_ffff;
const INT64_MIN = -0x8000_0000_0000_0000n;
const INT64_MAX = 0x7fff_ffff_ffff_ffffn;
const UINT64_MAX = 0xffff_ffff_ffff_ffffn;

function checkInteger(
  kind: string,
  value: number | bigint,
  min: number | bigint,
  max: number | bigint,
): number | bigint {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(
      `Cannot make ${kind}: ${value} is not an exact integer (use a bigint past 2^53)`,
    );
  }
  if (typeof value !== "number" && typeof value !== "bigint") {
    throw new TypeError(`Cannot make ${kind}: expected a number or bigint, got ${typeof value}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Cannot make ${kind}: ${value} is outside ${min} to ${max}`);
  }
  if (typeof value === "bigint" && value >= -9007199254740991n && value <= 9007199254740991n) {
    return Number(value);
  }
  return value;
}

function toIpv4(address: string | Uint8Array | Ipv4Address): Ipv4Address {
  if (address instanceof Ipv4Address) return address;
  return typeof address === "string" ? Ipv4Address.parse(address) : new Ipv4Address(address);
}

function toIpv6(address: string | Uint8Array | Ipv6Address): Ipv6Address {
  if (address instanceof Ipv6Address) return address;
  return typeof address === "string" ? Ipv6Address.parse(address) : new Ipv6Address(address);
}

const NULL_VALUE = new TypedValue(DataType.Null, null);
const TRUE_VALUE = new TypedValue(DataType.Boolean, true);
const FALSE_VALUE = new TypedValue(DataType.Boolean, false);

/** The constructors of {@linkcode Value}, one per SPOP type. */
export interface ValueConstructors {
  /** A NULL value; as the value of a set-var, HAProxy removes the variable. */
  null(): TypedValue;
  /** A BOOL value. */
  bool(value: boolean): TypedValue;
  /** An INT32 value, −2^31 to 2^31 − 1. */
  int32(value: number | bigint): TypedValue;
  /** A UINT32 value, 0 to 2^32 − 1. */
  uint32(value: number | bigint): TypedValue;
  /** An INT64 value, −2^63 to 2^63 − 1. */
  int64(value: number | bigint): TypedValue;
  /** A UINT64 value, 0 to 2^64 − 1. */
  uint64(value: number | bigint): TypedValue;
  /** An IPV4 value from text, 4 bytes, or an address. */
  ipv4(address: string | Uint8Array | Ipv4Address): TypedValue;
  /** An IPV6 value from text, 16 bytes, or an address. */
  ipv6(address: string | Uint8Array | Ipv6Address): TypedValue;
  /** A STRING value. */
  string(value: string): TypedValue;
  /** A BINARY value. */
  binary(value: Uint8Array): TypedValue;
}

/**
 * Constructors for every SPOP type, with range checks. Integers are stored
 * as `number` when exact and as `bigint` otherwise.
 *
 * Note HAProxy's reading of integers: it decodes all four integer types into
 * one signed 64-bit integer, so `Value.uint64(2n ** 64n - 1n)` shows as `-1`
 * in HAProxy, and negative 32-bit values are sent sign-extended to 64 bits.
 *
 * @example Set a variable of each kind
 * ```ts
 * import { Value } from "@spoa/agent";
 * const values = [
 *   Value.null(), Value.bool(true), Value.int32(-42), Value.uint32(4_000_000_000),
 *   Value.int64(2n ** 62n), Value.uint64(2n ** 64n - 1n), Value.ipv4("192.0.2.7"),
 *   Value.ipv6("2001:db8::7"), Value.string("hello"), Value.binary(new Uint8Array([0, 1])),
 * ];
 * console.log(values.length); // 10
 * ```
 */
export const Value: ValueConstructors = {
  /**
   * A NULL value. As the value of a set-var, HAProxy removes the variable.
   *
   * @returns The NULL value.
   */
  null(): TypedValue {
    return NULL_VALUE;
  },
  /**
   * A BOOL value.
   *
   * @param value The boolean.
   * @returns The typed value.
   */
  bool(value: boolean): TypedValue {
    return value ? TRUE_VALUE : FALSE_VALUE;
  },
  /**
   * An INT32 value, from −2^31 to 2^31 − 1.
   *
   * @param value The integer.
   * @returns The typed value.
   * @throws {RangeError} If the value is out of range or not an integer.
   */
  int32(value: number | bigint): TypedValue {
    return new TypedValue(DataType.Int32, checkInteger("INT32", value, INT32_MIN, INT32_MAX));
  },
  /**
   * A UINT32 value, from 0 to 2^32 − 1.
   *
   * @param value The integer.
   * @returns The typed value.
   * @throws {RangeError} If the value is out of range or not an integer.
   */
  uint32(value: number | bigint): TypedValue {
    return new TypedValue(DataType.Uint32, checkInteger("UINT32", value, 0, UINT32_MAX));
  },
  /**
   * An INT64 value, from −2^63 to 2^63 − 1.
   *
   * @param value The integer (a `bigint` past 2^53).
   * @returns The typed value.
   * @throws {RangeError} If the value is out of range or not an exact integer.
   */
  int64(value: number | bigint): TypedValue {
    return new TypedValue(DataType.Int64, checkInteger("INT64", value, INT64_MIN, INT64_MAX));
  },
  /**
   * A UINT64 value, from 0 to 2^64 − 1.
   *
   * @param value The integer (a `bigint` past 2^53).
   * @returns The typed value.
   * @throws {RangeError} If the value is out of range or not an exact integer.
   */
  uint64(value: number | bigint): TypedValue {
    return new TypedValue(DataType.Uint64, checkInteger("UINT64", value, 0, UINT64_MAX));
  },
  /**
   * An IPV4 value.
   *
   * @param address Dotted-quad text, 4 bytes, or an {@linkcode Ipv4Address}.
   * @returns The typed value.
   * @throws {TypeError} If the text is not an IPv4 address.
   */
  ipv4(address: string | Uint8Array | Ipv4Address): TypedValue {
    return new TypedValue(DataType.Ipv4, toIpv4(address));
  },
  /**
   * An IPV6 value.
   *
   * @param address IPv6 text, 16 bytes, or an {@linkcode Ipv6Address}.
   * @returns The typed value.
   * @throws {TypeError} If the text is not an IPv6 address.
   */
  ipv6(address: string | Uint8Array | Ipv6Address): TypedValue {
    return new TypedValue(DataType.Ipv6, toIpv6(address));
  },
  /**
   * A STRING value, sent as UTF-8.
   *
   * @param value The string.
   * @returns The typed value.
   */
  string(value: string): TypedValue {
    if (typeof value !== "string") {
      throw new TypeError(`Cannot make STRING: expected a string, got ${typeof value}`);
    }
    return new TypedValue(DataType.String, value);
  },
  /**
   * A BINARY value (the bytes are not copied).
   *
   * @param value The bytes.
   * @returns The typed value.
   */
  binary(value: Uint8Array): TypedValue {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError("Cannot make BINARY: expected a Uint8Array");
    }
    return new TypedValue(DataType.Binary, value);
  },
};

/**
 * Gives a plain JavaScript value its SPOP type:
 *
 * - `null` and `undefined` → NULL
 * - `boolean` → BOOL
 * - an integer `number` → INT64 (HAProxy stores every integer as signed 64-bit)
 * - a `bigint` → INT64 up to 2^63 − 1, UINT64 up to 2^64 − 1
 * - `string` → STRING; `Uint8Array` → BINARY
 * - {@linkcode Ipv4Address} → IPV4; {@linkcode Ipv6Address} → IPV6
 * - a {@linkcode TypedValue} (a decoded argument, or one from {@linkcode Value}) keeps its type
 *
 * @param value The value.
 * @returns The typed value.
 * @throws {TypeError} For a fractional number (SPOP has no floating-point type) or
 *   any other kind of value.
 * @throws {RangeError} For an integer outside −2^63 to 2^64 − 1.
 *
 * @example
 * ```ts
 * import { toTypedValue } from "@spoa/agent";
 * console.log(toTypedValue(42).type, toTypedValue("x").type); // 4 8
 * ```
 */
export function toTypedValue(value: SpopValue | TypedValue | undefined): TypedValue {
  switch (typeof value) {
    case "number":
      if (Number.isSafeInteger(value)) return new TypedValue(DataType.Int64, value);
      if (Number.isInteger(value)) {
        throw new RangeError(
          `Cannot send ${value}: it is not an exact integer (use a bigint past 2^53)`,
        );
      }
      throw new TypeError(
        `Cannot send ${value}: SPOP has no floating-point type (round it, or send a string)`,
      );
    case "string":
      return new TypedValue(DataType.String, value);
    case "boolean":
      return value ? TRUE_VALUE : FALSE_VALUE;
    case "bigint":
      return value <= INT64_MAX ? Value.int64(value) : Value.uint64(value);
    case "undefined":
      return NULL_VALUE;
  }
  if (value === null) return NULL_VALUE;
  if (value instanceof TypedValue) return value;
  if (value instanceof Uint8Array) return new TypedValue(DataType.Binary, value);
  if (value instanceof Ipv4Address) return new TypedValue(DataType.Ipv4, value);
  if (value instanceof Ipv6Address) return new TypedValue(DataType.Ipv6, value);
  throw new TypeError(`Cannot send a value of type ${typeof value} (${String(value)}) over SPOP`);
}
