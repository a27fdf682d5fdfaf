// Shared pieces of the adapter tests: a raw SPOP peer over node:net or node:tls (which Deno, Bun
// and Node all provide), bounded waits, a recording logger, temp dirs and a test certificate.
import * as net from "node:net";
import * as tls from "node:tls";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ActionType,
  DataType,
  decodeFrame,
  encodeFrame,
  type Frame,
  FrameReader,
  FrameType,
  type MessageInit,
  NamedValue,
  readFrameHeader,
} from "../../src/codec/mod.ts";
import type { Agent, AgentServer, ListenOptions, LogFields, Logger } from "../../mod.ts";
import { delay, within } from "../_timing.ts";

/** Starts a server for `agent`: agent.listen() or one adapter's listen(). */
export type ListenFunction = (agent: Agent, options: ListenOptions) => Promise<AgentServer>;
export { delay, within };

/** Polls `condition` every 10 ms; rejects after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}

/** A logger that keeps warnings and errors, so tests can assert there were none. */
export interface RecordingLogger extends Logger {
  readonly warnings: string[];
  readonly errors: string[];
}

/** Creates a {@linkcode RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
  const warnings: string[] = [];
  const errors: string[] = [];
  const text = (message: string, fields?: LogFields) =>
    fields?.error === undefined ? message : `${message} ${fields.error}`;
  return {
    warnings,
    errors,
    debug: () => {},
    info: () => {},
    warn: (message, fields) => warnings.push(text(message, fields)),
    error: (message, fields) => errors.push(text(message, fields)),
  };
}

/** Where a test server listens, as node:net wants it. */
export type Target = { hostname: string; port: number } | { path: string };

/** The connect target of a running server. */
export function targetOf(server: AgentServer): Target {
  const address = server.address;
  return address.transport === "unix"
    ? { path: address.path }
    : { hostname: address.hostname, port: address.port };
}

/** A fresh temp dir, removed by `cleanup()`. */
export function tempDir(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), "spoa-adapter-"));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A throwaway self-signed certificate for localhost, made with the openssl CLI. */
export function selfSignedCertificate(): { cert: string; key: string } {
  const dir = tempDir();
  try {
    const key = join(dir.path, "key.pem");
    const cert = join(dir.path, "cert.pem");
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
    ], { stdio: "ignore" });
    return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  } finally {
    dir.cleanup();
  }
}

/** PEM material for mutual TLS: a CA, a server and a client certificate it signed. */
export interface MutualTls {
  ca: string;
  server: { cert: string; key: string };
  /** The server's key encrypted with `passphrase`. */
  encryptedServerKey: string;
  passphrase: string;
  client: { cert: string; key: string };
  /** A client certificate that no CA of the server signed. */
  stranger: { cert: string; key: string };
}

/** Makes a throwaway CA with a server (localhost) and a client certificate, with the openssl CLI. */
export function mutualTls(): MutualTls {
  const dir = tempDir();
  const file = (name: string) => join(dir.path, name);
  const run = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  const read = (name: string) => readFileSync(file(name), "utf8");
  try {
    run(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=test-ca",
      "-days",
      "1",
      "-keyout",
      file("ca.key"),
      "-out",
      file("ca.pem"),
    );
    for (const [name, subject] of [["server", "/CN=localhost"], ["client", "/CN=haproxy"]]) {
      run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        subject,
        "-keyout",
        file(`${name}.key`),
        "-out",
        file(`${name}.csr`),
      );
      writeFileSync(file(`${name}.ext`), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
      run(
        "x509",
        "-req",
        "-in",
        file(`${name}.csr`),
        "-CA",
        file("ca.pem"),
        "-CAkey",
        file("ca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        file(`${name}.ext`),
        "-out",
        file(`${name}.pem`),
      );
    }
    run(
      "pkey",
      "-in",
      file("server.key"),
      "-aes256",
      "-passout",
      "pass:open sesame",
      "-out",
      file("server.enc.key"),
    );
    run(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=stranger",
      "-days",
      "1",
      "-keyout",
      file("stranger.key"),
      "-out",
      file("stranger.pem"),
    );
    return {
      ca: read("ca.pem"),
      server: { cert: read("server.pem"), key: read("server.key") },
      encryptedServerKey: read("server.enc.key"),
      passphrase: "open sesame",
      client: { cert: read("client.pem"), key: read("client.key") },
      stranger: { cert: read("stranger.pem"), key: read("stranger.key") },
    };
  } finally {
    dir.cleanup();
  }
}

/** The HAPROXY-HELLO HAProxy 3.x sends, length prefix included. */
export function helloBytes(maxFrameSize = 16380): Uint8Array {
  return encodeFrame({
    type: FrameType.HaproxyHello,
    items: [
      new NamedValue("supported-versions", DataType.String, "2.0"),
      new NamedValue("max-frame-size", DataType.Uint32, maxFrameSize),
      new NamedValue("capabilities", DataType.String, "pipelining"),
      new NamedValue("engine-id", DataType.String, "adapter-test-engine"),
    ],
  });
}

/** One NOTIFY frame, length prefix included. */
export function notifyBytes(
  streamId: number,
  frameId: number,
  messages: readonly MessageInit[],
): Uint8Array {
  return encodeFrame({ type: FrameType.Notify, streamId, frameId, messages });
}

/** The set-var values of an ACK by variable name (scope left out). */
export function varsOf(frame: Frame): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const action of frame.actions ?? []) {
    if (action.type === ActionType.SetVar) vars[action.name] = action.value.value;
  }
  return vars;
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * HAProxy's side of one connection at the byte level: it sends what it is
 * told and collects the agent's frames, decoded, in order.
 */
