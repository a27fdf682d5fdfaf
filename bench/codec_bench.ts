// Codec micro-benchmarks (Deno only): node_modules/.bin/deno bench --no-check bench/codec_bench.ts
// Results and the machine they ran on: BENCHMARKS.md.
import {
  ByteWriter,
  DataType,
  decodeFrame,
  encodeFrame,
  FrameType,
  NamedValue,
  setVar,
  Value,
  writeFrame,
} from "../src/codec/mod.ts";
import { readString } from "../src/codec/typed_data.ts";
import { readVarint, writeVarint } from "../src/codec/varint.ts";
import vectors from "../tests/vectors/haproxy-3.2.json" with { type: "json" };

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

// Results go here so that no benchmark body can be optimised away.
let sink = 0;

// --- NOTIFY decode ---------------------------------------------------------------------------

// What HAProxy 3.x sends for `spoe-message get-ip-reputation args ip=src`: stream-id odd, fid 1.
const typicalNotify = encodeFrame({
  type: FrameType.Notify,
  streamId: 11,
  frameId: 1,
  messages: [{
    name: "get-ip-reputation",
    args: [new NamedValue("ip", DataType.Ipv4, Value.ipv4("192.0.2.7").value)],
  }],
}).subarray(4);

// The captured 21+1-argument NOTIFY (every type HAProxy sends), from HAProxy 3.2.
const goldenNotify = fromHex(vectors.find((f) => f.kind === "notify")!.hex.slice(8));

Deno.bench({
  name: `decodeFrame() NOTIFY get-ip-reputation, 1 IPV4 arg (${typicalNotify.length} B)`,
  group: "notify-decode",
  baseline: true,
  fn() {
    sink += decodeFrame(typicalNotify).messages!.length;
  },
});

Deno.bench({
  name: `decodeFrame() golden NOTIFY, 2 messages / 22 args (${goldenNotify.length} B)`,
  group: "notify-decode",
  fn() {
    sink += decodeFrame(goldenNotify).messages![0].size;
  },
});

// --- ACK encode ------------------------------------------------------------------------------

const ackWriter = new ByteWriter(256);
const prebuilt = [setVar("sess", "ip_score", 42)];

Deno.bench({
  name: "writeFrame() ACK set-var sess.ip_score int, setVar() per call, reused ByteWriter",
  group: "ack-encode",
  baseline: true,
  fn() {
    ackWriter.truncate(0);
    sink += writeFrame(ackWriter, {
      type: FrameType.Ack,
      streamId: 11,
      frameId: 1,
      actions: [setVar("sess", "ip_score", 42)],
    });
  },
});

Deno.bench({
  name: "writeFrame() ACK set-var sess.ip_score int, action built once, reused ByteWriter",
  group: "ack-encode",
  fn() {
    ackWriter.truncate(0);
    sink += writeFrame(ackWriter, {
      type: FrameType.Ack,
      streamId: 11,
      frameId: 1,
      actions: prebuilt,
    });
  },
});

Deno.bench({
  name: "encodeFrame() ACK set-var sess.ip_score int (new buffer + copy per call)",
  group: "ack-encode",
  fn() {
    sink += encodeFrame({
      type: FrameType.Ack,
      streamId: 11,
      frameId: 1,
      actions: [setVar("sess", "ip_score", 42)],
    }).length;
  },
});

// --- varint ----------------------------------------------------------------------------------

const varintBuffer = new Uint8Array(16);
const varints: Array<[string, number | bigint]> = [
  ["42 (1 B)", 42],
  ["16380 (3 B)", 16380],
  ["2^53-1 (8 B)", Number.MAX_SAFE_INTEGER],
  ["2^64-1 bigint (10 B)", 0xffff_ffff_ffff_ffffn],
];
for (const [label, value] of varints) {
  Deno.bench({
    name: `writeVarint() ${label}`,
    group: "varint-encode",
    fn() {
      sink += writeVarint(varintBuffer, 0, value);
    },
  });
}
for (const [label, value] of varints) {
  const bytes = new Uint8Array(16);
  writeVarint(bytes, 0, value);
  const cursor = { pos: 0 };
  Deno.bench({
    name: `readVarint() ${label}`,
    group: "varint-decode",
    fn() {
      cursor.pos = 0;
      readVarint(bytes, cursor);
      sink += cursor.pos;
    },
  });
}

// --- strings ---------------------------------------------------------------------------------

const strings: Array<[string, string]> = [
  ["short ASCII (17 B)", "get-ip-reputation"],
  ["1 KiB ASCII", "x".repeat(1024)],
  ["multibyte (100 chars, 260 B)", "é€日本😀".repeat(20)],
  ["1 KiB multibyte (3-byte chars)", "€".repeat(342)],
];
const stringWriter = new ByteWriter(4096);
for (const [label, text] of strings) {
  Deno.bench({
    name: `ByteWriter.string() ${label}`,
    group: "string-encode",
    fn() {
      stringWriter.truncate(0);
      stringWriter.string(text);
      sink += stringWriter.length;
    },
  });
}
for (const [label, text] of strings) {
  stringWriter.truncate(0);
  stringWriter.string(text);
  const bytes = stringWriter.take();
  const cursor = { pos: 0 };
  Deno.bench({
    name: `readString() ${label}`,
    group: "string-decode",
    fn() {
      cursor.pos = 0;
      sink += readString(bytes, cursor, bytes.length, "bench").length;
    },
  });
}

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
