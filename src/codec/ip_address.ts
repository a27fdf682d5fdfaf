/**
 * IPv4 and IPv6 addresses as SPOP carries them: 4 or 16 bytes in network
 * order, printed in the usual text form.
 *
 * @module
 */

/**
 * An IPv4 address (SPOP type IPV4).
 *
 * @example
 * ```ts
 * import { Ipv4Address } from "@spoa/agent";
 * const address = Ipv4Address.parse("192.0.2.7");
 * console.log(String(address), address.bytes); // 192.0.2.7 Uint8Array(4) [ 192, 0, 2, 7 ]
 * ```
 */
export class Ipv4Address {
  /** The four bytes of the address, in network order. */
  readonly bytes: Uint8Array;

  /**
   * Wraps four bytes (not copied).
   *
   * @param bytes The address in network order.
   * @throws {RangeError} If `bytes` is not 4 bytes long.
   */
  constructor(bytes: Uint8Array) {
    if (bytes.length !== 4) {
      throw new RangeError(`An IPv4 address has 4 bytes, not ${bytes.length}`);
    }
    this.bytes = bytes;
  }

  /**
   * Parses dotted-quad text such as `"192.0.2.7"`.
   *
   * @param text The address.
   * @returns The address.
   * @throws {TypeError} If the text is not an IPv4 address.
   */
  static parse(text: string): Ipv4Address {
    const bytes = parseIpv4(text);
    if (!bytes) throw new TypeError(`Not an IPv4 address: "${text}"`);
    return new Ipv4Address(bytes);
  }

  /** The address as dotted-quad text. */
  toString(): string {
    const b = this.bytes;
    return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  }

  /** The address as dotted-quad text, for `JSON.stringify`. */
  toJSON(): string {
    return this.toString();
  }
}

/**
 * An IPv6 address (SPOP type IPV6), printed in the RFC 5952 form
 * (`2001:db8::7`, `::ffff:192.0.2.7`).
 *
 * @example
 * ```ts
 * import { Ipv6Address } from "@spoa/agent";
 * console.log(String(Ipv6Address.parse("2001:0db8:0:0:0:0:0:0007"))); // 2001:db8::7
 * ```
 */
export class Ipv6Address {
  /** The sixteen bytes of the address, in network order. */
  readonly bytes: Uint8Array;

  /**
   * Wraps sixteen bytes (not copied).
   *
   * @param bytes The address in network order.
   * @throws {RangeError} If `bytes` is not 16 bytes long.
   */
  constructor(bytes: Uint8Array) {
    if (bytes.length !== 16) {
      throw new RangeError(`An IPv6 address has 16 bytes, not ${bytes.length}`);
    }
    this.bytes = bytes;
  }

  /**
   * Parses IPv6 text: full, compressed (`::`), or with a trailing IPv4 part.
   *
   * @param text The address.
   * @returns The address.
   * @throws {TypeError} If the text is not an IPv6 address.
   */
  static parse(text: string): Ipv6Address {
    const bytes = parseIpv6(text);
    if (!bytes) throw new TypeError(`Not an IPv6 address: "${text}"`);
    return new Ipv6Address(bytes);
  }

  /** The address in RFC 5952 text form. */
  toString(): string {
    const b = this.bytes;
    const words = new Array<number>(8);
    for (let i = 0; i < 8; i++) words[i] = (b[2 * i] << 8) | b[2 * i + 1];
    if (
      words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 &&
      words[5] === 0xffff
    ) {
      return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    }
    // The longest run of two or more zero words becomes "::" (the first one on a tie).
    let bestStart = -1, bestLength = 1;
    for (let i = 0; i < 8;) {
      if (words[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && words[j] === 0) j++;
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    if (bestStart < 0) return words.map((w) => w.toString(16)).join(":");
    const head = words.slice(0, bestStart).map((w) => w.toString(16)).join(":");
    const tail = words.slice(bestStart + bestLength).map((w) => w.toString(16)).join(":");
    return `${head}::${tail}`;
  }

  /** The address in RFC 5952 text form, for `JSON.stringify`. */
  toJSON(): string {
    return this.toString();
  }
}

/** Either kind of address. */
export type IpAddress = Ipv4Address | Ipv6Address;

/**
 * Parses IPv4 or IPv6 text.
 *
 * @param text The address.
 * @returns An {@linkcode Ipv4Address} or an {@linkcode Ipv6Address}.
 * @throws {TypeError} If the text is neither.
 *
 * @example
 * ```ts
 * import { parseIpAddress } from "@spoa/agent";
 * console.log(String(parseIpAddress("::1"))); // ::1
 * ```
 */
export function parseIpAddress(text: string): IpAddress {
  return text.includes(":") ? Ipv6Address.parse(text) : Ipv4Address.parse(text);
}

const DECIMAL_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEX_WORD = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!DECIMAL_OCTET.test(parts[i])) return undefined;
    const value = Number(parts[i]);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  let words: number[] | undefined;
  if (halves.length === 1) {
    words = parseWords(halves[0], true);
    if (!words || words.length !== 8) return undefined;
  } else {
    const head = parseWords(halves[0], false);
    const tail = parseWords(halves[1], true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = words[i] >> 8;
    bytes[2 * i + 1] = words[i] & 0xff;
  }
  return bytes;
}

/** Parses colon-separated hex words; the last may be dotted IPv4 when `ipv4Tail` allows. */
function parseWords(text: string, ipv4Tail: boolean): number[] | undefined {
  if (text === "") return [];
  const parts = text.split(":");
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (HEX_WORD.test(part)) {
      words.push(parseInt(part, 16));
    } else if (ipv4Tail && i === parts.length - 1) {
      const v4 = parseIpv4(part);
      if (!v4) return undefined;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      return undefined;
    }
  }
  return words;
}