export class RawPeer {
  readonly socket: net.Socket;
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** Settles when the socket is closed. */
  readonly closed: Promise<void>;
  #reader = new FrameReader({ maxFrameSize: 0xffff_ffff });
  #taken = 0;
  #decode: boolean;
  #acks = 0;
  #ackWaiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(socket: net.Socket, decode: boolean) {
    this.socket = socket;
    this.#decode = decode;
    socket.on("data", (chunk: Uint8Array) => {
      this.#reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice());
      for (let raw = this.#reader.next(); raw !== undefined; raw = this.#reader.next()) {
        const frame = this.#decode ? decodeFrame(raw) : headerOnly(raw);
        this.frames.push(frame);
        if (frame.type === FrameType.Ack) this.#acks++;
      }
      this.#ackWaiters = this.#ackWaiters.filter((waiter) => {
        if (this.#acks < waiter.count) return true;
        waiter.resolve();
        return false;
      });
    });
    socket.on("error", (error: { code?: string }) => {
      if (error.code === "ECONNRESET") this.#reset = true;
    });
    socket.once("end", () => this.#sawFin = true);
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  }

  #reset = false;
  #sawFin = false;

  /** Whether the agent's side reset the connection (ECONNRESET) instead of closing it. */
  get reset(): boolean {
    return this.#reset;
  }

  /** Whether the agent's FIN arrived (a clean close of its side). */
  get sawFin(): boolean {
    return this.#sawFin;
  }

  /**
   * Connects over TCP or a Unix socket, or TLS when `tls` is set.
   *
   * @param target Where.
   * @param options `tls`: connect with TLS (any server certificate accepted), presenting a
   *   client certificate when given one; `decode`: decode each frame's payload (default true;
   *   false keeps type and ids only, for floods).
   */
  static async connect(
    target: Target,
    options: {
      tls?: boolean | { cert: string; key: string; ca?: string };
      decode?: boolean;
    } = {},
  ): Promise<RawPeer> {
    let socket: net.Socket;
    let ready: string;
    if (options.tls) {
      if ("path" in target) throw new TypeError("TLS over a Unix socket is not tested");
      const identity = typeof options.tls === "object" ? options.tls : {};
      socket = tls.connect({
        host: target.hostname,
        port: target.port,
        servername: "localhost",
        rejectUnauthorized: false,
        ...identity,
      });
      ready = "secureConnect";
    } else {
      socket = "path" in target
        ? net.connect({ path: target.path })
        : net.connect({ host: target.hostname, port: target.port });
      ready = "connect";
    }
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once(ready, () => resolve());
        socket.once("error", reject);
      }),
      5000,
      "the connection",
    );
    socket.setNoDelay(true);
    return new RawPeer(socket, options.decode ?? true);
  }

  /** Sends bytes. */
  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next frame not yet taken, waiting up to `ms`. */
  async next(ms = 5000): Promise<Frame> {
    await until(() => this.frames.length > this.#taken, "a frame from the agent", ms);
    return this.frames[this.#taken++];
  }

  /** Resolves as soon as `count` ACKs in all have arrived (no polling delay). */
  waitAcks(count: number, ms = 5000): Promise<void> {
    if (this.ackCount >= count) return Promise.resolve();
    return within(
      new Promise<void>((resolve) => this.#ackWaiters.push({ count, resolve })),
      ms,
      `${count} ACKs`,
    );
  }

  /** Sends HAPROXY-HELLO and checks the answer is AGENT-HELLO. */
  async hello(): Promise<Frame> {
    this.send(helloBytes());
    const frame = await this.next();
    if (frame.type !== FrameType.AgentHello) {
      throw new Error(`expected AGENT-HELLO, got frame type ${frame.type}`);
    }
    return frame;
  }

  /** The number of ACK frames received. */
  get ackCount(): number {
    return this.#acks;
  }

  /** Destroys the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}

function headerOnly(raw: Uint8Array): Frame {
  // Type and ids only: decoding (and keeping) 10,000 large ACKs would dominate a flood test.
  const header = readFrameHeader(raw, {
    type: 0,
    flags: 0,
    streamId: 0,
    frameId: 0,
    payloadOffset: 0,
  });
  return {
    type: header.type,
    flags: header.flags,
    streamId: header.streamId,
    frameId: header.frameId,
    payload: new Uint8Array(0),
  };
}
