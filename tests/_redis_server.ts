// A real redis-server for the rate-limit tests, on a free loopback port with a temporary
// directory and nothing saved to disk: started, killed, started again on the same port, paused
// (SIGSTOP) and resumed, stopped. redis-server comes from scripts/install_redis.sh. Runs on Deno,
// Bun and Node.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
});

/** A port free on 127.0.0.1 right now (bound to 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Sends PING; resolves true on +PONG, false on anything else within `ms`. */
function ping(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += String(chunk);
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.on("error", () => done(false));
  });
}

/** A command Redis ran, as MONITOR reports it. */
export interface MonitoredCommand {
  /** The client that sent it (`127.0.0.1:PORT`), or `lua` for a command of a script. */
  client: string;
  /** The command and its arguments (as Redis quotes them, unquoted). */
  args: string[];
}

/** A MONITOR connection: what Redis ran since it started. */
export interface RedisMonitor {
  /** The commands so far. */
  readonly commands: MonitoredCommand[];
  /** Closes the connection. */
  stop(): void;
}

const MONITOR_LINE = /^\+[\d.]+ \[\d+ ([^\]]+)\] (.*)$/;

/** Starts MONITOR on `port`; resolves once Redis said OK. */
function monitor(port: number): Promise<RedisMonitor> {
  return new Promise((resolve, reject) => {
    const commands: MonitoredCommand[] = [];
    const socket = net.connect({ host: "127.0.0.1", port }, () => socket.write("MONITOR\r\n"));
    let pending = "";
    socket.setEncoding("utf8");
    socket.on("error", reject);
    socket.on("data", (text: string) => {
      const lines = (pending + text).split("\r\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (line === "+OK") resolve({ commands, stop: () => socket.destroy() });
        const match = MONITOR_LINE.exec(line);
        if (!match) continue;
        const args = Array.from(match[2].matchAll(/"((?:[^"\\]|\\.)*)"/g), (m) => m[1]);
        commands.push({ client: match[1], args });
      }
    });
  });
}

/** One redis-server process at a time, always on the same port. */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = "";

  private constructor(port: number) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), "spoa-redis-"));
  }

  /** `redis://127.0.0.1:PORT`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** What the server printed, all runs. */
  get log(): string {
    return this.#log;
  }

  /** Starts a server on a free port (or `port`) and waits until it answers PING. */
  static async start(port?: number): Promise<RedisServer> {
    const server = new RedisServer(port ?? await freePort());
    try {
      await server.restart();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Starts the server again (after `kill()`), on the same port, empty. */
  async restart(): Promise<void> {
    if (this.#child) throw new Error("redis-server is already running");
    const child = spawn("redis-server", [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    live.add(child);
    let spawnError: Error | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once("error", (error) => {
        spawnError = (error as NodeJS.ErrnoException).code === "ENOENT"
          ? new Error("redis-server is not installed: run bash scripts/install_redis.sh")
          : error;
        resolve();
      });
      child.once("close", () => resolve());
    }).then(() => {
      live.delete(child);
      if (this.#child === child) this.#child = undefined;
    });
    child.stdout?.setEncoding("utf8").on("data", (text: string) => void (this.#log += text));
    child.stderr?.setEncoding("utf8").on("data", (text: string) => void (this.#log += text));
    for (let i = 0; i < 200; i++) {
      if (spawnError) throw spawnError;
      if (!this.#child) throw new Error(`redis-server exited at start:\n${this.#log}`);
      if (await ping(this.port, 200)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server did not answer PING on port ${this.port}:\n${this.#log}`);
  }

  // process.kill, not child.kill: Deno's node:child_process sends only the first signal a child
  // gets through child.kill().
  #signal(signal: "SIGKILL" | "SIGSTOP" | "SIGCONT"): void {
    if (this.#child?.pid !== undefined) process.kill(this.#child.pid, signal);
  }

  /** Ends the server at once (SIGKILL, as a crash), and waits for its exit. */
  async kill(): Promise<void> {
    this.#signal("SIGKILL");
    await this.#exited;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void {
    this.#signal("SIGSTOP");
  }

  /** Lets a paused server run again (SIGCONT). */
  resume(): void {
    this.#signal("SIGCONT");
  }

  /** Watches the commands Redis runs (MONITOR), from now until `stop()`. */
  monitor(): Promise<RedisMonitor> {
    return monitor(this.port);
  }

  /** Kills the server and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
