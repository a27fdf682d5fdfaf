/**
 * The SPOP codec, for tools that speak the protocol themselves (load
 * generators, proxies, captures): whole frames, both sides' frame builders,
 * the streaming frame reader, and the values they carry, over `Uint8Array`
 * and `DataView` only. It knows nothing of sockets or runtimes. An agent
 * needs none of it: `@spoa/agent` is enough.
 *
 * @example Decode a frame
 * ```ts
 * import { decodeFrame, encodeFrame, FrameType } from "@spoa/agent/codec";
 * const bytes = encodeFrame({ type: FrameType.AgentDisconnect, items: [] });
 * console.log(decodeFrame(bytes.subarray(4)).type); // 102
 * ```
 *
 * @module
 */

export * from "./action.ts";
export * from "./byte_writer.ts";
export * from "./disconnect_frames.ts";
export * from "./errors.ts";
export {
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameFlags,
  type FrameHeader,
  type FrameInit,
  FrameType,
  frameTypeName,
  MIN_FRAME_LENGTH,
  readFrameHeader,
  writeFrame,
} from "./frame.ts";
export * from "./hello_frames.ts";
export * from "./ip_address.ts";
export * from "./kv_list.ts";
export * from "./message.ts";
export * from "./notify_frames.ts";
export * from "./status.ts";
export * from "./typed_value.ts";
export { FrameReader, type FrameReaderOptions } from "../reader/frame_reader.ts";
