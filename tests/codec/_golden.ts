// Loads the golden frames of tests/vectors/ (captured from real HAProxy, see its README.md) and
// offers the small helpers the codec and reader tests share. Integers that may exceed 2^53
// (`raw_u64`, and the `value` of integer types) are decimal strings in those files.
import { readFile } from "node:fs/promises";

/** The HAProxy versions with a vector file. */
export const VERSIONS = ["2.6", "3.0", "3.2", "3.4"] as const;

/** One of {@linkcode VERSIONS}. */
export type Version = (typeof VERSIONS)[number];

/** A typed value as the capture tooling decoded it. */
export interface GoldenValue {
  type: string;
  type_byte: string;
  value?: string | boolean | null;
  value_hex?: string;
  length?: number;
  varint_hex?: string;
  raw_u64?: string;
}

/** A KV-list item. */
export interface GoldenItem extends GoldenValue {
  key: string;
}

/** A message argument. */
export interface GoldenArg extends GoldenValue {
  name: string;
}

/** A message of a NOTIFY. */
export interface GoldenMessage {
  name: string;
  nb_args: number;
  args: GoldenArg[];
}

/** An action of an ACK; an unknown action has only `action` ("UNKNOWN(n)") and `rest_hex`. */
export interface GoldenAction {
  action: string;
  nb_args?: number;
  scope?: string;
  name?: string;
  value?: GoldenValue;
  rest_hex?: string;
}

/** The capture tooling's decoding of a frame. */
export interface GoldenDecoded {
  frame_length: number;
  type: number;
  type_name: string;
  flags: string;
  fin: boolean;
  abort: boolean;
  stream_id: number;
  frame_id: number;
  metadata_hex: string;
  kv?: GoldenItem[];
  messages?: GoldenMessage[];
  actions?: GoldenAction[];
  payload_hex?: string;
  fragment_payload_hex?: string;
  reassembled_payload_hex?: string;
  reassembled_messages?: GoldenMessage[];
}

/** One captured frame. */
export interface GoldenFrame {
  version: string;
  direction: "haproxy->agent" | "agent->haproxy";
  kind: string;
  scenario: string;
  /** The whole frame, 4-byte length prefix included. */
  hex: string;
  decoded: GoldenDecoded;
}

/**
 * Reads the golden frames captured from one HAProxy version.
 *
 * @param version The HAProxy version.
 * @returns The frames in capture order.
 */
export async function loadVectors(version: Version): Promise<GoldenFrame[]> {
  const url = new URL(`../vectors/haproxy-${version}.json`, import.meta.url);
  return JSON.parse(await readFile(url, "utf8")) as GoldenFrame[];
}

/** The golden frames of every version, read once. */
export const GOLDEN: ReadonlyMap<Version, GoldenFrame[]> = new Map(
  await Promise.all(VERSIONS.map(async (v) => [v, await loadVectors(v)] as const)),
);

/**
 * Decodes hex text.
 *
 * @param hex Hex digits, two per byte.
 * @returns The bytes (in a buffer of their own).
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new Error(`odd hex length ${hex.length}`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * Encodes bytes as lowercase hex.
 *
 * @param bytes The bytes.
 * @returns Two hex digits per byte.
 */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (let i = 0; i < bytes.length; i++) hex += bytes[i].toString(16).padStart(2, "0");
  return hex;
}

/**
 * The frame body of a golden frame: its hex without the 4-byte length prefix.
 *
 * @param frame The golden frame.
 * @returns The frame bytes as `decodeFrame` takes them.
 */
export function frameBody(frame: GoldenFrame): Uint8Array {
  return fromHex(frame.hex.slice(8));
}

/**
 * A small deterministic PRNG (mulberry32), so that fuzzing and random chunkings repeat exactly.
 *
 * @param seed Any 32-bit integer.
 * @returns A function returning integers in [0, n).
 */
export function prng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(r * n);
  };
}

/**
 * Tells whether two byte arrays hold the same bytes.
 *
 * @param a One array.
 * @param b The other.
 * @returns `true` if equal.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
