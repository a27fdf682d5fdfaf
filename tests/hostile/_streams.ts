// Hostile byte streams for the engine's property tests and the socket fuzzer (scripts/fuzz.ts):
// sessions built from the frames real HAProxy sent (tests/vectors/), damaged at the byte level,
// random bytes, and what other protocols send to a port they mistook for theirs. Also the
// well-behaved exchange the fuzzer checks meanwhile, and a connection run in memory that gives
// the bytes an agent writes for a stream.
import fc from "fast-check";
import {
  ByteWriter,
  DataType,
  encodeFrame,
  FrameType,
  Ipv4Address,
  NamedValue,
  setVar,
  writeFrame,
} from "../../src/codec/mod.ts";
import type { Agent } from "../../mod.ts";
import type { Transport, TransportSink } from "../../src/engine/transport.ts";
import { concat } from "../adapters/_helpers.ts";
import { anyMutations, mutate } from "../codec/_arbitraries.ts";
import { SCORE_MESSAGE } from "./_fuzz_handlers.ts";
import { fromHex, GOLDEN, VERSIONS } from "../codec/_golden.ts";

/** The frames HAProxy sent in the captures, grouped: a fragmented NOTIFY is one unit. */
function goldenUnits(): { hellos: Uint8Array[]; healthchecks: Uint8Array[]; units: Uint8Array[] } {
  const hellos: Uint8Array[] = [];
  const healthchecks: Uint8Array[] = [];
  const units: Uint8Array[] = [];
  for (const version of VERSIONS) {
    let fragments: string[] = [];
    for (const frame of GOLDEN.get(version)!) {
      if (frame.direction !== "haproxy->agent") continue;
      if (frame.kind === "notify-fragment") {
        fragments.push(frame.hex);
        if (frame.decoded.fin) {
          units.push(fromHex(fragments.join("")));
          fragments = [];
        }
        continue;
      }
      const bytes = fromHex(frame.hex);
      if (frame.kind === "hello") hellos.push(bytes);
      else if (frame.kind === "healthcheck-hello") healthchecks.push(bytes);
      else units.push(bytes);
    }
  }
  // A frame of a type SPOP does not define: the agent skips it after the handshake.
  units.push(encodeFrame({ type: 42, streamId: 1, frameId: 1, payload: new Uint8Array(5) }));
  return { hellos, healthchecks, units };
}

const CAPTURED = goldenUnits();

/** An HTTP request, as a health checker or a scanner sends it to the wrong port. */
export const HTTP_REQUEST: Uint8Array = new TextEncoder().encode(
  "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: probe\r\nAccept: */*\r\n\r\n",
);

/** The start of a TLS 1.2/1.3 ClientHello record: its first four bytes read as a ~369 MB length. */
export const TLS_CLIENT_HELLO: Uint8Array = fromHex(
  "16030100c4010000c00303" + "00".repeat(32) +
    "000004130113020100009300000010000e00000b6578616d706c652e636f6d",
);

/** A session HAProxy could have sent: a HELLO, then captured frames, in any order. */
export const capturedSession: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.constantFrom(...CAPTURED.hellos),
  fc.array(fc.constantFrom(...CAPTURED.units), { maxLength: 12 }),
).map(([hello, units]) => concat([hello, ...units]));

/**
 * What a hostile or broken peer sends: captured sessions damaged at the byte level, a HELLO then
 * random bytes, random bytes alone, health checks, HTTP and TLS, and lengths that announce
 * huge frames or frames shorter than a header.
 */
export const hostileStream: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(capturedSession, anyMutations).map(([s, m]) => mutate(s, m)) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(...CAPTURED.hellos), fc.uint8Array({ maxLength: 300 }))
      .map(([hello, rest]) => concat([hello, rest])),
  },
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(fc.constantFrom(...CAPTURED.healthchecks), anyMutations).map(([s, m]) => mutate(s, m)),
  fc.tuple(fc.constantFrom(HTTP_REQUEST, TLS_CLIENT_HELLO), anyMutations).map(([s, m]) =>
    mutate(s, m)
  ),
  fc.tuple(
    fc.constantFrom(new Uint8Array(0), ...CAPTURED.hellos),
    fc.constantFrom(0xffff_ffff, 0x8000_0000, 0x4745_5420, 16381, 65533, 2049, 6, 0),
  ).map(([hello, length]) => {
    const prefix = new Uint8Array(4);
    new DataView(prefix.buffer).setUint32(0, length);
    return concat([hello, prefix, new Uint8Array(16)]);
  }),
);

/** The HAPROXY-HELLO of the well-behaved connections (HAProxy 3.x's), length prefix included. */
export function goodHello(): Uint8Array {
  return CAPTURED.hellos[CAPTURED.hellos.length - 1];
}

/**
 * One `score` NOTIFY, length prefix included, and the ACK it must get.
 *
 * @param streamId The stream-id (frame-id is 1).
 * @param ip The address: the answer is its last byte.
 */
export function scoreExchange(
  streamId: number,
  ip: Uint8Array,
): { notify: Uint8Array; ack: Uint8Array } {
  const writer = new ByteWriter(64);
  writeFrame(writer, {
    type: FrameType.Notify,
    streamId,
    frameId: 1,
    messages: [{
      name: SCORE_MESSAGE,
      args: [new NamedValue("ip", DataType.Ipv4, new Ipv4Address(ip))],
    }],
  });
  const notify = writer.take();
  writeFrame(writer, {
    type: FrameType.Ack,
    streamId,
    frameId: 1,
    actions: [setVar("sess", "score", ip[3])],
  });
  return { notify, ack: writer.take() };
}

/** What an agent wrote on one in-memory connection, and whether it closed it. */
export interface MemoryOutcome {
  /** Every byte the agent wrote, in order. */
  output: Uint8Array;
  /** Whether the agent closed the connection. */
  closedByAgent: boolean;
}

/**
 * Runs one connection in memory: the chunks are handed to the agent one by one, each after the
 * agent's writes of the previous one went out (the microtask its outbox flushes in), honouring
 * pause() as a socket would. The peer then goes away, so that no timer is left.
 *
 * @param agent The agent.
 * @param chunks The bytes, in arrival order.
 * @returns What the agent wrote.
 */
export async function runInMemory(
  agent: Agent,
  chunks: readonly Uint8Array[],
): Promise<MemoryOutcome> {
  const writes: Uint8Array[] = [];
  let closedByAgent = false;
  let paused = false;
  const transport: Transport = {
    remoteAddress: "memory",
    write(bytes) {
      writes.push(bytes.slice());
      return undefined;
    },
    close() {
      if (closedByAgent) return;
      closedByAgent = true;
      queueMicrotask(() => sink.closed());
    },
    pause: () => paused = true,
    resume: () => paused = false,
  };
  const accepted = agent.accept(transport);
  if (accepted === undefined) throw new Error("the agent refused the connection");
  const sink: TransportSink = accepted;
  const turn = () => new Promise<void>((resolve) => queueMicrotask(resolve));
  for (const chunk of chunks) {
    for (let spins = 0; paused && !closedByAgent; spins++) {
      if (spins > 100) throw new Error("the agent paused reading and never resumed");
      await turn();
    }
    sink.receive(chunk);
    await turn();
  }
  for (let i = 0; i < 4; i++) await turn();
  if (!closedByAgent) sink.closed();
  return { output: concat(writes), closedByAgent };
}
