// The outbox alone: one write per turn, ACK counts per write, backpressure, close after flush, and
// a buffer that shrinks back after a large frame.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Outbox, SHRINK_ABOVE } from "../../src/engine/outbox.ts";
import type { Transport } from "../../src/engine/transport.ts";
import { deferred, tick } from "./_helpers.ts";

interface FakeSocket {
  transport: Transport;
  /** Copies of the bytes of each write, as they were when written. */
  writes: Uint8Array[];
  /** The bytes of each write as the outbox handed them (its memory). */
  handed: Uint8Array[];
  closes: number;
  /** Makes the next writes wait until the returned function is called. */
  block(): () => void;
}

function fakeSocket(): FakeSocket {
  const socket: FakeSocket = {
    writes: [],
    handed: [],
    closes: 0,
    block() {
      const gate = deferred();
      blocked = gate.promise;
      return () => {
        blocked = undefined;
        gate.resolve();
      };
    },
    transport: {
      remoteAddress: "test",
      write(bytes) {
        socket.writes.push(bytes.slice());
        socket.handed.push(bytes);
        return blocked;
      },
      close: () => socket.closes++,
      pause() {},
      resume() {},
    },
  };
  let blocked: Promise<void> | undefined;
  return socket;
}

test("Outbox sends everything queued in one turn in one write, and reports its ACK count", async () => {
  const socket = fakeSocket();
  const written: number[] = [];
  const outbox = new Outbox(socket.transport, {
    written: (n) => written.push(n),
    failed: () => {},
  });
  outbox.writer.bytes(new Uint8Array([1, 2]));
  outbox.ackQueued();
  outbox.writer.bytes(new Uint8Array([3]));
  outbox.ackQueued();
  assert.equal(socket.writes.length, 0, "nothing before the end of the turn");
  assert.equal(outbox.queuedBytes, 3);
  await tick();
  assert.deepEqual(socket.writes, [new Uint8Array([1, 2, 3])]);
  assert.deepEqual(written, [2]);
  assert.equal(outbox.queuedBytes, 0);
});

test("Outbox waits for a blocked write before the next one; the ACKs meanwhile go out together", async () => {
  const socket = fakeSocket();
  const written: number[] = [];
  const outbox = new Outbox(socket.transport, {
    written: (n) => written.push(n),
    failed: () => {},
  });
  const release = socket.block();
  outbox.writer.u8(1);
  outbox.ackQueued();
  await tick();
  outbox.writer.u8(2);
  outbox.ackQueued();
  outbox.writer.u8(3);
  outbox.ackQueued();
  await tick();
  assert.equal(socket.writes.length, 1);
  assert.deepEqual(written, []);
  assert.equal(outbox.writing, true);
  release();
  await tick();
  assert.deepEqual(socket.writes.map((bytes) => [...bytes]), [[1], [2, 3]]);
  assert.deepEqual(written, [1, 2]);
});

test("Outbox writes into the same memory once the socket is done with a write, not into a new buffer each 64 KiB", async () => {
  const socket = fakeSocket();
  const outbox = new Outbox(socket.transport, { written: () => {}, failed: () => {} });
  const frame = new Uint8Array(200).fill(7);
  for (let turn = 0; turn < 400; turn++) {
    outbox.writer.bytes(frame);
    outbox.ackQueued();
    await tick();
  }
  assert.equal(socket.handed.length, 400);
  const buffers = new Set(socket.handed.map((bytes) => bytes.buffer));
  assert.equal(buffers.size, 1, `${buffers.size} buffers for 80 KB sent 200 bytes at a time`);
  assert.ok(socket.handed.every((bytes) => bytes.byteOffset === 0));
});

test("Outbox leaves a write the socket still holds untouched, and reuses its memory once it is done", async () => {
  const socket = fakeSocket();
  const outbox = new Outbox(socket.transport, { written: () => {}, failed: () => {} });
  const release = socket.block();
  outbox.writer.bytes(new Uint8Array(100).fill(1));
  outbox.ackQueued();
  await tick();
  const held = socket.handed[0];
  // Answers encoded while the socket holds the first write must not overwrite it.
  for (let i = 0; i < 50; i++) {
    outbox.writer.bytes(new Uint8Array(100).fill(2));
    outbox.ackQueued();
    await tick();
  }
  assert.deepEqual(held, new Uint8Array(100).fill(1));
  release();
  await tick();
  assert.equal(socket.handed.length, 2);
  assert.deepEqual(socket.writes[1], new Uint8Array(5000).fill(2));
  outbox.writer.bytes(new Uint8Array(10).fill(3));
  outbox.ackQueued();
  await tick();
  assert.equal(socket.handed[2].buffer, socket.handed[1].buffer);
  assert.equal(socket.handed[2].byteOffset, 0, "written from the start again");
  assert.deepEqual(socket.writes[2], new Uint8Array(10).fill(3));
});

test("Outbox.closeAfterFlush() sends what is queued, even behind a blocked write, then closes once", async () => {
  const socket = fakeSocket();
  const outbox = new Outbox(socket.transport, { written: () => {}, failed: () => {} });
  socket.block();
  outbox.writer.u8(1);
  outbox.ackQueued();
  await tick();
  outbox.writer.u8(2);
  outbox.closeAfterFlush();
  outbox.closeAfterFlush();
  await tick();
  assert.deepEqual(socket.writes.map((bytes) => [...bytes]), [[1], [2]]);
  assert.equal(socket.closes, 1);
  outbox.writer.u8(3);
  outbox.schedule();
  await tick();
  assert.equal(socket.writes.length, 2, "nothing after the close");
});

test("Outbox shrinks its buffer back after a frame larger than 64 KiB", async () => {
  const socket = fakeSocket();
  const outbox = new Outbox(socket.transport, { written: () => {}, failed: () => {} });
  outbox.writer.bytes(new Uint8Array(20 << 20));
  outbox.ackQueued();
  assert.ok(outbox.writer.capacity >= 20 << 20);
  await tick();
  assert.equal(socket.writes[0].length, 20 << 20);
  assert.ok(outbox.writer.capacity <= SHRINK_ABOVE, `capacity ${outbox.writer.capacity}`);
  // A buffer that grew within the limit is kept (no churn for ordinary traffic).
  outbox.writer.bytes(new Uint8Array(40 * 1024));
  outbox.ackQueued();
  const kept = outbox.writer.capacity;
  await tick();
  assert.equal(outbox.writer.capacity, kept);
});

test("Outbox reports a write that throws or rejects as failed, once", async () => {
  for (const mode of ["throw", "reject"] as const) {
    const failures: unknown[] = [];
    const transport: Transport = {
      remoteAddress: "test",
      write() {
        if (mode === "throw") throw new Error("EPIPE");
        return Promise.reject(new Error("EPIPE"));
      },
      close() {},
      pause() {},
      resume() {},
    };
    const outbox = new Outbox(transport, { written: () => {}, failed: (e) => failures.push(e) });
    outbox.writer.u8(1);
    outbox.ackQueued();
    await tick();
    outbox.writer.u8(2);
    outbox.ackQueued();
    await tick();
    assert.equal(failures.length, 1, mode);
  }
});
