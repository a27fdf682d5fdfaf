/**
 * The handshake (SPOE.txt §3.2.4 and §3.2.5): reading HAPROXY-HELLO and
 * choosing what AGENT-HELLO answers.
 *
 * @module
 */

import { SpopError } from "../codec/errors.ts";
import type { NamedValue } from "../codec/kv_list.ts";
import { Status } from "../codec/status.ts";
import { DataType } from "../codec/typed_value.ts";

/** The only SPOP version there is. */
export const SPOP_VERSION = "2.0";

/** The smallest max-frame-size SPOE.txt allows. */
export const MIN_MAX_FRAME_SIZE = 256;

/** What the handshake settled. */
export interface HelloResult {
  /** The version chosen: always "2.0". */
  version: string;
  /** The frame size both sides respect. */
  maxFrameSize: number;
  /** The capabilities the agent announces. */
  capabilities: string[];
  /** Whether HAProxy offered pipelining (several NOTIFYs in flight). */
  pipelining: boolean;
  /**
   * Whether HAProxy offered `async`: only the legacy SPOE of HAProxy 2.6/3.0
   * does (by default), 3.1+ never does. The agent does not use async.
   */
  offeredAsync: boolean;
  /** Whether fragmented NOTIFYs may arrive. */
  fragmentation: boolean;
  /** Whether this is a health check (answer, then close). */
  healthcheck: boolean;
  /** HAProxy's engine-id, if sent. */
  engineId: string | undefined;
}

function find(items: readonly NamedValue[], name: string): NamedValue | undefined {
  for (const item of items) if (item.name === name) return item;
  return undefined;
}

function splitList(text: string): string[] {
  return text.split(",").map((part) => part.trim()).filter((part) => part !== "");
}

function isVersion2(text: string): boolean {
  const match = /^(\d+)\.(\d+)$/.exec(text);
  return match !== null && Number(match[1]) === 2 && Number(match[2]) === 0;
}

/**
 * Reads HAProxy's HELLO items and settles the handshake.
 *
 * @param items The KV list of the HAPROXY-HELLO frame.
 * @param maxFrameSize The agent's own limit.
 * @param fragmentation Whether the agent accepts fragmented NOTIFYs.
 * @returns What to answer and how to behave.
 * @throws {SpopError} Status 5, 6 or 7 for a missing item, 8 for no common
 *   version, 9 for a max-frame-size out of range, 4 for an item of the wrong type.
 *
 * @example
 * ```ts
 * import { DataType, NamedValue } from "@spoa/agent";
 * import { negotiateHello } from "./hello.ts";
 * const result = negotiateHello([
 *   new NamedValue("supported-versions", DataType.String, "2.0"),
 *   new NamedValue("max-frame-size", DataType.Uint32, 16380),
 *   new NamedValue("capabilities", DataType.String, "pipelining"),
 * ], 65532, true);
 * console.log(result.maxFrameSize, result.capabilities); // 16380 [ "pipelining", "fragmentation" ]
 * ```
 */
export function negotiateHello(
  items: readonly NamedValue[],
  maxFrameSize: number,
  fragmentation: boolean,
): HelloResult {
  const versions = find(items, "supported-versions");
  if (versions === undefined) {
    throw new SpopError(Status.NoVersion, "HAPROXY-HELLO has no supported-versions");
  }
  if (versions.type !== DataType.String) {
    throw new SpopError(Status.InvalidFrame, "HAPROXY-HELLO supported-versions is not a string");
  }
  const offered = splitList(versions.value as string);
  if (!offered.some(isVersion2)) {
    throw new SpopError(
      Status.BadVersion,
      `no common version: HAProxy offers "${versions.value}", the agent speaks ${SPOP_VERSION}`,
    );
  }

  const size = find(items, "max-frame-size");
  if (size === undefined) {
    throw new SpopError(Status.NoFrameSize, "HAPROXY-HELLO has no max-frame-size");
  }
  if (size.type < DataType.Int32 || size.type > DataType.Uint64) {
    throw new SpopError(Status.InvalidFrame, "HAPROXY-HELLO max-frame-size is not an integer");
  }
  const offeredSize = size.value as number | bigint;
  if (offeredSize < MIN_MAX_FRAME_SIZE || offeredSize > 0xffff_ffff) {
    throw new SpopError(
      Status.BadFrameSize,
      `max-frame-size ${offeredSize} is outside ${MIN_MAX_FRAME_SIZE} to 4294967295`,
    );
  }

  const capabilitiesItem = find(items, "capabilities");
  if (capabilitiesItem === undefined) {
    throw new SpopError(Status.NoCapabilities, "HAPROXY-HELLO has no capabilities");
  }
  if (capabilitiesItem.type !== DataType.String) {
    throw new SpopError(Status.InvalidFrame, "HAPROXY-HELLO capabilities is not a string");
  }
  const offeredCapabilities = splitList(capabilitiesItem.value as string);
  const pipelining = offeredCapabilities.includes("pipelining");
  const capabilities: string[] = [];
  if (pipelining) capabilities.push("pipelining");
  if (fragmentation) capabilities.push("fragmentation");

  const healthcheck = find(items, "healthcheck");
  const engineId = find(items, "engine-id");
  return {
    version: SPOP_VERSION,
    maxFrameSize: Math.min(Number(offeredSize), maxFrameSize),
    capabilities,
    pipelining,
    offeredAsync: offeredCapabilities.includes("async"),
    fragmentation,
    healthcheck: healthcheck?.type === DataType.Boolean && healthcheck.value === true,
    engineId: engineId?.type === DataType.String ? engineId.value as string : undefined,
  };
}
