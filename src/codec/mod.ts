/**
 * The SPOP codec: varints, typed data, KV lists, messages, actions and
 * frames, over `Uint8Array` and `DataView` only. It knows nothing of sockets
 * or runtimes.
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
export * from "./errors.ts";
export * from "./frame.ts";
export * from "./ip_address.ts";
export * from "./kv_list.ts";
export * from "./message.ts";
export * from "./status.ts";
export * from "./typed_data.ts";
export * from "./typed_value.ts";
export * from "./varint.ts";
