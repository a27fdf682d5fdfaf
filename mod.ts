/**
 * @spoa/agent: write HAProxy SPOA agents in TypeScript.
 *
 * @module
 */

export * from "./src/codec/mod.ts";
export * from "./src/reader/frame_reader.ts";
