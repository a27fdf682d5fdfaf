// Property tests of the engine behind a connection (fast-check, in memory): whatever bytes a peer
// sends, cut however a socket cuts them, receive() never throws, the agent writes whole frames
// only, the same bytes for every chunking, and a connection it closes ends with one
// AGENT-DISCONNECT carrying a status code (or, after a health check, with its AGENT-HELLO).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeFrame, FrameReader, FrameType, Status } from "../../src/codec/mod.ts";
import { Agent, silentLogger } from "../../mod.ts";
import { anyChunking, chunked } from "../codec/_arbitraries.ts";
import { toHex } from "../codec/_golden.ts";
import { registerFuzzHandlers } from "./_fuzz_handlers.ts";
import { capturedSession, hostileStream, runInMemory } from "./_streams.ts";

const STATUSES = new Set<number>(Object.values(Status));

/** The frames of the agent's output, decoded; fails on a partial frame or a malformed one. */
function framesOf(output: Uint8Array) {
  const reader = new FrameReader({ maxFrameSize: 0xffff_ffff });
  reader.push(output);
  const frames = [];
  for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
    frames.push(decodeFrame(raw));
  }
  assert.equal(reader.bufferedBytes, 0, "the agent's output ends on a frame boundary");
  return frames;
}

function statusOf(frame: ReturnType<typeof decodeFrame>): unknown {
  return frame.items?.find((item) => item.name === "status-code")?.value;
}

const ends = { open: 0, healthcheck: 0, disconnect: new Map<number, number>() };

async function check(bytes: Uint8Array, sizes: number[]): Promise<void> {
  const agent = registerFuzzHandlers(new Agent({ logger: silentLogger }));
  const whole = await runInMemory(agent, [bytes.slice()]);
  const cut = await runInMemory(agent, chunked(bytes, sizes));
  assert.equal(toHex(cut.output), toHex(whole.output), "the same output for every chunking");
  assert.equal(cut.closedByAgent, whole.closedByAgent);
  assert.equal(agent.connectionCount, 0, "every connection was released");
  const frames = framesOf(whole.output);
  const types = frames.map((frame) => frame.type);
  // Only what an agent may send: one AGENT-HELLO first, ACKs, and AGENT-DISCONNECT last.
  types.forEach((type, i) => {
    if (type === FrameType.AgentHello) assert.equal(i, 0, "AGENT-HELLO comes first, once");
    else if (type === FrameType.AgentDisconnect) assert.equal(i, types.length - 1);
    else assert.equal(type, FrameType.Ack, `frame type ${type}`);
  });
  const last = frames.at(-1);
  if (!whole.closedByAgent) {
    assert.notEqual(last?.type, FrameType.AgentDisconnect);
    ends.open++;
  } else if (last?.type === FrameType.AgentDisconnect) {
    const status = statusOf(last);
    assert.ok(typeof status === "number" && STATUSES.has(status), `status ${status}`);
    ends.disconnect.set(status, (ends.disconnect.get(status) ?? 0) + 1);
  } else {
    // Closed without a goodbye: only after answering a health check.
    assert.deepEqual(types, [FrameType.AgentHello], "a close without AGENT-DISCONNECT");
    ends.healthcheck++;
  }
}

test("property: hostile streams in any chunking never throw out of the engine and get the same answer", async () => {
  await fc.assert(fc.asyncProperty(hostileStream, anyChunking, check), { numRuns: 600 });
  await fc.assert(fc.asyncProperty(capturedSession, anyChunking, check), { numRuns: 200 });
  // Every kind of end came up, and so did several statuses.
  assert.ok(ends.open > 20 && ends.healthcheck > 0, JSON.stringify({ ...ends, disconnect: 0 }));
  const statuses = [...ends.disconnect].map(([status, count]) => `${status}: ${count}`).join(", ");
  for (const status of [Status.Normal, Status.FrameTooBig, Status.InvalidFrame]) {
    assert.ok(ends.disconnect.has(status), `statuses seen: ${statuses}`);
  }
});
