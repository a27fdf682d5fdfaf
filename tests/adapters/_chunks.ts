// Checks that a runtime's socket hands out chunks that stay valid: the engine keeps zero-copy
// views of them (frames, binary arguments), so a runtime that reused its read buffer would
// corrupt NOTIFYs still being handled.
import assert from "node:assert/strict";
import { delay } from "./_helpers.ts";
import type { Target } from "./_helpers.ts";
import * as net from "node:net";
import * as tls from "node:tls";

/**
 * Writes 40 writes of distinct bytes (write i is i+1 repeated, 64 to 64×40 bytes long) to a
 * server that keeps every chunk it gets without copying, then checks the kept chunks.
 *
 * @param target The server, which must push each chunk it receives into `kept`.
 * @param kept The chunks the server kept.
 * @param useTls Connect with TLS.
 */
export async function checkKeptChunks(
  target: Target,
  kept: Uint8Array[],
  useTls = false,
): Promise<void> {
  if ("path" in target) throw new TypeError("TCP only");
  const socket = useTls
    ? tls.connect({ host: target.hostname, port: target.port, rejectUnauthorized: false })
    : net.connect({ host: target.hostname, port: target.port });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once(useTls ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    socket.setNoDelay(true);
    const writes = 40;
    let total = 0;
    for (let i = 1; i <= writes; i++) {
      socket.write(new Uint8Array(64 * i).fill(i));
      total += 64 * i;
      await delay(2);
    }
    const deadline = Date.now() + 5000;
    const received = () => kept.reduce((sum, chunk) => sum + chunk.length, 0);
    while (received() < total && Date.now() < deadline) await delay(10);
    assert.equal(received(), total);
    // Rebuild the stream from the kept chunks: every byte must still be what was sent.
    const stream = new Uint8Array(total);
    let offset = 0;
    for (const chunk of kept) {
      stream.set(chunk, offset);
      offset += chunk.length;
    }
    offset = 0;
    for (let i = 1; i <= writes; i++) {
      const part = stream.subarray(offset, offset + 64 * i);
      assert.ok(part.every((byte) => byte === i), `write ${i} changed after it was delivered`);
      offset += 64 * i;
    }
  } finally {
    socket.destroy();
  }
}
