// Loopback networking helpers: free ports, "is it listening" without connecting, a minimal HTTP
// client (one connection per request, bounded by a timeout) and a raw HTTP/1.1 request.
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";

function listenOnce(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen({ host, port, exclusive: true }, () => resolve(s));
  });
}

function close(s: net.Server): Promise<void> {
  return new Promise((r) => s.close(() => r()));
}

/** `n` distinct ports free on both 127.0.0.1 and ::1 (bind port 0, then release). */
export async function freePorts(n: number): Promise<number[]> {
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < n && attempt < n * 20; attempt++) {
      const v4 = await listenOnce("127.0.0.1", 0);
      held.push(v4);
      const port = (v4.address() as net.AddressInfo).port;
      try {
        held.push(await listenOnce("::1", port));
        ports.push(port);
      } catch { /* taken on ::1: keep the v4 one held so it is not offered again */ }
    }
  } finally {
    await Promise.all(held.map(close));
  }
  if (ports.length < n) throw new Error(`could not find ${n} free loopback ports`);
  return ports;
}

/** True when a TCP socket listens on `port` (read from /proc, so the agent sees no connection). */
export function tcpListening(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3 && f[1].endsWith(`:${hex}`) && f[3] === "0A") return true;
    }
  }
  return false;
}

/** True when a unix stream socket listens on `path` (/proc/net/unix, flag __SO_ACCEPTCON). */
export function unixListening(path: string): boolean {
  let text: string;
  try {
    text = readFileSync("/proc/net/unix", "utf8");
  } catch {
    return false;
  }
  return text.split("\n").some((line) => {
    const f = line.trim().split(/\s+/);
    return f.length >= 8 && f[7] === path && f[3] === "00010000";
  });
}

export interface HttpOptions {
  port: number;
  host?: string;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  localAddress?: string;
  timeoutMs?: number;
}

export interface HttpResult {
  status: number;
  body: string;
  ms: number;
}

/** One request on a fresh connection (`Connection: close`); rejects on timeout or error. */
export function request(o: HttpOptions): Promise<HttpResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: o.host ?? "127.0.0.1",
      port: o.port,
      path: o.path ?? "/",
      method: o.method ?? (o.body === undefined ? "GET" : "POST"),
      headers: o.headers,
      localAddress: o.localAddress,
      agent: false,
      timeout: o.timeoutMs ?? 10_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          ms: Date.now() - started,
        }));
      res.on("error", reject);
    });
    req.on(
      "timeout",
      () => req.destroy(new Error(`HTTP timeout after ${o.timeoutMs ?? 10_000} ms`)),
    );
    req.on("error", reject);
    req.end(o.body);
  });
}

/** Sends exactly `raw` (a whole HTTP/1.1 request) and reads one response with a Content-Length. */
export function rawRequest(host: string, port: number, raw: Buffer, timeoutMs = 10_000) {
  return new Promise<HttpResult>((resolve, reject) => {
    const started = Date.now();
    let buf = Buffer.alloc(0);
    const sock = net.connect({ host, port }, () => sock.write(raw));
    const fail = (e: Error) => {
      sock.destroy();
      reject(e);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`raw HTTP timeout after ${timeoutMs} ms`)));
    sock.on("error", fail);
    sock.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const sep = buf.indexOf("\r\n\r\n");
      if (sep < 0) return;
      const head = buf.subarray(0, sep).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      const len = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!m || !len) return fail(new Error(`unexpected response head: ${JSON.stringify(head)}`));
      if (buf.length < sep + 4 + Number(len[1])) return;
      sock.destroy();
      const body = buf.subarray(sep + 4, sep + 4 + Number(len[1])).toString("utf8");
      resolve({ status: Number(m[1]), body, ms: Date.now() - started });
    });
    sock.on(
      "close",
      () => fail(new Error(`connection closed early: ${JSON.stringify(String(buf))}`)),
    );
  });
}

/** Parses `key=value` lines (the format of every response body of the suite). */
export function parseKv(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of body.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
