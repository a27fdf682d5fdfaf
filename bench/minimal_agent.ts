/**
 * A reference agent that is not the library: a hand-written, minimal SPOP
 * responder on `node:net` (any runtime) that answers HAPROXY-HELLO with a fixed
 * AGENT-HELLO and each NOTIFY with `set-var(sess.ip_score)` = the last byte of
 * its `ip` argument, one write per read. It checks almost nothing (no
 * fragmentation, no DISCONNECT handling, no limits): it only shows how much of
 * a measurement is the library and how much is the runtime, the kernel, the
 * generator or HAProxy. Same command line and ready line as bench/agent.ts.
 *
 *   bun bench/minimal_agent.ts [HOST:PORT]
 *
 * @module
 */

import * as net from "node:net";
import { Buffer } from "node:buffer";
import process from "node:process";

const target = process.argv[2] ?? "127.0.0.1:12345";
const colon = target.lastIndexOf(":");
const host = target.slice(0, colon);
const port = Number(target.slice(colon + 1));

function frame(type: number, sid: number, fid: number, payload: number[]): number[] {
  const body = [type, 0, 0, 0, 1, sid, fid, ...payload];
  const n = body.length;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255, ...body];
}
const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
const AGENT_HELLO = Buffer.from(frame(101, 0, 0, [
  ...str("version"),
  8,
  ...str("2.0"),
  ...str("max-frame-size"),
  3,
  0xfc,
  0xf0,
  0x06, // 16380
  ...str("capabilities"),
  8,
  ...str("pipelining"),
]));
/** set-var, 3 args, scope sess, "ip_score", INT64 type byte; the varint value follows. */
const ACTION = [1, 3, 1, ...str("ip_score"), 4];

function readVarint(b: Uint8Array, at: number): [number, number] {
  let v = b[at++];
  if (v < 240) return [v, at];
  let shift = 16;
  for (;;) {
    const c = b[at++];
    v += c * shift;
    if (c < 128) return [v, at];
    shift *= 128;
  }
}

function writeVarint(out: Uint8Array, at: number, v: number): number {
  if (v < 240) {
    out[at] = v;
    return at + 1;
  }
  out[at++] = (v & 0xff) | 0xf0;
  v = Math.floor((v - 240) / 16);
  while (v >= 128) {
    out[at++] = (v & 0xff) | 0x80;
    v = Math.floor((v - 128) / 128);
  }
  out[at++] = v;
  return at;
}

/** Skips one typed value; returns the position after it. */
function skipTyped(b: Uint8Array, at: number): number {
  const t = b[at++] & 0x0f;
  if (t <= 1) return at;
  if (t <= 5) return readVarint(b, at)[1];
  if (t === 6) return at + 4;
  if (t === 7) return at + 16;
  const [len, p] = readVarint(b, at);
  return p + len;
}

/** The last byte of the first IPv4/IPv6 argument named "ip" in a NOTIFY payload, or -1. */
function ipScore(b: Uint8Array, at: number, end: number): number {
  while (at < end) {
    const [nameLen, p] = readVarint(b, at);
    at = p + nameLen;
    const count = b[at++];
    for (let i = 0; i < count; i++) {
      const [argLen, q] = readVarint(b, at);
      const isIp = argLen === 2 && b[q] === 0x69 && b[q + 1] === 0x70;
      at = q + argLen;
      const type = b[at] & 0x0f;
      if (isIp && type === 6) return b[at + 4];
      if (isIp && type === 7) return b[at + 16];
      at = skipTyped(b, at);
    }
  }
  return -1;
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let carry: Uint8Array | undefined;
  socket.on("data", (chunk: Buffer) => {
    let b: Uint8Array = chunk;
    if (carry) {
      const joined = new Uint8Array(carry.length + chunk.length);
      joined.set(carry);
      joined.set(chunk, carry.length);
      b = joined;
      carry = undefined;
    }
    const out = Buffer.allocUnsafe(b.length * 2 + 64);
    let o = 0;
    let at = 0;
    while (b.length - at >= 4) {
      const len = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
      if (b.length - at - 4 < len) break;
      const start = at + 4;
      const end = start + len;
      at = end;
      const type = b[start];
      if (type === 1) {
        out.set(AGENT_HELLO, o);
        o += AGENT_HELLO.length;
        continue;
      }
      if (type === 2) {
        socket.end();
        return;
      }
      if (type !== 3) continue;
      const [sid, p] = readVarint(b, start + 5);
      const [fid, q] = readVarint(b, p);
      const score = ipScore(b, q, end);
      const frameAt = o;
      o += 4;
      out[o++] = 103;
      out[o++] = 0;
      out[o++] = 0;
      out[o++] = 0;
      out[o++] = 1;
      o = writeVarint(out, o, sid);
      o = writeVarint(out, o, fid);
      if (score >= 0) {
        out.set(ACTION, o);
        o = writeVarint(out, o + ACTION.length, score);
      }
      out.writeUInt32BE(o - frameAt - 4, frameAt);
    }
    if (at < b.length) carry = b.slice(at);
    if (o > 0) socket.write(out.subarray(0, o));
  });
  socket.on("error", () => {});
});

server.listen(port, host, () => {
  console.log(
    JSON.stringify({ ready: true, pid: process.pid, runtime: "minimal", address: target }),
  );
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", () => process.exit(0));
