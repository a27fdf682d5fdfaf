/**
 * The two HELLO frames (SPOE.txt §3.2.4, §3.2.5): HAPROXY-HELLO, as HAProxy
 * sends it, and AGENT-HELLO, the agent's reply. Both carry a KV list.
 *
 * @module
 */

import type { ByteWriter } from "./byte_writer.ts";
import { beginFrame, endFrame, FrameFlags, FrameType } from "./frame.ts";
import { NamedValue, writeKvList } from "./kv_list.ts";
import { DataType } from "./typed_value.ts";

/**
 * The items of a HAPROXY-HELLO. An item left `undefined` is left out of the
 * frame (HAProxy always sends the first three; tests leave some out).
 */
export interface HaproxyHelloInit {
  /** `supported-versions`, e.g. `"2.0"`. */
  supportedVersions?: string;
  /** `max-frame-size`: the largest frame HAProxy accepts (16380 by default). */
  maxFrameSize?: number;
  /** `capabilities`, comma-separated: `"pipelining,async"` (2.6/3.0), `"pipelining"` (3.1+). */
  capabilities?: string;
  /** `engine-id`: a UUID, per thread (2.6/3.0) or per agent (3.1+); absent in health checks. */
  engineId?: string;
  /** `healthcheck`: true in the HELLO of `option spop-check`. */
  healthcheck?: boolean;
}

/**
 * Appends a HAPROXY-HELLO frame, its items in the order HAProxy sends them.
 *
 * @param writer The destination.
 * @param init The items.
 * @returns The frame length (without the 4-byte prefix).
 *
 * @example
 * ```ts
 * import { ByteWriter, writeHaproxyHello } from "@spoa/agent/codec";
 * const writer = new ByteWriter(256);
 * const length = writeHaproxyHello(writer, {
 *   supportedVersions: "2.0", maxFrameSize: 16380, capabilities: "", healthcheck: true,
 * });
 * // The frame `option spop-check` sends is 78 bytes; the writer holds its 4-byte length too.
 * console.log(length, writer.length); // 78 82
 * ```
 */
export function writeHaproxyHello(writer: ByteWriter, init: HaproxyHelloInit): number {
  const items: NamedValue[] = [];
  if (init.supportedVersions !== undefined) {
    items.push(new NamedValue("supported-versions", DataType.String, init.supportedVersions));
  }
  if (init.maxFrameSize !== undefined) {
    items.push(new NamedValue("max-frame-size", DataType.Uint32, init.maxFrameSize));
  }
  if (init.capabilities !== undefined) {
    items.push(new NamedValue("capabilities", DataType.String, init.capabilities));
  }
  if (init.engineId !== undefined) {
    items.push(new NamedValue("engine-id", DataType.String, init.engineId));
  }
  if (init.healthcheck !== undefined) {
    items.push(new NamedValue("healthcheck", DataType.Boolean, init.healthcheck));
  }
  const start = beginFrame(writer, FrameType.HaproxyHello, FrameFlags.Fin, 0, 0);
  writeKvList(writer, items);
  return endFrame(writer, start);
}

/** The items of an AGENT-HELLO. */
export interface AgentHelloInit {
  /** `version`: the protocol version chosen, `"2.0"`. */
  version: string;
  /** `max-frame-size`: at least 256 and at most HAProxy's value. */
  maxFrameSize: number;
  /** `capabilities`: what the agent supports, e.g. `["pipelining"]`. */
  capabilities: readonly string[];
}

/**
 * Appends an AGENT-HELLO frame with `version`, `max-frame-size` and
 * `capabilities`: the three items HAProxy 3.1+'s health check requires.
 *
 * @param writer The destination.
 * @param init The items.
 * @returns The frame length (without the 4-byte prefix).
 *
 * @example
 * ```ts
 * import { ByteWriter, decodeFrame, writeAgentHello } from "@spoa/agent/codec";
 * const writer = new ByteWriter(128);
 * writeAgentHello(writer, { version: "2.0", maxFrameSize: 16380, capabilities: ["pipelining"] });
 * console.log(decodeFrame(writer.take().subarray(4)).items?.length); // 3
 * ```
 */
export function writeAgentHello(writer: ByteWriter, init: AgentHelloInit): number {
  const start = beginFrame(writer, FrameType.AgentHello, FrameFlags.Fin, 0, 0);
  writeKvList(writer, [
    new NamedValue("version", DataType.String, init.version),
    new NamedValue("max-frame-size", DataType.Uint32, init.maxFrameSize),
    new NamedValue("capabilities", DataType.String, init.capabilities.join(",")),
  ]);
  return endFrame(writer, start);
}
